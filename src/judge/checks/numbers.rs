//! Integers a JavaScript client cannot hold. `JSON.parse` reads every number as an IEEE double,
//! exact only up to 2^53: Together's `"seed": 7228414683750928000` arrives in openai-node (and
//! any browser or Node app) as 7228414683750928384, silently. The judge looks at every JSON
//! body and every stream chunk ([`beyond_2_53`]), whatever the case checks.

use serde_json::Value;

use crate::execute::exchange::Response;
use crate::judge::outcome::CheckResult;

/// The name of the finding.
pub const CHECK: &str = "numbers";

/// 2^53 - 1, `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// How deep the walk goes: bodies deeper than this are judged elsewhere (and serde_json
/// stops at 128 anyway).
const MAX_DEPTH: usize = 64;

/// The first integer beyond ±(2^53 - 1) in the body or in any chunk of the stream, with how many
/// there are in all: one finding (a failure), or none.
pub fn beyond_2_53(resp: &Response) -> Option<CheckResult> {
    let mut found: Vec<(String, String)> = Vec::new();
    if let Some(s) = &resp.stream {
        for ev in s
            .events()
            .filter(|ev| has_long_digit_run(ev.data().as_bytes()))
        {
            if let Some(v) = ev.value() {
                walk(&v, &mut format!("event #{} $", ev.n()), 0, &mut found);
            }
        }
    } else if let Some(v) = resp
        .json
        .as_ref()
        .filter(|_| has_long_digit_run(&resp.body))
    {
        walk(v, &mut "$".to_string(), 0, &mut found);
    }
    let (at, shown) = found.first()?;
    let more = match found.len() {
        1 => String::new(),
        n => format!(" ({n} such numbers in all)"),
    };
    Some(
        CheckResult::fail(
            CHECK,
            format!(
                "the integer {shown} is beyond 2^53: JavaScript clients (openai-node, JSON.parse) read it as {}, silently (QUIRKS Q6){more}",
                as_double(shown)
            ),
        )
        .at(at.clone())
        .expected(format!("|n| ≤ {MAX_SAFE}"))
        .actual(shown.clone()),
    )
}

/// Whether the text has 16 digits in a row (2^53 has 16): only then can a number be too large,
/// so most bodies and chunks are never walked.
fn has_long_digit_run(text: &[u8]) -> bool {
    let mut run = 0;
    text.iter().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 16
    })
}

/// What a double makes of the integer `text`.
fn as_double(text: &str) -> String {
    text.parse::<f64>()
        .map(|f| format!("{f:.0}"))
        .unwrap_or_else(|_| text.to_string())
}

fn walk(v: &Value, path: &mut String, depth: usize, found: &mut Vec<(String, String)>) {
    if depth > MAX_DEPTH || found.len() >= 100 {
        return;
    }
    match v {
        Value::Number(n) => {
            let big = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => u > MAX_SAFE,
                (None, Some(i)) => i.unsigned_abs() > MAX_SAFE,
                // A float: JavaScript reads it as the same double, nothing is lost.
                (None, None) => false,
            };
            if big {
                found.push((path.clone(), n.to_string()));
            }
        }
        Value::Object(o) => {
            for (k, item) in o {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                walk(item, path, depth + 1, found);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (k, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{k}]"));
                walk(item, path, depth + 1, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
