//! `ChatStream`: a streamed chat completion as the executor read it — every data event with its
//! arrival time and text, each JSON chunk parsed once into spans, the choices and tool calls
//! resolved by one rule — built while the body arrives, within a memory budget.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::json::{self, ChunkFields, EntryFields, Field, Json, Span, ToolDeltaFields};
use crate::execute::sse::{SseEvent, SseItem, SseProblemKind};

/// Framing problems kept with their detail; later ones are only counted (per kind).
const MAX_PROBLEMS_KEPT: usize = 64;
/// Event numbers remembered per list of the `[DONE]` summary (the checks show at most five).
const MAX_LISTED: usize = 8;

/// How much of a stream one exchange may keep in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Bytes of event text plus parsed records kept; the events after the one that would pass
    /// it are counted, not kept ([`StreamCut`]).
    pub max_kept_bytes: usize,
}

impl StreamLimits {
    /// The budget for a body of at most `max_body` bytes: three times that, which every stream
    /// of ordinary chat chunks fits (their records take ~1.5× their text), while a flood of
    /// tiny events is cut.
    pub fn for_max_body(max_body: usize) -> Self {
        Self {
            max_kept_bytes: max_body.saturating_mul(3).max(64 * 1024),
        }
    }
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self::for_max_body(8 * 1024 * 1024)
    }
}

/// What a stream sent beyond what one exchange keeps: counted, never judged. In `report.json`
/// and recordings as `stream_cut` (fields in alphabetical order, as recordings are written).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamCut {
    /// The dropped events' data bytes.
    pub bytes_dropped: u64,
    /// Data events after the kept ones, counted only.
    pub events_dropped: u64,
    /// Data events kept (and judged).
    pub events_kept: u64,
    /// The limit that cut the stream (bytes of event text and parsed records per exchange).
    pub limit_bytes: u64,
}

/// How the executor stopped reading a stream that had sent `data: [DONE]`, when it was not
/// the endpoint closing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldAfterDone {
    /// `true` when the whole-exchange deadline ended it (the endpoint kept sending, comments
    /// or events), `false` for the idle timeout (it went silent).
    pub deadline: bool,
}

/// Where `[DONE]` came, over every event (kept or only counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoneSummary {
    /// How many `[DONE]` events.
    pub count: u64,
    /// The first few `[DONE]` event numbers.
    pub events: Vec<u64>,
    /// Events after the first `[DONE]` that are not `[DONE]`.
    pub after: u64,
    /// The first few of their numbers.
    pub after_events: Vec<u64>,
}

/// One framing problem, where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: SseProblemKind,
    pub detail: Box<str>,
    /// Data events dispatched before it.
    pub after_events: u64,
}

#[derive(Debug, Clone, Copy)]
enum What {
    Done,
    NotJson,
    /// JSON that is not an object.
    Json(Field),
    /// A JSON object: `chunks[i]`.
    Chunk(u32),
}

#[derive(Debug, Clone)]
struct EventRec {
    data: Span,
    at: u64,
    first_byte_at: u64,
    what: What,
    unterminated: bool,
}

#[derive(Debug, Clone)]
struct ChunkRec {
    event: u32,
    fields: ChunkFields,
    /// `entries[first..first + count]`.
    entries: (u32, u32),
}

#[derive(Debug, Clone)]
struct EntryRec {
    chunk: u32,
    /// Place in the chunk's `choices` array.
    position: u32,
    /// The choice it belongs to (see the module's rule).
    choice: u64,
    fields: EntryFields,
    /// `deltas[first..first + count]`.
    deltas: (u32, u32),
}

#[derive(Debug, Clone)]
struct DeltaRec {
    entry: u32,
    position: u32,
    call: u32,
    fields: ToolDeltaFields,
}

#[derive(Debug, Clone)]
struct ChoiceRec {
    index: u64,
    entries: Vec<u32>,
}

#[derive(Debug, Clone)]
struct CallRec {
    choice: u64,
    index: u64,
    /// Opened by a delta without an integer `index`: the index is the one it was given.
    implicit: bool,
    deltas: Vec<u32>,
}

