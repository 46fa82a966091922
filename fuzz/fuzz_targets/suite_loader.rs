//! The suite loader on arbitrary text: a suite or diagnostics, never a panic. Fixtures resolve
//! under a directory that does not exist, so the fuzzer reads no file. With debug assertions
//! (cargo-fuzz's default), every text the YAML subset reader takes is also read by yaml_serde
//! and compared, so a difference between the two readers is a crash the fuzzer reports.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use llm_parity::load::suite::{SuiteEnv, load_suite};

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let check_names: Vec<&str> = llm_parity::judge::checks::names().collect();
    let env = SuiteEnv {
        fixtures_root: Some(Path::new("/nonexistent-llm-parity-fixtures")),
        allow_fixture_escape: false,
        schema_ids: &["chat.completion".to_string()],
        check_names: &check_names,
    };
    if let Err(d) = load_suite(Path::new("fuzz.yaml"), text, &env) {
        let _ = d.to_string();
    }
});
