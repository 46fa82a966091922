//! A Server-Sent Events parser that follows the WHATWG "event stream interpretation" rules
//! exactly, keeps each event's arrival time, and reports framing problems instead of hiding them.
//!
//! Spec: <https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>
//!
//! Where we knowingly go beyond what a browser does, it is to *show* more, never to accept
//! more silently:
//! - Bytes that are not UTF-8 are decoded with U+FFFD exactly as the spec says, and reported
//!   ([`SseProblemKind::InvalidUtf8`]).
//! - Fields the spec ignores (`dta: x`) are ignored, and reported
//!   ([`SseProblemKind::UnknownField`]).
//! - A stream that ends without the blank line that completes its last event: browsers drop
//!   the event. We report [`SseProblemKind::UnterminatedEvent`] and then, right after it, emit
//!   the event with [`SseEvent::unterminated`] set, so a check can show what the server meant.
//!   A final line without a line end is processed for that purpose too.
//! - Memory is bounded: a line longer than `max_line_bytes` is reported
//!   ([`SseProblemKind::LineTooLong`]) and discarded *whole* (a truncated `data:` line would only
//!   hand the judge a second, misleading failure); once an event's data would exceed
//!   `max_event_bytes`, the same kind is reported and that `data` line and the event's later
//!   ones are dropped, while the event itself is still dispatched with the data kept so far.

use std::borrow::Cow;
use std::mem;
use std::time::Duration;

/// UTF-8 byte order mark; the UTF-8 decode algorithm drops one at the very start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Default cap on one line, in bytes, without its line end.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;
/// Default cap on one event's data buffer, in bytes.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;
/// Buffers larger than this are released after use rather than kept for the next line or
/// event.
const KEEP_CAPACITY: usize = 64 * 1024;
/// Field names quoted in problem details are cut to this many characters.
const MAX_QUOTED_CHARS: usize = 64;

/// One thing found in the stream, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event.
    Event(SseEvent),
    /// A comment line: `text` is everything after the `:`, untrimmed
    /// (`: ping` gives `" ping"`). `at` is the arrival time of the chunk that completed the line.
    Comment { text: String, at: Duration },
    /// A framing problem; parsing goes on after it.
    Problem(SseProblem),
}

/// An event as a browser's `EventSource` would dispatch it, plus timing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// Event type; `"message"` when no (or an empty) `event` field was given.
    pub event: String,
    /// The `data` lines joined with `\n`.
    pub data: String,
    /// Last event ID in effect at dispatch. `None` until the stream sets one; an `id` field
    /// with an empty value gives `Some("")` (the spec's "reset").
    pub id: Option<String>,
    /// Reconnection time in effect (milliseconds), set by the latest valid `retry` field of the
    /// stream so far. Like `id`, this is stream state, not a property of this event alone.
    pub retry: Option<u64>,
    /// Arrival time of the chunk that completed (dispatched) the event.
    pub at: Duration,
    /// Arrival time of the event's first byte: the first byte of its first field line
    /// (comments and blank lines before it do not count).
    pub first_byte_at: Duration,
    /// True only for the event emitted by [`SseParser::finish`] after an
    /// [`SseProblemKind::UnterminatedEvent`]: a browser would never have dispatched it.
    pub unterminated: bool,
}

/// A framing problem, reported where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseProblem {
    pub kind: SseProblemKind,
    /// Arrival time of the chunk in which the problem was detected.
    pub at: Duration,
    /// Human-readable explanation; does not depend on how the stream was chunked.
    pub detail: String,
}

/// The kinds of framing problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SseProblemKind {
    /// A line was not UTF-8; it was decoded lossily with U+FFFD, as the spec says.
    InvalidUtf8,
    /// The stream ended before the blank line that dispatches the last event (or in the middle
    /// of a line). When data was buffered, the event follows this problem, marked
    /// [`SseEvent::unterminated`].
    UnterminatedEvent,
    /// A field the spec ignores, such as `dta: x` or `Data: x` (names are case-sensitive).
    UnknownField,
    /// A line longer than the line limit (discarded), or an event whose data would exceed the
    /// event limit (further data lines dropped).
    LineTooLong,
}

/// Incremental parser: feed it chunks as they arrive, then call [`SseParser::finish`].
#[derive(Debug, Clone)]
pub struct SseParser {
    max_line: usize,
    max_event: usize,
    /// `Some(n)` while still at the stream start with `n` bytes of a BOM matched.
    bom: Option<usize>,
    /// The previous chunk ended in CR: an LF starting the next chunk belongs to that line end.
    after_cr: bool,
    /// Arrival time of the first byte of the partial line; `Some` iff a line is open.
    line_at: Option<Duration>,
    /// Bytes of the open line, when it spans chunks (lines within one chunk are not copied).
    /// At most `max_line` long; decoded, a line is at most three times that (U+FFFD for each
    /// invalid byte), which bounds the event type and id too.
    line: Vec<u8>,
    /// The open line outgrew `max_line` and is being skipped up to its line end.
    discarding: bool,
    /// Arrival time of the current event's first field line.
    event_at: Option<Duration>,
    event_type: String,
    data: String,
    /// The current event's data hit `max_event`; its further data lines are dropped.
    data_full: bool,
    last_id: Option<String>,
    retry: Option<u64>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with the default limits ([`DEFAULT_MAX_LINE_BYTES`], [`DEFAULT_MAX_EVENT_BYTES`]).
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser that buffers at most `max_line_bytes` of one line and `max_event_bytes` of one
    /// event's data, whatever the input.
    pub fn with_limits(max_line_bytes: usize, max_event_bytes: usize) -> Self {
        Self {
            max_line: max_line_bytes,
            max_event: max_event_bytes,
            bom: Some(0),
            after_cr: false,
            line_at: None,
            line: Vec::new(),
            discarding: false,
            event_at: None,
            event_type: String::new(),
            data: String::new(),
            data_full: false,
            last_id: None,
            retry: None,
        }
    }