/// The one model of a streamed chat completion. See the module documentation for the rules.
#[derive(Debug, Clone, Default)]
pub struct ChatStream {
    text: String,
    events: Vec<EventRec>,
    /// Kept event → its `event:` type, for the events whose type is not `message`.
    types: Vec<(u32, Box<str>)>,
    chunks: Vec<ChunkRec>,
    entries: Vec<EntryRec>,
    deltas: Vec<DeltaRec>,
    /// By choice index.
    choices: Vec<ChoiceRec>,
    calls: Vec<CallRec>,
    problems: Vec<Problem>,
    problem_counts: [u64; 4],
    comments: u64,
    cut: Option<StreamCut>,
    dones: DoneSummary,
    /// Every data event, kept or counted.
    event_count: u64,
    /// Data events that are not `[DONE]`, kept or counted.
    chunk_count: u64,
    last_unterminated: bool,
    ttft: Option<u64>,
    held: Option<HeldAfterDone>,
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u64::MAX as u128) as u64
}

fn kind_slot(k: SseProblemKind) -> usize {
    match k {
        SseProblemKind::InvalidUtf8 => 0,
        SseProblemKind::UnterminatedEvent => 1,
        SseProblemKind::UnknownField => 2,
        SseProblemKind::LineTooLong => 3,
    }
}

fn is_done(data: &str) -> bool {
    data.trim() == "[DONE]"
}

// ---------------------------------------------------------------------------------------------
// Building.

/// Per choice: how tool-call deltas are assigned to calls.
#[derive(Debug, Default)]
struct CallState {
    by_index: BTreeMap<u64, u32>,
    by_id: HashMap<String, u32>,
    last: Option<u32>,
    /// One more than the highest index seen (the index a call opened without one takes).
    next_index: u64,
}

/// Builds a [`ChatStream`] from the parser's items as they arrive.
#[derive(Debug)]
pub struct StreamBuilder {
    s: ChatStream,
    limits: StreamLimits,
    /// Bytes of text and records kept so far (what `limits` bounds).
    kept: usize,
    choice_slots: BTreeMap<u64, usize>,
    call_state: BTreeMap<u64, CallState>,
}

impl StreamBuilder {
    pub fn new(limits: StreamLimits) -> Self {
        Self {
            s: ChatStream::default(),
            limits,
            kept: 0,
            choice_slots: BTreeMap::new(),
            call_state: BTreeMap::new(),
        }
    }

    /// Whether a `[DONE]` has arrived (kept or counted).
    pub fn saw_done(&self) -> bool {
        self.s.dones.count > 0
    }

    /// Data events so far.
    pub fn event_count(&self) -> u64 {
        self.s.event_count
    }

    pub fn push(&mut self, item: SseItem) {
        match item {
            SseItem::Comment { .. } => self.s.comments += 1,
            SseItem::Problem(p) => {
                self.s.problem_counts[kind_slot(p.kind)] += 1;
                if self.s.problems.len() < MAX_PROBLEMS_KEPT {
                    self.s.problems.push(Problem {
                        kind: p.kind,
                        detail: p.detail.into(),
                        after_events: self.s.event_count,
                    });
                }
            }
            SseItem::Event(e) => self.event(e),
        }
    }

    fn event(&mut self, e: SseEvent) {
        self.s.event_count += 1;
        let n = self.s.event_count;
        self.s.last_unterminated = e.unterminated;
        let done = is_done(&e.data);
        if done {
            self.s.dones.count += 1;
            if self.s.dones.events.len() < MAX_LISTED {
                self.s.dones.events.push(n);
            }
        } else {
            self.s.chunk_count += 1;
            if self.s.dones.count > 0 {
                self.s.dones.after += 1;
                if self.s.dones.after_events.len() < MAX_LISTED {
                    self.s.dones.after_events.push(n);
                }
            }
        }
        if let Some(cut) = &mut self.s.cut {
            cut.events_dropped += 1;
            cut.bytes_dropped += e.data.len() as u64;
            return;
        }
        if !self.keep(&e, done) {
            self.s.cut = Some(StreamCut {
                events_kept: n - 1,
                events_dropped: 1,
                bytes_dropped: e.data.len() as u64,
                limit_bytes: self.limits.max_kept_bytes as u64,
            });
        }
    }

