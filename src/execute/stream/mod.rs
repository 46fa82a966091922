//! The one model of a streamed chat completion ([`ChatStream`]), built by the executor while the
//! body arrives and read by everything after it: the `streaming.*` and `tools.*` checks, stream
//! snapshots, the report and recordings. Each event's data is parsed once; nobody else parses a
//! chunk, so every reader sees the same chunks, choices and tool calls.
//!
//! # What is kept, and the budget
//!
//! Each data event keeps its arrival times (first byte, complete), its text, and — for a JSON
//! object — the spans of the members the checks read, typed when read. Comment lines are
//! counted; framing problems are counted per kind, the first 64 kept with their detail. What
//! the events and their records take is bounded per exchange ([`StreamLimits`], three times
//! `--max-body`): the event that would pass the budget and every one after it are counted
//! (events, bytes, `[DONE]`s and what follows them) but not kept, and [`ChatStream::cut`] says
//! so. The judge then gives the case an `error` naming the cut, and `report.json` and the
//! recording carry it as `stream_cut`.
//!
//! # Choices
//!
//! An entry of a chunk's `choices` belongs to the choice its integer `index` names; an entry
//! without one belongs to the choice of its position in that array (so the usual one-choice
//! stream is choice 0 either way). `streaming.n` reports every entry without an index.
//!
//! # Tool calls: one rule, including a missing `index` (QUIRKS S1)
//!
//! The deltas of each choice are assigned to calls in stream order:
//!
//! 1. A delta with an integer `index` continues the call with that index, or opens it.
//! 2. A delta without one (absent, null, or not an integer):
//!    - with a non-empty `id` that a call of the choice already carries: that call;
//!    - else with a non-empty `id` or a non-empty `function.name`: a new call;
//!    - else (a bare argument fragment): the call the previous delta of the choice went to,
//!      or a new call when there was none.
//!
//!    A call opened this way takes the next free index (one more than the highest so far), so
//!    a later delta that does carry that index continues it.
//!
//! Gemini sends each call whole in one delta without an index: two calls stay two calls, each
//! with its own arguments, in the tools checks, the reassembled message, snapshots and the
//! report alike. What real clients do with such deltas differs, which is why the checks still
//! fail the missing index:
//!
//! - openai-python's `ChatCompletionStreamState` raises `TypeError` (it indexes a list with
//!   `None`);
//! - openai-node's `ChatCompletionStream` files every such delta under the key `undefined`:
//!   the completion has no tool calls at all, and no error is raised;
//! - the Vercel AI SDK (`StreamingToolCallTracker`, used by `@ai-sdk/openai-compatible`)
//!   applies the rule above, except that a bare fragment is dropped when several calls are
//!   open (here it continues the latest, so its bytes are still judged);
//! - LangChain (`merge_lists`) makes every delta without an integer index a call of its own;
//! - accumulators that default the index to 0 (common in Go) merge all calls into one whose
//!   arguments read `{"x":1}{"y":2}`.

mod fold;
mod json;
mod model;

pub use fold::Reassembled;
pub use json::{Json, JsonType};
pub use model::{
    Call, ChatStream, Choice, Chunk, DoneSummary, Entry, Event, EventKind, HeldAfterDone, Problem,
    StreamBuilder, StreamCut, StreamLimits, ToolDelta,
};

#[cfg(test)]
mod tests;
