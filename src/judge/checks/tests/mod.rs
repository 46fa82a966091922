//! Table-driven unit tests of the pure judge, one module per area, pinned with insta.

mod kit;

mod audio;
mod batch;
mod chat;
mod corpus;
mod embeddings;
mod errors;
mod extremes;
mod files;
mod images;
mod media;
mod models;
mod real_endpoints;
mod reasoning;
mod refusal;
mod streaming;
mod structured_output;
mod tools;