    /// Keeps the event, or returns `false` (leaving nothing behind) when it does not fit.
    fn keep(&mut self, e: &SseEvent, done: bool) -> bool {
        let marks = self.marks();
        let start = self.s.text.len();
        self.s.text.push_str(&e.data);
        let data = Span::at(start, e.data.len());
        let mut cost = e.data.len() + size_of::<EventRec>();
        let what = if done {
            What::Done
        } else {
            let part = json::trimmed_json(data.get(&self.s.text));
            let span = Span::within(&self.s.text, part);
            match json::classify(part) {
                Err(_) => What::NotJson,
                Ok(false) => What::Json(Field::from_span(span).expect("JSON is never empty")),
                Ok(true) => {
                    let event = self.s.events.len() as u32;
                    let (c, extra) = self.chunk(event, span);
                    cost += extra;
                    What::Chunk(c)
                }
            }
        };
        if e.event != "message" {
            cost += e.event.len() + 16;
        }
        if self.kept + cost > self.limits.max_kept_bytes {
            self.rollback(marks);
            return false;
        }
        self.kept += cost;
        let index = self.s.events.len() as u32;
        if e.event != "message" {
            self.s.types.push((index, e.event.as_str().into()));
        }
        if self.s.ttft.is_none() && self.carries_output(what) {
            self.s.ttft = Some(nanos(e.first_byte_at));
        }
        self.s.events.push(EventRec {
            data,
            at: nanos(e.at),
            first_byte_at: nanos(e.first_byte_at),
            what,
            unterminated: e.unterminated,
        });
        true
    }

    /// Parses the chunk at `text[start..start + len]` and files its records; returns its
    /// index and the bytes they take.
    fn chunk(&mut self, event: u32, part: Span) -> (u32, usize) {
        let mut cost = size_of::<ChunkRec>();
        let parsed = {
            let text = &self.s.text;
            json::parse_chunk(text, part.get(text)).ok()
        };
        let parsed = match parsed {
            Some(p) => p,
            None => {
                // A duplicated member: read it as `Value` does (the last one wins), write that
                // back as text, and read the spans from there.
                let value: serde_json::Value =
                    serde_json::from_str(part.get(&self.s.text)).unwrap_or_default();
                let at = self.s.text.len();
                self.s.text.push_str(&value.to_string());
                cost += self.s.text.len() - at;
                let text = &self.s.text;
                json::parse_chunk(text, &text[at..]).unwrap_or_default()
            }
        };
        let c = self.s.chunks.len() as u32;
        let first_entry = self.s.entries.len() as u32;
        for (position, (fields, deltas)) in parsed.entries.into_iter().enumerate() {
            let choice = fields
                .index
                .map(|f| f.read(&self.s.text))
                .and_then(|j| j.as_u64())
                .unwrap_or(position as u64);
            let e = self.s.entries.len() as u32;
            let slot = match self.choice_slots.get(&choice) {
                Some(&s) => s,
                None => {
                    self.choice_slots.insert(choice, self.s.choices.len());
                    self.s.choices.push(ChoiceRec {
                        index: choice,
                        entries: Vec::new(),
                    });
                    cost += size_of::<ChoiceRec>();
                    self.s.choices.len() - 1
                }
            };
            self.s.choices[slot].entries.push(e);
            let first_delta = self.s.deltas.len() as u32;
            let count = deltas.len() as u32;
            for (k, d) in deltas.into_iter().enumerate() {
                let id = self.s.deltas.len() as u32;
                let (call, extra) = self.assign(choice, &d, id);
                cost += extra + size_of::<DeltaRec>() + 4;
                self.s.deltas.push(DeltaRec {
                    entry: e,
                    position: k as u32,
                    call,
                    fields: d,
                });
            }
            cost += size_of::<EntryRec>() + 4;
            self.s.entries.push(EntryRec {
                chunk: c,
                position: position as u32,
                choice,
                fields,
                deltas: (first_delta, count),
            });
        }
        let count = self.s.entries.len() as u32 - first_entry;
        self.s.chunks.push(ChunkRec {
            event,
            fields: parsed.fields,
            entries: (first_entry, count),
        });
        (c, cost)
    }