    /// Parses the next chunk, which arrived at `at`. Chunks may split anywhere, even inside a
    /// CRLF or a UTF-8 sequence; the items do not depend on where (only their times do).
    pub fn feed(&mut self, bytes: &[u8], at: Duration) -> Vec<SseItem> {
        let mut out = Vec::new();
        self.feed_into(bytes, at, &mut out);
        out
    }

    /// Like [`SseParser::feed`], appending to `out` so a hot loop can reuse one vector.
    pub fn feed_into(&mut self, bytes: &[u8], at: Duration, out: &mut Vec<SseItem>) {
        self.feed_with(bytes, at, &mut |item| out.push(item));
    }

    /// Like [`SseParser::feed`], handing each item to `emit` as it is found, so that a
    /// consumer keeping only some of them never holds the others (a flood of comment lines
    /// costs no memory).
    pub fn feed_with(&mut self, mut bytes: &[u8], at: Duration, emit: &mut dyn FnMut(SseItem)) {
        let out = emit;
        if self.bom.is_some() {
            bytes = self.skip_bom(bytes, at, out);
        }
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(i) = find_line_end(bytes) {
            let mut rest = &bytes[i + 1..];
            if bytes[i] == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    // Whether this CR starts a CRLF is only known with the next chunk; the line
                    // ends here either way, so it is processed now, not delayed.
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            self.end_line(&bytes[..i], at, out);
            bytes = rest;
        }
        if !bytes.is_empty() {
            self.line_at.get_or_insert(at);
            self.extend_line(bytes, at, out);
        }
    }

    /// Ends the stream at `at`. Reports an [`SseProblemKind::UnterminatedEvent`] if the stream
    /// stopped mid-line or with data buffered, followed by that event (marked `unterminated`).
    /// The parser is then reset, ready for a new stream.
    pub fn finish(&mut self, at: Duration) -> Vec<SseItem> {
        let mut out = Vec::new();
        self.finish_with(at, &mut |item| out.push(item));
        out
    }

    /// Like [`SseParser::finish`], handing each item to `emit`.
    pub fn finish_with(&mut self, at: Duration, emit: &mut dyn FnMut(SseItem)) {
        let out = emit;
        if let Some(n) = self.bom.take().filter(|&n| n > 0) {
            // A BOM prefix that the stream never completed is ordinary (invalid) content.
            self.extend_line(&BOM[..n], at, out);
        }
        let mid_line = self.line_at.is_some();
        if mid_line {
            self.end_line(&[], at, out);
        }
        if let Some(mut event) = self.take_event(at) {
            let detail = "stream ended before the blank line that dispatches the event";
            problem(out, SseProblemKind::UnterminatedEvent, at, detail);
            event.unterminated = true;
            out(SseItem::Event(event));
        } else if mid_line {
            let detail = "stream ended in the middle of a line";
            problem(out, SseProblemKind::UnterminatedEvent, at, detail);
        }
        *self = Self::with_limits(self.max_line, self.max_event);
    }

