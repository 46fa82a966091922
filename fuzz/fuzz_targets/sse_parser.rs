//! The SSE parser on arbitrary bytes, split into two reads at an arbitrary point, with small
//! limits: no panic, and no event's data beyond the event limit (bounded memory).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use llm_parity::execute::sse::{SseItem, SseParser};

fuzz_target!(|input: &[u8]| {
    let Some((&split, bytes)) = input.split_first() else {
        return;
    };
    let cut = (split as usize * bytes.len()) / 255;
    let mut parser = SseParser::with_limits(64, 256);
    let mut items = parser.feed(&bytes[..cut], Duration::ZERO);
    items.extend(parser.feed(&bytes[cut..], Duration::from_millis(1)));
    items.extend(parser.finish(Duration::from_millis(2)));
    for item in &items {
        if let SseItem::Event(e) = item {
            assert!(e.data.len() <= 3 * 256 + 3, "event data outgrew its limit");
        }
    }
    // The default parser too, in one read.
    let _ = llm_parity::execute::sse::parse_all(bytes);
});