    /// The call a tool-call delta belongs to (the module's rule), and the bytes a new call or
    /// id takes.
    fn assign(&mut self, choice: u64, d: &ToolDeltaFields, delta: u32) -> (u32, usize) {
        let text = &self.s.text;
        let index = d.index.map(|f| f.read(text)).and_then(|j| j.as_u64());
        let id =
            d.id.map(|f| f.read(text))
                .and_then(|j| j.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.into_owned());
        let named = d.name.is_some_and(|f| f.read(text).is_non_empty_str());
        let st = self.call_state.entry(choice).or_default();
        let known_id = id.as_ref().and_then(|i| st.by_id.get(i).copied());
        let mut cost = 0;
        let existing = match index {
            Some(i) => st.by_index.get(&i).copied(),
            None if known_id.is_some() => known_id,
            None if id.is_some() || named => None,
            None => st.last,
        };
        let slot = match existing {
            Some(s) => s,
            None => {
                let (i, implicit) = match index {
                    Some(i) => (i, false),
                    None => (st.next_index, true),
                };
                let slot = self.s.calls.len() as u32;
                self.s.calls.push(CallRec {
                    choice,
                    index: i,
                    implicit,
                    deltas: Vec::new(),
                });
                st.by_index.insert(i, slot);
                st.next_index = st.next_index.max(i.saturating_add(1));
                cost += size_of::<CallRec>() + 64;
                slot
            }
        };
        if let Some(id) = id {
            cost += id.len() + 48;
            st.by_id.entry(id).or_insert(slot);
        }
        st.last = Some(slot);
        self.s.calls[slot as usize].deltas.push(delta);
        (slot, cost)
    }

    fn carries_output(&self, what: What) -> bool {
        let What::Chunk(c) = what else { return false };
        let text = &self.s.text;
        let chunk = &self.s.chunks[c as usize];
        let (first, count) = chunk.entries;
        self.s.entries[first as usize..(first + count) as usize]
            .iter()
            .any(|e| {
                let f = &e.fields;
                let non_empty =
                    |x: Option<Field>| x.is_some_and(|x| x.read(text).is_non_empty_str());
                non_empty(f.content)
                    || non_empty(f.reasoning_content)
                    || non_empty(f.reasoning)
                    || f.function_call
                        .is_some_and(|c| c.read(text).kind() == json::JsonType::Object)
                    || f.tool_calls.is_some_and(|t| {
                        let j = t.read(text);
                        j.kind() == json::JsonType::Array && !j.is_empty_array()
                    })
            })
    }

    fn marks(&self) -> Marks {
        Marks {
            text: self.s.text.len(),
            chunks: self.s.chunks.len(),
            entries: self.s.entries.len(),
            deltas: self.s.deltas.len(),
            choices: self.s.choices.len(),
            calls: self.s.calls.len(),
        }
    }

    /// Undoes the records of an event that did not fit. Call state is not rolled back: no
    /// event after a cut is kept, so it is never read again.
    fn rollback(&mut self, m: Marks) {
        let s = &mut self.s;
        s.text.truncate(m.text);
        s.chunks.truncate(m.chunks);
        s.entries.truncate(m.entries);
        s.deltas.truncate(m.deltas);
        s.choices.truncate(m.choices);
        s.calls.truncate(m.calls);
        for c in &mut s.choices {
            while c.entries.last().is_some_and(|&e| e as usize >= m.entries) {
                c.entries.pop();
            }
        }
        for c in &mut s.calls {
            while c.deltas.last().is_some_and(|&d| d as usize >= m.deltas) {
                c.deltas.pop();
            }
        }
    }

    /// The stream, with how reading ended when it was not the endpoint closing it after
    /// `[DONE]` (`held`).
    pub fn finish(mut self, held: Option<HeldAfterDone>) -> ChatStream {
        self.s.held = held;
        self.s.choices.sort_by_key(|c| c.index);
        self.s.text.shrink_to_fit();
        self.s.events.shrink_to_fit();
        self.s.chunks.shrink_to_fit();
        self.s.entries.shrink_to_fit();
        self.s.deltas.shrink_to_fit();
        self.s
    }
}

struct Marks {
    text: usize,
    chunks: usize,
    entries: usize,
    deltas: usize,
    choices: usize,
    calls: usize,
}

// ---------------------------------------------------------------------------------------------
// Reading.