    /// Consumes what matches a leading BOM; on a mismatch the matched prefix becomes content.
    fn skip_bom<'a>(
        &mut self,
        mut bytes: &'a [u8],
        at: Duration,
        out: &mut dyn FnMut(SseItem),
    ) -> &'a [u8] {
        let Some(mut n) = self.bom else { return bytes };
        while let Some((&b, rest)) = bytes.split_first() {
            if b != BOM[n] {
                self.bom = None;
                self.extend_line(&BOM[..n], at, out);
                return bytes;
            }
            if n == 0 {
                self.line_at = Some(at);
            }
            n += 1;
            bytes = rest;
            if n == BOM.len() {
                self.bom = None;
                self.line_at = None;
                return bytes;
            }
        }
        self.bom = Some(n);
        bytes
    }

    /// Appends to the open line, or starts discarding it once it outgrows the limit.
    fn extend_line(&mut self, bytes: &[u8], at: Duration, out: &mut dyn FnMut(SseItem)) {
        if self.discarding {
            return;
        }
        if self.line.len() + bytes.len() > self.max_line {
            self.too_long_line(at, out);
            self.line.clear();
            self.discarding = true;
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn too_long_line(&self, at: Duration, out: &mut dyn FnMut(SseItem)) {
        let detail = format!("line longer than {} bytes discarded", self.max_line);
        problem(out, SseProblemKind::LineTooLong, at, detail);
    }

    /// Handles a line end; `tail` is the part of the line inside the current chunk.
    fn end_line(&mut self, tail: &[u8], at: Duration, out: &mut dyn FnMut(SseItem)) {
        match self.line_at.take() {
            // The whole line is in this chunk: parse it in place.
            None if tail.len() > self.max_line => self.too_long_line(at, out),
            None => self.process_line(tail, at, at, out),
            Some(start) => {
                self.extend_line(tail, at, out);
                if !mem::take(&mut self.discarding) {
                    let line = mem::take(&mut self.line);
                    self.process_line(&line, start, at, out);
                    self.line = line;
                }
                self.line.clear();
                // A buffer grown for one huge line is not kept for the short ones after it.
                if self.line.capacity() > KEEP_CAPACITY {
                    self.line = Vec::new();
                }
            }
        }
    }

    fn process_line(
        &mut self,
        line: &[u8],
        line_at: Duration,
        at: Duration,
        out: &mut dyn FnMut(SseItem),
    ) {
        if line.is_empty() {
            if let Some(event) = self.take_event(at) {
                out(SseItem::Event(event));
            }
            return;
        }
        // CR and LF never occur inside a UTF-8 sequence, so decoding line by line gives exactly
        // what decoding the whole stream first (as the spec describes) would.
        let text = String::from_utf8_lossy(line);
        if let Cow::Owned(_) = text {
            let detail = "line is not valid UTF-8; decoded with U+FFFD";
            problem(out, SseProblemKind::InvalidUtf8, at, detail);
        }
        if let Some(comment) = text.strip_prefix(':') {
            let text = comment.to_owned();
            out(SseItem::Comment { text, at });
            return;
        }
        self.event_at.get_or_insert(line_at);
        let (name, value) = match text.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*text, ""),
        };
        match name {
            "event" => value.clone_into(&mut self.event_type),
            "data" => self.push_data(value, at, out),
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "id" => {}
            // Only ASCII digits count (no sign, no spaces). An empty value has no integer to
            // take, and one beyond u64 cannot be kept (the spec's integer is unbounded): both
            // are ignored like any other invalid value.
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                }
            }
            "retry" => {}
            _ => {
                // Cut with the `…` mark: the redactor masks a key shape cut there.
                let quoted = crate::util::text::excerpt(name, MAX_QUOTED_CHARS);
                let detail = format!("unknown field {quoted:?} ignored");
                problem(out, SseProblemKind::UnknownField, at, detail);
            }
        }
    }

    fn push_data(&mut self, value: &str, at: Duration, out: &mut dyn FnMut(SseItem)) {
        if self.data_full {
            return;
        }
        if self.data.len() + value.len() + 1 > self.max_event {
            self.data_full = true;
            let detail = format!(
                "event data longer than {} bytes; this and later data lines of the event dropped",
                self.max_event
            );
            problem(out, SseProblemKind::LineTooLong, at, detail);
            return;
        }
        self.data.push_str(value);
        self.data.push('\n');
    }

    /// The spec's "dispatch the event" steps: resets the per-event buffers and returns the
    /// event unless the data buffer is empty.
    fn take_event(&mut self, at: Duration) -> Option<SseEvent> {
        let first_byte_at = self.event_at.take().unwrap_or(at);
        let event_type = mem::take(&mut self.event_type);
        self.data_full = false;
        if self.data.is_empty() {
            return None;
        }
        // Every data line appended a "\n"; the spec strips exactly the last one.
        self.data.pop();
        // Cloning (rather than taking) keeps the buffer's capacity for the next event; a buffer
        // grown for a huge event is handed over instead of being copied and kept.
        let data = if self.data.capacity() > KEEP_CAPACITY {
            mem::take(&mut self.data)
        } else {
            let data = self.data.clone();
            self.data.clear();
            data
        };
        Some(SseEvent {
            event: if event_type.is_empty() {
                "message".to_owned()
            } else {
                event_type
            },
            data,
            id: self.last_id.clone(),
            retry: self.retry,
            at,
            first_byte_at,
            unterminated: false,
        })
    }
}

/// Position of the first CR or LF. Blocks of 16 bytes are tested with a branch-free OR that
/// the compiler vectorises, which is several times faster than a byte-by-byte `position`.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    const BLOCK: usize = 16;
    let is_eol = |b: &u8| *b == b'\n' || *b == b'\r';
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |hit, b| hit | is_eol(b)) {
            return block.iter().position(is_eol).map(|i| offset + i);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(is_eol)
        .map(|i| offset + i)
}

fn problem(
    out: &mut dyn FnMut(SseItem),
    kind: SseProblemKind,
    at: Duration,
    detail: impl Into<String>,
) {
    let detail = detail.into();
    out(SseItem::Problem(SseProblem { kind, at, detail }));
}

