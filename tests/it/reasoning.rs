//! reasoning and extensions against scripted responses: every `reasoning.*`/`extensions.*`
//! check passes on the conformant shape and fails, naming the deviation, on the deviating one;
//! a refused effort level is `unsupported`, whatever the shape of the refusal's body.

use serde_json::{Value, json};

use crate::support::*;

const REASONING_MODELS: &[&str] = &["reasoning=m-think", "chat=m-chat"];

fn assert_warned(got: &(String, String, Vec<String>), part: &str) {
    assert!(
        got.2.iter().any(|w| w.contains(part)),
        "no warning containing {part:?}: {:?}",
        got.2
    );
}

/// A reasoning model's reply: `(prompt, completion, total, reasoning)` tokens.
fn reasoned(content: &str, p: u64, c: u64, t: u64, r: u64) -> Value {
    let mut body = chat_completion(content);
    body["usage"] = json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": t,
        "completion_tokens_details": {"reasoning_tokens": r}});
    body
}

// --- accepted or refused, one row per level ----------------------------------------------------

#[tokio::test]
async fn every_level_passes_when_accepted() {
    for level in ["low", "medium", "high"] {
        let got = case_with_warnings(
            REASONING_MODELS,
            &format!("reasoning/effort-{level}"),
            200,
            reasoned("42", 15, 40, 55, 38),
        )
        .await;
        assert_outcome_of(&got, "pass", "");
        assert!(got.2.is_empty(), "{level}: {:?}", got.2);
    }
    assert_outcome_of(
        &case_with_warnings(
            REASONING_MODELS,
            "reasoning/effort-none",
            200,
            reasoned("42", 15, 2, 17, 0),
        )
        .await,
        "pass",
        "",
    );
}

#[tokio::test]
async fn refused_level_is_unsupported_with_the_message() {
    // OpenAI on a non-reasoning model (QUIRKS R2).
    let openai = json!({"error": {"message": "Unrecognized request argument supplied: reasoning_effort", "type": "invalid_request_error", "param": null, "code": null}});
    assert_outcome_of(
        &case_with_warnings(REASONING_MODELS, "reasoning/effort-low", 400, openai).await,
        "unsupported",
        "Unrecognized request argument supplied: reasoning_effort",
    );
    // Gemini's refusal arrives list-wrapped (E1). The row records the refusal; the body shape
    // is the errors.* rows' finding, so it does not turn this row into a failure.
    let gemini = json!([{"error": {"code": 400, "message": "Thinking level MEDIUM is not supported for this model.", "status": "INVALID_ARGUMENT"}}]);
    assert_outcome_of(
        &case_with_warnings(REASONING_MODELS, "reasoning/effort-medium", 400, gemini).await,
        "unsupported",
        "Thinking level MEDIUM is not supported",
    );
    // A 400 that is not about reasoning_effort is not a refusal of it.
    let other = json!({"error": {"message": "messages: too short", "type": "invalid_request_error", "param": "messages", "code": null}});
    assert_outcome_of(
        &case_with_warnings(REASONING_MODELS, "reasoning/effort-high", 400, other).await,
        "fail",
        "HTTP 400, expected 200",
    );
}

// --- reasoning.usage ---------------------------------------------------------------------------

#[tokio::test]
async fn reasoning_tokens_outside_completion_tokens_fail_as_u1() {
    // The numbers Clarifai#978 shows for Gemini through a gateway.
    let got = case_with_warnings(
        REASONING_MODELS,
        "reasoning/token-accounting",
        200,
        reasoned("42", 20, 198, 623, 405),
    )
    .await;
    assert_outcome_of(
        &got,
        "fail",
        "reasoning.usage: total_tokens 623 = prompt 20 + completion 198 + reasoning 405: completion_tokens excludes the reasoning tokens (QUIRKS U1",
    );
    // Totals that add up, but more reasoning than completion tokens.
    assert_outcome_of(
        &case_with_warnings(
            REASONING_MODELS,
            "reasoning/token-accounting",
            200,
            reasoned("42", 10, 5, 15, 8),
        )
        .await,
        "fail",
        "reasoning_tokens 8 > completion_tokens 5",
    );
    // No breakdown at all is fine: reasoning accounting is checked when present.
    assert_outcome_of(
        &case_with_warnings(
            REASONING_MODELS,
            "reasoning/token-accounting",
            200,
            chat_completion("42"),
        )
        .await,
        "pass",
        "",
    );
}

// --- reasoning.effort_honoured -----------------------------------------------------------------

#[tokio::test]
async fn effort_none_spending_reasoning_tokens_fails() {
    assert_outcome_of(
        &case_with_warnings(
            REASONING_MODELS,
            "reasoning/effort-none",
            200,
            reasoned("42", 15, 300, 315, 290),
        )
        .await,
        "fail",
        "reasoning.effort_honoured: reasoning_effort \"none\" asks for no reasoning, but 290 reasoning tokens were spent (the setting was ignored)",
    );
}

#[tokio::test]
async fn effort_level_without_reasoning_or_budget_overflow_warns() {
    let got = case_with_warnings(
        REASONING_MODELS,
        "reasoning/effort-high",
        200,
        reasoned("42", 15, 2, 17, 0),
    )
    .await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(
        &got,
        "reasoning_effort \"high\" accepted but 0 reasoning tokens",
    );
    // Gemini documents that the budget may be overflowed (the case asks for 256).
    let got = case_with_warnings(
        REASONING_MODELS,
        "reasoning/gemini-thinking-config",
        200,
        reasoned("42", 15, 402, 417, 400),
    )
    .await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(&got, "400 reasoning tokens exceed thinking_budget 256");
}