impl ChatStream {
    /// The stream of a complete body received all at once (every time zero), under the default
    /// limits: for tests and tools that have the bytes already.
    pub fn parse(bytes: &[u8]) -> ChatStream {
        Self::parse_with(bytes, StreamLimits::default())
    }

    pub fn parse_with(bytes: &[u8], limits: StreamLimits) -> ChatStream {
        let mut b = StreamBuilder::new(limits);
        let mut p = crate::execute::sse::SseParser::new();
        p.feed_with(bytes, Duration::ZERO, &mut |item| b.push(item));
        p.finish_with(Duration::ZERO, &mut |item| b.push(item));
        b.finish(None)
    }

    /// The heap the model holds (capacities, not lengths): what the budget bounds.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.events.capacity() * size_of::<EventRec>()
            + self.types.iter().map(|(_, t)| t.len() + 24).sum::<usize>()
            + self.chunks.capacity() * size_of::<ChunkRec>()
            + self.entries.capacity() * size_of::<EntryRec>()
            + self.deltas.capacity() * size_of::<DeltaRec>()
            + self
                .choices
                .iter()
                .map(|c| size_of::<ChoiceRec>() + 4 * c.entries.capacity())
                .sum::<usize>()
            + self
                .calls
                .iter()
                .map(|c| size_of::<CallRec>() + 4 * c.deltas.capacity())
                .sum::<usize>()
            + self
                .problems
                .iter()
                .map(|p| size_of::<Problem>() + p.detail.len())
                .sum::<usize>()
    }

    /// The kept data events, numbered from 1.
    pub fn events(&self) -> impl Iterator<Item = Event<'_>> {
        (0..self.events.len() as u32).map(|i| Event { s: self, i })
    }

    /// Every data event the stream sent, kept or only counted.
    pub fn event_count(&self) -> u64 {
        self.event_count
    }

    /// Data events other than `[DONE]`, kept or only counted.
    pub fn chunk_count(&self) -> u64 {
        self.chunk_count
    }

    /// Comment lines (`: ping`): legal, counted, never kept.
    pub fn comment_count(&self) -> u64 {
        self.comments
    }

    /// The first framing problems (at most 64), in stream order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// How many framing problems of `kind` the stream had (all of them, kept or not).
    pub fn problem_count(&self, kind: SseProblemKind) -> u64 {
        self.problem_counts[kind_slot(kind)]
    }

    pub fn problem_total(&self) -> u64 {
        self.problem_counts.iter().sum()
    }

    /// What was counted but not kept, when the stream outgrew the exchange's budget.
    pub fn cut(&self) -> Option<&StreamCut> {
        self.cut.as_ref()
    }

    pub fn dones(&self) -> &DoneSummary {
        &self.dones
    }

    /// Whether the last data event (kept or not) ended without its blank line.
    pub fn last_unterminated(&self) -> bool {
        self.last_unterminated
    }

    /// The connection stayed open after `[DONE]` until the executor gave up.
    pub fn held_after_done(&self) -> Option<&HeldAfterDone> {
        self.held.as_ref()
    }

    /// When the first data event carrying output (text, reasoning or a tool-call delta)
    /// started arriving.
    pub fn ttft(&self) -> Option<Duration> {
        self.ttft.map(Duration::from_nanos)
    }

    /// Completion times of the kept events that are not `[DONE]`.
    pub fn chunk_times(&self) -> impl Iterator<Item = Duration> + '_ {
        self.events
            .iter()
            .filter(|e| !matches!(e.what, What::Done))
            .map(|e| Duration::from_nanos(e.at))
    }

    /// The JSON objects that are chunks: an `error` member that is not null makes an error
    /// event instead ([`Event::error`]), judged by `streaming.error_event` alone.
    pub fn chunks(&self) -> impl Iterator<Item = Chunk<'_>> {
        (0..self.chunks.len() as u32)
            .map(|i| Chunk { s: self, i })
            .filter(|c| !c.is_error())
    }

    /// Every `choices[]` entry of every chunk, in stream order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        (0..self.entries.len() as u32).map(|i| Entry { s: self, i })
    }

    /// The choices by index, each with its entries in stream order.
    pub fn choices(&self) -> impl Iterator<Item = Choice<'_>> {
        self.choices.iter().map(|c| Choice { s: self, c })
    }

    /// The tool calls of every choice, in order of first appearance.
    pub fn tool_calls(&self) -> impl Iterator<Item = Call<'_>> {
        (0..self.calls.len() as u32).map(|i| Call { s: self, i })
    }

    /// The last non-null `usage` of a chunk, as a client keeps it.
    pub fn last_usage(&self) -> Option<Json<'_>> {
        self.chunks()
            .filter_map(|c| c.usage().filter(|u| !u.is_null()))
            .last()
    }

    /// The first JSON event (not `[DONE]`), parsed now: the shape a report shows for a stream.
    pub fn first_json(&self) -> Option<serde_json::Value> {
        self.events().find_map(|e| match e.kind() {
            EventKind::Chunk(c) => Some(c.value()),
            EventKind::Json(j) => Some(j.value()),
            _ => None,
        })
    }
}

