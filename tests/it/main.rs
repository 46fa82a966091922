//! The one integration-test binary: the real CLI against real local HTTP servers.

mod support;

mod action;
mod audio;
mod batch;
mod canary;
mod cli;
mod clients;
mod compare;
mod core_areas;
mod deviations;
mod embeddings;
mod faults;
mod files;
mod floods;
mod gate;
mod hostile_input;
mod html;
mod images;
mod interrupt;
mod media;
mod project;
mod quirks;
mod reasoning;
mod replay;
mod responses;
mod runbook;
mod scheduling;
mod servers;
mod shell;
mod snapshots_store;
mod streaming;
mod structured_output;
mod tools;