/// Parses a complete stream in one go, with every time set to zero.
pub fn parse_all(bytes: &[u8]) -> Vec<SseItem> {
    let mut parser = SseParser::new();
    let mut items = parser.feed(bytes, Duration::ZERO);
    items.extend(parser.finish(Duration::ZERO));
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// An event as `parse_all` reports it (all times zero).
    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            ..SseEvent::default()
        }
    }

    fn with_id(mut event: SseEvent, id: &str) -> SseEvent {
        event.id = Some(id.into());
        event
    }

    fn events(items: &[SseItem]) -> Vec<SseEvent> {
        let events = items.iter().filter_map(|item| match item {
            SseItem::Event(event) => Some(event.clone()),
            _ => None,
        });
        events.collect()
    }

    fn kinds(items: &[SseItem]) -> Vec<SseProblemKind> {
        let kinds = items.iter().filter_map(|item| match item {
            SseItem::Problem(problem) => Some(problem.kind),
            _ => None,
        });
        kinds.collect()
    }

    fn comment(text: &str) -> SseItem {
        SseItem::Comment {
            text: text.into(),
            at: Duration::ZERO,
        }
    }

    /// Feeds `chunks` with chunk `i` arriving at `i` ms, then finishes at `chunks.len()` ms.
    fn feed_chunks(parser: &mut SseParser, chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut items = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            items.extend(parser.feed(chunk, ms(i as u64)));
        }
        items.extend(parser.finish(ms(chunks.len() as u64)));
        items
    }

    /// Splits `bytes` at the given cut points (taken modulo the length, in any order).
    fn split_at_cuts<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            chunks.push(&bytes[start..cut]);
            start = cut;
        }
        chunks
    }

    /// Items with every time zeroed, to compare parses that differ only in chunking.
    fn untimed(items: Vec<SseItem>) -> Vec<SseItem> {
        let untime = |item| match item {
            SseItem::Event(event) => SseItem::Event(SseEvent {
                at: Duration::ZERO,
                first_byte_at: Duration::ZERO,
                ..event
            }),
            SseItem::Comment { text, .. } => SseItem::Comment {
                text,
                at: Duration::ZERO,
            },
            SseItem::Problem(problem) => SseItem::Problem(SseProblem {
                at: Duration::ZERO,
                ..problem
            }),
        };
        items.into_iter().map(untime).collect()
    }

    // ---- line ends ----

    #[test]
    fn lf_cr_and_crlf_end_lines() {
        for eol in ["\n", "\r", "\r\n"] {
            let stream = format!("data: a{eol}data: b{eol}{eol}data: c{eol}{eol}");
            let items = parse_all(stream.as_bytes());
            assert_eq!(
                items,
                vec![
                    SseItem::Event(ev("message", "a\nb")),
                    SseItem::Event(ev("message", "c"))
                ],
                "{eol:?}"
            );
        }
    }

    #[test]
    fn mixed_line_ends_in_one_stream() {
        let items = parse_all(b"data: a\rdata: b\r\n\ndata: c\n\r");
        assert_eq!(
            events(&items),
            vec![ev("message", "a\nb"), ev("message", "c")]
        );
    }

    #[test]
    fn cr_at_chunk_end_then_lf_is_one_line_end() {
        // Were CR and LF two line ends, the blank line between them would split the event.
        let items = feed_chunks(
            &mut SseParser::new(),
            &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
        );
        assert_eq!(untimed(items), vec![SseItem::Event(ev("message", "a\nb"))]);
    }

    #[test]
    fn cr_at_chunk_end_survives_empty_chunks() {
        let items = feed_chunks(
            &mut SseParser::new(),
            &[b"data: a\r", b"", b"", b"\ndata: b\n\n"],
        );
        assert_eq!(events(&items).len(), 1);
        assert_eq!(events(&items)[0].data, "a\nb");
    }

    #[test]
    fn cr_at_chunk_end_then_cr_is_two_line_ends() {
        let items = feed_chunks(&mut SseParser::new(), &[b"data: a\r", b"\r"]);
        assert_eq!(untimed(items), vec![SseItem::Event(ev("message", "a"))]);
    }

    #[test]
    fn a_lone_cr_dispatches_without_waiting_for_the_next_chunk() {
        let mut parser = SseParser::new();
        let items = parser.feed(b"data: a\n\r", ms(5));
        assert_eq!(events(&items).len(), 1);
        assert!(parser.feed(b"\n", ms(6)).is_empty());
        assert!(parser.finish(ms(7)).is_empty());
    }

    // ---- fields ----

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        let items = parse_all(b"data: YHOO\ndata: +2\ndata: 10\n\n");
        assert_eq!(events(&items), vec![ev("message", "YHOO\n+2\n10")]);
    }

    #[test]
    fn exactly_one_space_after_the_colon_is_removed() {
        let items = parse_all(b"data:no space\n\ndata: one\n\ndata:  two\n\ndata:\tTab\n\n");
        let data: Vec<String> = events(&items).into_iter().map(|e| e.data).collect();
        assert_eq!(data, ["no space", "one", " two", "\tTab"]);
    }

    #[test]
    fn only_the_first_colon_separates_name_and_value() {
        let items = parse_all(b"data: a: b:c\n\n");
        assert_eq!(events(&items), vec![ev("message", "a: b:c")]);
    }

    #[test]
    fn comments_keep_their_raw_text() {
        let items =
            parse_all(b": OPENROUTER PROCESSING\n\n: ping - 2025-01-01\n:\n::x\ndata: a\n\n");
        let expected = vec![
            comment(" OPENROUTER PROCESSING"),
            comment(" ping - 2025-01-01"),
            comment(""),
            comment(":x"),
            SseItem::Event(ev("message", "a")),
        ];
        assert_eq!(items, expected);
    }

    #[test]
    fn event_id_and_retry() {
        let items = parse_all(b"event: add\nid: 7\nretry: 1500\ndata: 73857293\n\ndata: next\n\n");
        let mut add = with_id(ev("add", "73857293"), "7");
        add.retry = Some(1500);
        // The type resets after each event; id and retry are stream state and carry over.
        let mut next = with_id(ev("message", "next"), "7");
        next.retry = Some(1500);
        assert_eq!(events(&items), vec![add, next]);
    }

    #[test]
    fn empty_event_type_means_message() {
        let items = parse_all(b"event:\ndata: a\n\nevent\ndata: b\n\n");
        assert_eq!(events(&items), vec![ev("message", "a"), ev("message", "b")]);
    }

    #[test]
    fn last_event_type_field_wins() {
        let items = parse_all(b"event: a\nevent: b\ndata: x\n\n");
        assert_eq!(events(&items), vec![ev("b", "x")]);
    }

    #[test]
    fn id_with_nul_is_ignored_and_empty_id_resets() {
        let items = parse_all(b"id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\nid\ndata: c\n\n");
        let expected = vec![
            with_id(ev("message", "a"), "1"),
            with_id(ev("message", "b"), "1"),
            with_id(ev("message", "c"), ""),
        ];
        assert_eq!(events(&items), expected);
        assert!(kinds(&items).is_empty());
    }

    #[test]
    fn id_without_data_still_sets_the_last_event_id() {
        let items = parse_all(b"id: 9\n\ndata: a\n\n");
        assert_eq!(events(&items), vec![with_id(ev("message", "a"), "9")]);
    }

    #[test]
    fn retry_needs_ascii_digits_only() {
        for bad in [
            "10s",
            "-1",
            "+5",
            " 5",
            "5 ",
            "",
            "1.5",
            "\u{0661}",
            "99999999999999999999999",
        ] {
            let stream = format!("retry: 100\n\nretry: {bad}\ndata: a\n\n");
            let items = parse_all(stream.as_bytes());
            assert_eq!(events(&items)[0].retry, Some(100), "{bad:?}");
            assert!(kinds(&items).is_empty());
        }
        assert_eq!(events(&parse_all(b"retry:0\ndata\n\n"))[0].retry, Some(0));
    }

    #[test]
    fn data_without_value_dispatches_an_event_with_empty_data() {
        // "data" alone appends "" + "\n": the buffer is not empty, so the event is dispatched.
        let items = parse_all(b"data\n\ndata\ndata\n\ndata:\n");
        assert_eq!(
            &events(&items)[..2],
            &[ev("message", ""), ev("message", "\n")]
        );
    }

    #[test]
    fn block_without_data_dispatches_nothing_and_resets_the_type() {
        let items = parse_all(b"event: x\n\n\n\ndata: y\n\n");
        assert_eq!(items, vec![SseItem::Event(ev("message", "y"))]);
    }

    #[test]
    fn field_names_are_case_sensitive_and_unknown_ones_reported() {
        let items = parse_all(b"dta: x\nData: y\ndata: z\n\n");
        assert_eq!(kinds(&items), [SseProblemKind::UnknownField; 2]);
        assert_eq!(events(&items), vec![ev("message", "z")]);
        let SseItem::Problem(problem) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(problem.detail, r#"unknown field "dta" ignored"#);
    }

    #[test]
    fn nul_and_other_controls_in_data_are_kept() {
        let items = parse_all(b"data: a\0b\x0bc\x0c\n\n");
        assert_eq!(events(&items), vec![ev("message", "a\0b\x0bc\x0c")]);
    }

    #[test]
    fn done_sentinel_is_an_ordinary_event() {
        let items = parse_all(b"data: [DONE]\n\n");
        assert_eq!(items, vec![SseItem::Event(ev("message", "[DONE]"))]);
    }

    #[test]
    fn spec_example_with_ids_and_spaces() {
        let items = parse_all(b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n");
        let expected = [
            comment(" test stream"),
            SseItem::Event(with_id(ev("message", "first event"), "1")),
            SseItem::Event(with_id(ev("message", "second event"), "")),
        ];
        assert_eq!(items[..3], expected);
        // The third event has no blank line after it: browsers drop it, we report it.
        assert_eq!(kinds(&items[3..]), [SseProblemKind::UnterminatedEvent]);
        let third = &events(&items)[2];
        assert_eq!(
            (third.data.as_str(), third.unterminated),
            ("  third event".strip_prefix(' ').unwrap(), true)
        );
    }

    // ---- stream end ----

    #[test]
    fn missing_blank_line_is_reported_then_the_event_is_emitted() {
        let mut parser = SseParser::new();
        assert_eq!(parser.feed(b"data: x\n", ms(1)), vec![]);
        let items = parser.finish(ms(9));
        let SseItem::Problem(problem) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(
            (problem.kind, problem.at),
            (SseProblemKind::UnterminatedEvent, ms(9))
        );
        let expected = SseEvent {
            at: ms(9),
            first_byte_at: ms(1),
            unterminated: true,
            ..ev("message", "x")
        };
        assert_eq!(items[1..], [SseItem::Event(expected)]);
    }

    #[test]
    fn final_line_without_line_end_is_reported() {
        let items = parse_all(b"data: x\n\ndata: {\"a\":1}");
        assert_eq!(kinds(&items), [SseProblemKind::UnterminatedEvent]);
        let last = events(&items).pop().unwrap();
        assert_eq!((last.data.as_str(), last.unterminated), ("{\"a\":1}", true));

        let items = parse_all(b"data: x\n\n: ping");
        assert_eq!(items[1], comment(" ping"));
        assert_eq!(kinds(&items), [SseProblemKind::UnterminatedEvent]);
        assert_eq!(events(&items).len(), 1);
    }

    #[test]
    fn trailing_fields_without_data_are_not_an_unterminated_event() {
        assert_eq!(
            parse_all(b"data: x\n\nevent: y\nid: 3\n"),
            vec![SseItem::Event(ev("message", "x"))]
        );
        assert_eq!(parse_all(b""), vec![]);
    }

    #[test]
    fn finish_resets_the_parser() {
        let mut parser = SseParser::new();
        parser.feed(b"id: 1\nevent: e\ndata: x\n", ms(0));
        parser.finish(ms(1));
        let items = feed_chunks(&mut parser, &[b"\xEF\xBB\xBFdata: y\n\n"]);
        assert_eq!(untimed(items), vec![SseItem::Event(ev("message", "y"))]);
    }

    // ---- encoding ----

    #[test]
    fn leading_bom_is_skipped_even_when_split() {
        let expected = vec![SseItem::Event(ev("message", "a"))];
        assert_eq!(parse_all(b"\xEF\xBB\xBFdata: a\n\n"), expected);
        let items = feed_chunks(
            &mut SseParser::new(),
            &[b"\xEF", b"\xBB", b"\xBF", b"data: a\n\n"],
        );
        assert_eq!(untimed(items), expected);
    }

    #[test]
    fn only_one_bom_is_skipped() {
        let items = parse_all("\u{feff}\u{feff}data: a\n\n".as_bytes());
        assert_eq!(kinds(&items), [SseProblemKind::UnknownField]);
        assert!(events(&items).is_empty());
    }

    #[test]
    fn a_broken_bom_is_content() {
        let items = feed_chunks(
            &mut SseParser::new(),
            &[b"\xEF\xBB", b"data: a\n\ndata: b\n\n"],
        );
        assert_eq!(
            kinds(&items),
            [SseProblemKind::InvalidUtf8, SseProblemKind::UnknownField]
        );
        assert_eq!(
            events(&items),
            vec![SseEvent {
                at: ms(1),
                first_byte_at: ms(1),
                ..ev("message", "b")
            }]
        );
        assert_eq!(
            kinds(&parse_all(b"\xEF\xBB")),
            [
                SseProblemKind::InvalidUtf8,
                SseProblemKind::UnknownField,
                SseProblemKind::UnterminatedEvent
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_and_reported() {
        let items = parse_all(b"data: a\xFFb\xE2\x82\n\ndata: ok\n\n");
        assert_eq!(kinds(&items), [SseProblemKind::InvalidUtf8]);
        assert_eq!(
            events(&items),
            vec![ev("message", "a\u{FFFD}b\u{FFFD}"), ev("message", "ok")]
        );
    }

    #[test]
    fn utf8_split_across_chunks_is_not_a_problem() {
        let euro = "data: 1€ 😀\n\n".as_bytes();
        for cut in 0..=euro.len() {
            let items = feed_chunks(&mut SseParser::new(), &[&euro[..cut], &euro[cut..]]);
            assert_eq!(
                untimed(items),
                vec![SseItem::Event(ev("message", "1€ 😀"))],
                "cut at {cut}"
            );
        }
    }

    // ---- limits ----

    #[test]
    fn too_long_line_is_reported_once_and_discarded_whole() {
        let expected = vec![SseProblemKind::LineTooLong];
        let stream = b"data: 0123456789\ndata: ok\n\n";
        let whole = parse_with(SseParser::with_limits(8, 100), stream);
        assert_eq!(kinds(&whole), expected);
        assert_eq!(events(&whole), vec![ev("message", "ok")]);
        // Same result when the long line arrives byte by byte.
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        let split = feed_chunks(&mut SseParser::with_limits(8, 100), &bytes);
        assert_eq!(untimed(split), whole);
        // A line of exactly the limit is fine.
        assert!(kinds(&parse_with(SseParser::with_limits(8, 100), b"data: 01\n\n")).is_empty());
    }

    #[test]
    fn event_data_over_the_limit_keeps_the_lines_that_fit() {
        let items = parse_with(
            SseParser::with_limits(100, 8),
            b"data: 123\ndata: 4567\ndata: 8\n\ndata: next\n\n",
        );
        assert_eq!(kinds(&items), [SseProblemKind::LineTooLong]);
        assert_eq!(
            events(&items),
            vec![ev("message", "123"), ev("message", "next")]
        );
    }

    #[test]
    fn a_huge_line_keeps_memory_bounded() {
        let mut parser = SseParser::with_limits(1024, 1024);
        let chunk = vec![b'a'; 64 * 1024];
        let mut items = parser.feed(b"data: ", ms(0));
        for i in 0..160 {
            items.extend(parser.feed(&chunk, ms(i)));
            assert!(parser.line.capacity() <= 2048);
        }
        items.extend(parser.feed(b"\n\ndata: after\n\n", ms(200)));
        assert_eq!(kinds(&items), [SseProblemKind::LineTooLong]);
        assert_eq!(events(&items).len(), 1);
    }

    fn parse_with(mut parser: SseParser, bytes: &[u8]) -> Vec<SseItem> {
        let mut items = parser.feed(bytes, Duration::ZERO);
        items.extend(parser.finish(Duration::ZERO));
        items
    }

    // ---- timing ----

    #[test]
    fn typical_openai_stream_keeps_arrival_times() {
        let chunks: [&[u8]; 5] = [
            b": OPENROUTER PROCESSING\n\n",
            b"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel",
            b"lo\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},\"finish_reason\":\"stop\"}]}\r",
            b"\n\r\n",
            b"data: [DONE]\n\n",
        ];
        let items = feed_chunks(&mut SseParser::new(), &chunks);
        assert_eq!(
            items[0],
            SseItem::Comment {
                text: " OPENROUTER PROCESSING".into(),
                at: ms(0)
            }
        );
        let events = events(&items);
        let times: Vec<(Duration, Duration)> =
            events.iter().map(|e| (e.first_byte_at, e.at)).collect();
        assert_eq!(times, [(ms(1), ms(2)), (ms(2), ms(3)), (ms(4), ms(4))]);
        assert!(
            events[0]
                .data
                .ends_with(r#""content":"Hello"},"finish_reason":null}]}"#)
        );
        assert_eq!(events[2].data, "[DONE]");
        assert!(
            events
                .iter()
                .all(|e| e.event == "message" && e.id.is_none())
        );
        assert!(kinds(&items).is_empty());
    }

    #[test]
    fn first_byte_is_the_first_field_line_not_a_preceding_comment() {
        let items = feed_chunks(
            &mut SseParser::new(),
            &[b": ping\n", b"ev", b"ent: x\ndata: 1\n", b"\n"],
        );
        let event = &events(&items)[0];
        assert_eq!((event.first_byte_at, event.at), (ms(1), ms(3)));
    }

    // ---- the oracle ----

    /// Runs `eventsource-stream` over `chunks` and returns (type, data, id) per event.
    fn oracle(chunks: &[&[u8]]) -> Vec<(String, String, String)> {
        use eventsource_stream::Eventsource;
        use futures_util::StreamExt;
        use std::task::{Context, Poll, Waker};

        let owned: Vec<Result<Vec<u8>, ()>> = chunks.iter().map(|c| Ok(c.to_vec())).collect();
        let mut stream = futures_util::stream::iter(owned).eventsource();
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        // The source is an in-memory iterator, so the stream is never pending.
        while let Poll::Ready(Some(event)) = stream.poll_next_unpin(&mut cx) {
            let event = event.expect("oracle rejected the stream");
            out.push((event.event, event.data, event.id));
        }
        out
    }

    fn ours_as_oracle_sees_it(items: &[SseItem]) -> Vec<(String, String, String)> {
        let dispatched = events(items).into_iter().filter(|e| !e.unterminated);
        dispatched
            .map(|e| (e.event, e.data, e.id.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn oracle_difference_a_final_lone_cr_is_never_seen_by_the_oracle() {
        // eventsource-stream's streaming parser waits for a possible LF after a final CR and
        // never gets it, so it drops an event whose blank line is that CR. The spec (and we)
        // dispatch it. The oracle property test appends the LF for the oracle only.
        assert_eq!(oracle(&[b"data: a\r\r"]), vec![]);
        assert_eq!(oracle(&[b"data: a\r\r\n"]).len(), 1);
        assert_eq!(events(&parse_all(b"data: a\r\r")).len(), 1);
    }

    #[test]
    fn oracle_difference_a_leading_bom_makes_the_oracle_panic() {
        // eventsource-stream 0.2.3 strips a BOM with `&string[1..]`, a byte index inside the
        // three-byte U+FEFF, so it panics. The oracle property test strips the BOM for it.
        let result = std::panic::catch_unwind(|| oracle(&[b"\xEF\xBB\xBFdata: a\n\n"]));
        assert!(result.is_err());
        assert_eq!(oracle(&[b"data: a\n\n"]).len(), 1);
        assert_eq!(events(&parse_all(b"\xEF\xBB\xBFdata: a\n\n")).len(), 1);
    }

    #[test]
    fn oracle_difference_retry_accepts_a_plus_sign() {
        // The oracle uses `u64::from_str`, which takes "+5"; the spec wants ASCII digits only.
        // Retry is therefore left out of the comparison.
        let retry = |chunk: &[u8]| {
            use eventsource_stream::Eventsource;
            use futures_util::StreamExt;
            let mut stream =
                futures_util::stream::iter([Ok::<_, ()>(chunk.to_vec())]).eventsource();
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            match stream.poll_next_unpin(&mut cx) {
                std::task::Poll::Ready(Some(Ok(event))) => event.retry,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(retry(b"retry: +5\ndata: a\n\n"), Some(ms(5)));
        assert_eq!(events(&parse_all(b"retry: +5\ndata: a\n\n"))[0].retry, None);
    }

    // ---- properties ----

    /// One generated event: optional comment, type and id, then one or more data lines.
    #[derive(Debug, Clone)]
    struct GenEvent {
        comment: Option<String>,
        event: Option<String>,
        id: Option<String>,
        data: Vec<String>,
        /// Write "data:value" instead of "data: value" where that means the same.
        tight: bool,
    }

    fn gen_event() -> impl Strategy<Value = GenEvent> {
        let value = "[^\r\n]{0,12}";
        (
            proptest::option::of(value),
            proptest::option::of(value),
            proptest::option::of(prop_oneof![value, "[^\r\n]{0,4}\0[^\r\n]{0,4}"]),
            proptest::collection::vec(value, 1..4),
            any::<bool>(),
        )
            .prop_map(|(comment, event, id, data, tight)| GenEvent {
                comment,
                event,
                id,
                data,
                tight,
            })
    }

    /// A well-formed stream: (bytes, expected items). `eols` picks each line's end in turn.
    fn well_formed(evs: &[GenEvent], eols: &[u8], bom: bool) -> (Vec<u8>, Vec<SseItem>) {
        let mut lines: Vec<String> = Vec::new();
        let mut expected = Vec::new();
        let mut last_id = None;
        for e in evs {
            if let Some(c) = &e.comment {
                lines.push(format!(":{c}"));
                expected.push(comment(c));
            }
            if let Some(t) = &e.event {
                lines.push(format!("event: {t}"));
            }
            if let Some(id) = &e.id {
                lines.push(format!("id: {id}"));
                if !id.contains('\0') {
                    last_id = Some(id.clone());
                }
            }
            for d in &e.data {
                let tight = e.tight && !d.starts_with(' ');
                lines.push(if tight {
                    format!("data:{d}")
                } else {
                    format!("data: {d}")
                });
            }
            lines.push(String::new());
            let event = e
                .event
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "message".into());
            let event = SseEvent {
                id: last_id.clone(),
                ..ev(&event, &e.data.join("\n"))
            };
            expected.push(SseItem::Event(event));
        }
        let mut bytes = if bom { BOM.to_vec() } else { Vec::new() };
        let mut prev_cr = false;
        for (i, line) in lines.iter().enumerate() {
            bytes.extend_from_slice(line.as_bytes());
            let mut eol = ["\n", "\r", "\r\n"]
                [eols.get(i % eols.len().max(1)).copied().unwrap_or(0) as usize % 3];
            // A lone CR followed by an empty LF-ended line would read as one CRLF.
            if prev_cr && line.is_empty() && eol == "\n" {
                eol = "\r";
            }
            prev_cr = eol == "\r";
            bytes.extend_from_slice(eol.as_bytes());
        }
        (bytes, expected)
    }

    /// Bytes built from SSE-ish fragments, so that random input hits the interesting paths.
    fn soup() -> impl Strategy<Value = Vec<u8>> {
        let fragment = prop_oneof![
            Just(b"data".to_vec()),
            Just(b"event".to_vec()),
            Just(b"id".to_vec()),
            Just(b"retry".to_vec()),
            Just(b"dta".to_vec()),
            Just(b":".to_vec()),
            Just(b" ".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\0".to_vec()),
            Just(b"42".to_vec()),
            Just(BOM.to_vec()),
            Just(BOM[..2].to_vec()),
            Just("é€😀".as_bytes().to_vec()),
            Just(b"\xFF".to_vec()),
            Just(b"\xE2\x82".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..4),
        ];
        proptest::collection::vec(fragment, 0..48).prop_map(|parts| parts.concat())
    }

    /// Like `soup`, but always valid UTF-8 (the oracle rejects anything else).
    fn utf8_soup() -> impl Strategy<Value = Vec<u8>> {
        let fragment = prop_oneof![
            Just("data"),
            Just("event"),
            Just("id"),
            Just("retry"),
            Just("dta"),
            Just(":"),
            Just(" "),
            Just("\r"),
            Just("\n"),
            Just("\r\n"),
            Just("\0"),
            Just("7"),
            Just("\u{feff}"),
            Just("é€😀"),
            Just("x"),
        ];
        proptest::collection::vec(fragment, 0..48).prop_map(|parts| parts.concat().into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// (1) Re-chunking never changes what is parsed, only when.
        #[test]
        fn rechunking_changes_nothing_but_times(
            bytes in prop_oneof![soup(), any::<Vec<u8>>()],
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            small in any::<bool>(),
        ) {
            let parser = || if small { SseParser::with_limits(6, 10) } else { SseParser::new() };
            let whole = parse_with(parser(), &bytes);
            let chunked = feed_chunks(&mut parser(), &split_at_cuts(&bytes, &cuts));
            prop_assert_eq!(untimed(chunked), whole);
        }

        /// (2) Well-formed streams parse to exactly the events they were made from.
        #[test]
        fn well_formed_streams_round_trip(
            evs in proptest::collection::vec(gen_event(), 0..6),
            eols in proptest::collection::vec(0u8..3, 1..8),
            bom in any::<bool>(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let (bytes, expected) = well_formed(&evs, &eols, bom);
            let items = feed_chunks(&mut SseParser::new(), &split_at_cuts(&bytes, &cuts));
            prop_assert_eq!(untimed(items), expected);
        }

        /// (3) We agree with eventsource-stream on type, data and id of every dispatched event.
        #[test]
        fn agrees_with_the_oracle(
            generated in (proptest::collection::vec(gen_event(), 0..6), proptest::collection::vec(0u8..3, 1..8), any::<bool>())
                .prop_map(|(evs, eols, bom)| well_formed(&evs, &eols, bom).0),
            soup in utf8_soup(),
            use_soup in any::<bool>(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let bytes = if use_soup { soup } else { generated };
            let ours = feed_chunks(&mut SseParser::new(), &split_at_cuts(&bytes, &cuts));
            // See the two `oracle_difference_*` tests about these normalisations.
            let mut theirs_input = bytes.strip_prefix(BOM).unwrap_or(&bytes).to_vec();
            // A second BOM is content to the spec and to us, but the oracle cannot take it.
            prop_assume!(!theirs_input.starts_with(BOM));
            if theirs_input.ends_with(b"\r") {
                theirs_input.push(b'\n');
            }
            let theirs = oracle(&split_at_cuts(&theirs_input, &cuts));
            prop_assert_eq!(ours_as_oracle_sees_it(&ours), theirs);
        }

        /// The block scan finds what a plain byte-by-byte scan finds.
        #[test]
        fn line_end_scan_matches_a_naive_scan(bytes in prop_oneof![soup(), any::<Vec<u8>>()]) {
            let naive = bytes.iter().position(|&b| b == b'\n' || b == b'\r');
            prop_assert_eq!(find_line_end(&bytes), naive);
            let long: Vec<u8> = bytes.iter().copied().cycle().take(bytes.len() * 9).collect();
            prop_assert_eq!(find_line_end(&long), long.iter().position(|&b| b == b'\n' || b == b'\r'));
        }

        /// (4) Arbitrary bytes never panic, and buffers stay within the limits.
        #[test]
        fn hostile_input_is_bounded(
            bytes in prop_oneof![soup(), any::<Vec<u8>>()],
            cuts in proptest::collection::vec(any::<usize>(), 0..16),
            max_line in 0usize..24,
            max_event in 0usize..48,
        ) {
            let mut parser = SseParser::with_limits(max_line, max_event);
            for (i, chunk) in split_at_cuts(&bytes, &cuts).into_iter().enumerate() {
                parser.feed(chunk, ms(i as u64));
                prop_assert!(parser.line.len() <= max_line);
                prop_assert!(parser.line.capacity() <= (2 * max_line).max(8));
                prop_assert!(parser.data.len() <= max_event);
                // Lossy decoding turns one invalid byte into a three-byte U+FFFD.
                prop_assert!(parser.event_type.len() <= 3 * max_line);
                prop_assert!(parser.last_id.as_ref().is_none_or(|id| id.len() <= 3 * max_line));
            }
            parser.finish(ms(99));
        }
    }
}