/// One kept data event.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    s: &'a ChatStream,
    i: u32,
}

/// What an event's data is.
#[derive(Clone, Copy)]
pub enum EventKind<'a> {
    /// `[DONE]`.
    Done,
    /// Not JSON ([`Event::json_error`] says why).
    NotJson,
    /// JSON that is not an object (an array, a string…).
    Json(Json<'a>),
    /// A JSON object: a chunk, or an error object ([`Chunk::is_error`]).
    Chunk(Chunk<'a>),
}

impl<'a> Event<'a> {
    fn rec(&self) -> &'a EventRec {
        &self.s.events[self.i as usize]
    }

    /// Its number, counting data events from 1.
    pub fn n(&self) -> u64 {
        u64::from(self.i) + 1
    }

    /// "event #N", as reasons name it.
    pub fn at(&self) -> String {
        format!("event #{}", self.n())
    }

    pub fn data(&self) -> &'a str {
        self.rec().data.get(&self.s.text)
    }

    /// The `event:` type (`message` unless the endpoint named one).
    pub fn event_type(&self) -> &'a str {
        match self.s.types.binary_search_by_key(&self.i, |(i, _)| *i) {
            Ok(k) => &self.s.types[k].1,
            Err(_) => "message",
        }
    }

    pub fn arrived(&self) -> Duration {
        Duration::from_nanos(self.rec().at)
    }

    pub fn first_byte(&self) -> Duration {
        Duration::from_nanos(self.rec().first_byte_at)
    }

    /// Dispatched only because the stream ended (no blank line after it).
    pub fn unterminated(&self) -> bool {
        self.rec().unterminated
    }

    pub fn kind(&self) -> EventKind<'a> {
        match self.rec().what {
            What::Done => EventKind::Done,
            What::NotJson => EventKind::NotJson,
            What::Json(f) => EventKind::Json(f.read(&self.s.text)),
            What::Chunk(c) => EventKind::Chunk(Chunk { s: self.s, i: c }),
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.rec().what, What::Done)
    }

    /// Why the data is not JSON (serde_json's message), for a `NotJson` event.
    pub fn json_error(&self) -> Option<String> {
        match self.rec().what {
            What::NotJson => json::classify(self.data()).err().map(|e| e.to_string()),
            _ => None,
        }
    }

    /// The data as a `serde_json::Value`, parsed now (`None` when it is not JSON).
    pub fn value(&self) -> Option<serde_json::Value> {
        match self.kind() {
            EventKind::Done | EventKind::NotJson => None,
            _ => serde_json::from_str(self.data()).ok(),
        }
    }

    /// The error this event carries: a non-null `error` member of an object, the `error` of
    /// an element of an array (`[{"error": …}]`, as Gemini words errors), or the data of an
    /// `event: error`. The message when there is one, else the error as JSON.
    pub fn error(&self) -> Option<String> {
        let message = |e: serde_json::Value| {
            e.get("message")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string())
        };
        let found = match self.kind() {
            EventKind::Chunk(c) => c.error().map(|e| e.value()),
            EventKind::Json(j) if j.kind() == json::JsonType::Array => match j.value() {
                serde_json::Value::Array(a) => a
                    .into_iter()
                    .find_map(|mut x| x.get_mut("error").map(serde_json::Value::take)),
                _ => None,
            },
            _ => None,
        };
        match found {
            Some(e) => Some(message(e)),
            None if self.event_type() == "error" => Some(self.data().to_string()),
            None => None,
        }
    }
}