// --- reasoning.thoughts (QUIRKS R1, R3) --------------------------------------------------------

#[tokio::test]
async fn chain_of_thought_field_is_recorded_not_failed() {
    let mut body = reasoned("42", 15, 40, 55, 38);
    body["choices"][0]["message"]["reasoning_content"] = json!("17 + 25 = 42.");
    let got = case_with_warnings(REASONING_MODELS, "reasoning/effort-low", 200, body).await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(&got, "chain of thought in `reasoning_content`");
    let mut body = reasoned("42", 15, 40, 55, 38);
    body["choices"][0]["message"]["reasoning"] = json!("Add them.");
    body["choices"][0]["message"]["reasoning_details"] =
        json!([{"type": "reasoning.encrypted", "data": "…"}]);
    let got = case_with_warnings(REASONING_MODELS, "reasoning/token-accounting", 200, body).await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(&got, "`reasoning` (");
    assert_warned(&got, "`reasoning_details` (OpenRouter)");
}

#[tokio::test]
async fn inline_think_tags_warn_that_thoughts_reach_end_users() {
    // vLLM without a reasoning parser, DeepSeek-R1 behind a plain template. Content is free
    // text: the finding is the effect, not a wire deviation.
    let leaked = reasoned("<think>17 + 25 is 42.</think>\n42", 15, 40, 55, 0);
    let got = case_with_warnings(
        REASONING_MODELS,
        "reasoning/token-accounting",
        200,
        leaked.clone(),
    )
    .await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(
        &got,
        "`content` carries the chain of thought inline (<think>…): apps showing content show the model's thoughts to end users",
    );
    let half = reasoned("17 + 25 is 42.</think>42", 15, 40, 55, 0);
    let got = case_with_warnings(REASONING_MODELS, "reasoning/effort-low", 200, half).await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(&got, "(</think>…)");
    // With include_thoughts the inline thoughts were asked for (R3's guessed display).
    let asked = reasoned("<thought>Add.</thought> 42", 15, 40, 55, 30);
    let got = case_with_warnings(
        REASONING_MODELS,
        "reasoning/gemini-thinking-config",
        200,
        asked,
    )
    .await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(&got, "thoughts are inline in `content`");
    // ...and thoughts that never appear are worth a warning.
    let hidden = reasoned("42", 15, 40, 55, 30);
    let got = case_with_warnings(
        REASONING_MODELS,
        "reasoning/gemini-thinking-config",
        200,
        hidden,
    )
    .await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(&got, "no thoughts are visible");
}

// --- extensions.cached_content -----------------------------------------------------------------

fn cached(p: u64, cached: Value) -> Value {
    let mut body = chat_completion("A summary.");
    body["usage"] = json!({"prompt_tokens": p, "completion_tokens": 3, "total_tokens": p + 3,
        "prompt_tokens_details": {"cached_tokens": cached}});
    body
}

#[tokio::test]
async fn cached_tokens_must_be_part_of_the_prompt() {
    let got = case_with_warnings(
        REASONING_MODELS,
        "extensions/gemini-cached-content",
        200,
        cached(900, json!(850)),
    )
    .await;
    assert_outcome_of(&got, "pass", "");
    assert!(got.2.is_empty(), "{:?}", got.2);
    assert_outcome_of(
        &case_with_warnings(
            REASONING_MODELS,
            "extensions/gemini-cached-content",
            200,
            cached(50, json!(850)),
        )
        .await,
        "fail",
        "extensions.cached_content: cached_tokens 850 > prompt_tokens 50: cached tokens must be counted inside the prompt (QUIRKS U3",
    );
    let got = case_with_warnings(
        REASONING_MODELS,
        "extensions/gemini-cached-content",
        200,
        cached(9, json!(0)),
    )
    .await;
    assert_outcome_of(&got, "pass", "");
    assert_warned(&got, "cached_tokens is 0: the cache was not used");
    // An endpoint that does not know the extension refuses it: unsupported.
    let refused = json!({"error": {"message": "Unrecognized request argument supplied: google", "type": "invalid_request_error", "param": null, "code": null}});
    assert_outcome_of(
        &case_with_warnings(
            REASONING_MODELS,
            "extensions/gemini-cached-content",
            400,
            refused,
        )
        .await,
        "unsupported",
        "Unrecognized request argument supplied: google",
    );
}

// --- the built-in reference endpoint ------------------------------------------------------------

#[tokio::test]
async fn reasoning_and_extensions_pass_on_the_reference_endpoint() {
    let out = run_cli(
        &[
            "run",
            "--suite",
            "reasoning",
            "--suite",
            "extensions",
            "--opt-in",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 8, "{}", out.stdout);
    for r in results {
        assert_eq!(r["outcome"], "pass", "{r}");
    }
}

#[tokio::test]
async fn gemini_compat_refuses_medium_effort() {
    let out = run_cli(
        &[
            "run",
            "--suite",
            "reasoning",
            "--target",
            "reference:gemini-compat",
        ],
        &[],
    )
    .await;
    let (outcome, reason) = out.outcome("reference:gemini-compat", "reasoning/effort-medium");
    assert_eq!(outcome, "unsupported", "{reason}");
    assert!(reason.contains("Thinking level MEDIUM"), "{reason}");
    assert_eq!(
        out.outcome("reference:gemini-compat", "reasoning/effort-none")
            .0,
        "pass"
    );
}
