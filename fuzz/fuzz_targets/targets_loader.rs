//! The targets loader on arbitrary text: targets or diagnostics, never a panic. Environment
//! lookups are answered without touching the process environment.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use llm_parity::load::target::load_targets;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let lookup = |name: &str| (name != "MISSING").then(|| "value".to_string());
    if let Err(d) = load_targets(Path::new("targets.yaml"), text, &lookup) {
        let _ = d.to_string();
    }
});