/// One JSON object event.
#[derive(Clone, Copy)]
pub struct Chunk<'a> {
    s: &'a ChatStream,
    i: u32,
}

impl<'a> Chunk<'a> {
    fn rec(&self) -> &'a ChunkRec {
        &self.s.chunks[self.i as usize]
    }

    fn read(&self, f: Option<Field>) -> Option<Json<'a>> {
        f.map(|f| f.read(&self.s.text))
    }

    pub fn event(&self) -> Event<'a> {
        Event {
            s: self.s,
            i: self.rec().event,
        }
    }

    /// A non-null `error` member.
    pub fn error(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.error).filter(|e| !e.is_null())
    }

    pub fn is_error(&self) -> bool {
        self.error().is_some()
    }

    /// A member the model keeps: `id`, `object`, `created`, `model`, `system_fingerprint`,
    /// `service_tier`, `usage`, `choices` (any other name: `None`).
    pub fn get(&self, member: &str) -> Option<Json<'a>> {
        let f = &self.rec().fields;
        self.read(match member {
            "id" => f.id,
            "object" => f.object,
            "created" => f.created,
            "model" => f.model,
            "system_fingerprint" => f.system_fingerprint,
            "service_tier" => f.service_tier,
            "usage" => f.usage,
            "choices" => f.choices,
            _ => None,
        })
    }

    pub fn id(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.id)
    }

    pub fn created(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.created)
    }

    pub fn usage(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.usage)
    }

    pub fn choices(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.choices)
    }

    /// Its `choices[]` entries (none for an error object or a `choices` that is not an array).
    pub fn entries(&self) -> impl Iterator<Item = Entry<'a>> + 'a {
        let (first, count) = self.rec().entries;
        let s = self.s;
        (first..first + count).map(move |i| Entry { s, i })
    }

    /// The chunk as a `serde_json::Value`, parsed now (for a schema). `Null` for a number
    /// beyond what serde_json holds.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.event().data()).unwrap_or_default()
    }
}

/// One `choices[]` entry of a chunk.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    s: &'a ChatStream,
    i: u32,
}

impl<'a> Entry<'a> {
    fn rec(&self) -> &'a EntryRec {
        &self.s.entries[self.i as usize]
    }

    fn read(&self, f: Option<Field>) -> Option<Json<'a>> {
        f.map(|f| f.read(&self.s.text))
    }

    pub fn chunk(&self) -> Chunk<'a> {
        Chunk {
            s: self.s,
            i: self.rec().chunk,
        }
    }

    pub fn event(&self) -> Event<'a> {
        self.chunk().event()
    }

    /// Its place in the chunk's `choices` array.
    pub fn position(&self) -> usize {
        self.rec().position as usize
    }

    /// The choice it belongs to: its integer `index`, else its position in `choices`.
    pub fn choice(&self) -> u64 {
        self.rec().choice
    }

    pub fn index(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.index)
    }

    pub fn delta(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.delta)
    }

    pub fn finish_reason(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.finish_reason)
    }

    /// A `finish_reason` that is present and not null.
    pub fn finish(&self) -> Option<Json<'a>> {
        self.finish_reason().filter(|f| !f.is_null())
    }

    pub fn logprobs(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.logprobs)
    }

    /// `delta.role`, `delta.content`…: a member of the delta.
    pub fn role(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.role)
    }

    pub fn content(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.content)
    }

    pub fn refusal(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.refusal)
    }

    pub fn reasoning_content(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.reasoning_content)
    }

    pub fn reasoning(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.reasoning)
    }

    pub fn tool_calls(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.tool_calls)
    }

    /// `delta.function_call`: the deprecated `functions` API's call fragments.
    pub fn function_call(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.function_call)
    }

    /// The entries of `delta.tool_calls` (none when it is not an array).
    pub fn tool_deltas(&self) -> impl Iterator<Item = ToolDelta<'a>> + 'a {
        let (first, count) = self.rec().deltas;
        let s = self.s;
        (first..first + count).map(move |i| ToolDelta { s, i })
    }
}

