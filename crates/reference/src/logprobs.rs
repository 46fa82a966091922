//! `logprobs` / `top_logprobs`: deterministic log probabilities for each output token.

use serde_json::{json, Value};

use crate::util::sha256;

/// One `ChatCompletionTokenLogprob` per token. The sampled token is always the most likely
/// one, so it heads its own `top_logprobs` list, followed by `top - 1` alternatives with
/// strictly lower log probabilities.
pub(crate) fn entries(pieces: &[String], top: usize) -> Vec<Value> {
    pieces
        .iter()
        .map(|token| {
            let h = sha256(&[token.as_bytes()]);
            // Between -0.001 and -1.0: always <= 0 and never -inf.
            let logprob = -((u16::from_le_bytes([h[0], h[1]]) % 1000) as f64 + 1.0) / 1000.0;
            let mut alternatives = Vec::with_capacity(top);
            if top > 0 {
                alternatives.push(item(token, logprob));
            }
            for (k, alt) in alternative_tokens(token, top.saturating_sub(1))
                .iter()
                .enumerate()
            {
                alternatives.push(item(alt, logprob - (k + 1) as f64 * 0.75));
            }
            let mut entry = item(token, logprob);
            entry["top_logprobs"] = Value::Array(alternatives);
            entry
        })
        .collect()
}

fn item(token: &str, logprob: f64) -> Value {
    json!({ "token": token, "logprob": logprob, "bytes": token.as_bytes() })
}

/// `n` distinct alternatives to `token` (none equal to it), keeping its leading whitespace.
fn alternative_tokens(token: &str, n: usize) -> Vec<String> {
    let trimmed = token.trim_start();
    let lead = &token[..token.len() - trimmed.len()];
    let case_variants = [trimmed.to_uppercase(), trimmed.to_lowercase()];
    let candidates = case_variants
        .into_iter()
        .chain((1..).map(|k| format!("alt{k}")))
        .map(|t| format!("{lead}{t}"));
    let mut out: Vec<String> = Vec::with_capacity(n);
    for c in candidates {
        if out.len() == n {
            break;
        }
        if c != token && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_have_the_requested_alternatives() {
        let pieces = vec!["Hello".to_string(), " wörld".to_string()];
        let e = entries(&pieces, 3);
        assert_eq!(e.len(), 2);
        for (entry, piece) in e.iter().zip(&pieces) {
            assert_eq!(entry["token"], piece.as_str());
            assert!(entry["logprob"].as_f64().unwrap() <= 0.0);
            let bytes: Vec<u8> = entry["bytes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect();
            assert_eq!(bytes, piece.as_bytes());
            let top = entry["top_logprobs"].as_array().unwrap();
            assert_eq!(top.len(), 3);
            assert!(top.iter().all(|t| t.get("top_logprobs").is_none()));
        }
        let the = entries(&[" the".to_string()], 20);
        let tokens: Vec<&str> = the[0]["top_logprobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["token"].as_str().unwrap())
            .collect();
        let mut unique = tokens.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 20);
        assert!(entries(&pieces, 0)[0]["top_logprobs"]
            .as_array()
            .unwrap()
            .is_empty());
    }
}