/// One choice: every entry carrying its index, in stream order.
#[derive(Clone, Copy)]
pub struct Choice<'a> {
    s: &'a ChatStream,
    c: &'a ChoiceRec,
}

impl<'a> Choice<'a> {
    pub fn index(&self) -> u64 {
        self.c.index
    }

    pub fn entries(&self) -> impl ExactSizeIterator<Item = Entry<'a>> + 'a {
        let s = self.s;
        self.c.entries.iter().map(move |&i| Entry { s, i })
    }

    pub fn len(&self) -> usize {
        self.c.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.c.entries.is_empty()
    }

    /// The tool calls of this choice, in order of first appearance.
    pub fn tool_calls(&self) -> impl Iterator<Item = Call<'a>> + 'a {
        let (s, index) = (self.s, self.c.index);
        s.tool_calls().filter(move |c| c.choice() == index)
    }
}

/// One entry of a delta's `tool_calls`.
#[derive(Clone, Copy)]
pub struct ToolDelta<'a> {
    s: &'a ChatStream,
    i: u32,
}

impl<'a> ToolDelta<'a> {
    fn rec(&self) -> &'a DeltaRec {
        &self.s.deltas[self.i as usize]
    }

    fn read(&self, f: Option<Field>) -> Option<Json<'a>> {
        f.map(|f| f.read(&self.s.text))
    }

    pub fn entry(&self) -> Entry<'a> {
        Entry {
            s: self.s,
            i: self.rec().entry,
        }
    }

    /// Its place in the delta's `tool_calls` array.
    pub fn position(&self) -> usize {
        self.rec().position as usize
    }

    /// Where it is, as reasons name it: `event #N $.choices[i].delta.tool_calls[k]`.
    pub fn at(&self) -> String {
        let e = self.entry();
        format!(
            "event #{} $.choices[{}].delta.tool_calls[{}]",
            e.event().n(),
            e.position(),
            self.position()
        )
    }

    /// Whether it opened its call.
    pub fn is_first(&self) -> bool {
        self.s.calls[self.rec().call as usize].deltas.first() == Some(&self.i)
    }

    /// The call it was assigned to.
    pub fn call(&self) -> Call<'a> {
        Call {
            s: self.s,
            i: self.rec().call,
        }
    }

    pub fn index(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.index)
    }

    pub fn id(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.id)
    }

    /// `type`.
    pub fn kind(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.kind)
    }

    pub fn function(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.function)
    }

    /// `function.name`.
    pub fn name(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.name)
    }

    /// `function.arguments`.
    pub fn arguments(&self) -> Option<Json<'a>> {
        self.read(self.rec().fields.arguments)
    }
}

/// One tool call: the deltas assigned to it.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    s: &'a ChatStream,
    i: u32,
}

impl<'a> Call<'a> {
    fn rec(&self) -> &'a CallRec {
        &self.s.calls[self.i as usize]
    }

    pub fn choice(&self) -> u64 {
        self.rec().choice
    }

    /// Its `index`: as sent, or the one it was given when its deltas carried none.
    pub fn index(&self) -> u64 {
        self.rec().index
    }

    /// Opened by a delta without an integer `index` (QUIRKS S1).
    pub fn implicit(&self) -> bool {
        self.rec().implicit
    }

    pub fn deltas(&self) -> impl Iterator<Item = ToolDelta<'a>> + 'a {
        let s = self.s;
        self.rec().deltas.iter().map(move |&i| ToolDelta { s, i })
    }

    pub fn first(&self) -> ToolDelta<'a> {
        ToolDelta {
            s: self.s,
            i: self.rec().deltas[0],
        }
    }

    /// The first non-null value of a member over its deltas (`id`, `type`, `function.name`).
    pub fn first_of(&self, member: fn(&ToolDelta<'a>) -> Option<Json<'a>>) -> Option<Json<'a>> {
        self.deltas()
            .find_map(|d| member(&d).filter(|v| !v.is_null()))
    }

    /// The string argument fragments concatenated (fragments that are not strings skipped).
    pub fn arguments(&self) -> String {
        let mut out = String::new();
        for d in self.deltas() {
            if let Some(a) = d.arguments().and_then(|a| a.as_str()) {
                out.push_str(&a);
            }
        }
        out
    }
}
