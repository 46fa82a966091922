//! vision and audio against scripted responses: every `vision.*`/`audio.*` check passes on the
//! conformant shape and fails, naming the deviation, on the deviating one; refusals are
//! `unsupported` and server errors for a media part are failures (QUIRKS E10).

use base64::Engine;
use serde_json::{Value, json};

use crate::support::*;

const MODELS: &[&str] = &["vision=m-vision", "audio=m-audio"];

fn fixture_base64(rel: &str) -> String {
    let bytes = std::fs::read(repo().join("fixtures").join(rel)).unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn with_usage(content: &str, usage: Value) -> Value {
    let mut body = chat_completion(content);
    body["usage"] = usage;
    body
}

// --- success and refusal ------------------------------------------------------------------------

#[tokio::test]
async fn every_image_case_passes_on_a_conformant_reply() {
    for case in [
        "vision/data-uri-png",
        "vision/data-uri-jpeg",
        "vision/two-images",
        "vision/detail-low",
        "vision/remote-url",
    ] {
        let got = case_with_warnings(MODELS, case, 200, chat_completion("Red.")).await;
        assert_outcome_of(&got, "pass", "");
        assert!(got.2.is_empty(), "{case}: {:?}", got.2);
    }
}

#[tokio::test]
async fn image_refusal_is_unsupported_with_the_endpoints_message() {
    let body = json!({"error": {"message": "Invalid content type. image_url is only supported by certain models.", "type": "invalid_request_error", "param": "messages.[0].content.[1].type", "code": null}});
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/data-uri-png", 400, body).await,
        "unsupported",
        "image_url is only supported by certain models",
    );
}

#[tokio::test]
async fn server_error_for_an_image_is_a_failure_not_unsupported() {
    // llama-server without a projector, and LiteLLM failing to fetch a URL (QUIRKS E10).
    let llama = json!({"error": {"code": 500, "message": "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj", "type": "server_error"}});
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/data-uri-png", 500, llama).await,
        "fail",
        "HTTP 500, expected 200: image input is not supported",
    );
    let litellm = json!({"error": {"message": "litellm.APIConnectionError: Unable to fetch image from url", "type": null, "param": null, "code": "500"}});
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/remote-url", 500, litellm).await,
        "fail",
        "HTTP 500",
    );
}

#[tokio::test]
async fn audio_cases_pass_and_refusal_is_unsupported() {
    for case in ["audio/wav", "audio/mp3"] {
        assert_outcome_of(
            &case_with_warnings(MODELS, case, 200, chat_completion("A short beep.")).await,
            "pass",
            "",
        );
    }
    let body = json!({"error": {"message": "This model does not support audio input.", "type": "invalid_request_error", "param": "messages", "code": null}});
    assert_outcome_of(
        &case_with_warnings(MODELS, "audio/wav", 400, body).await,
        "unsupported",
        "does not support audio input",
    );
}

// --- vision.not_stringified / audio.not_stringified ----------------------------------------------

#[tokio::test]
async fn echoed_image_data_fails_not_stringified() {
    let b64 = fixture_base64("media/images/red.png");
    // What a model does with a data URI pasted into its prompt: continues it.
    let echo = format!("The image is data:image/png;base64,{}", &b64[..60]);
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/data-uri-png", 200, chat_completion(&echo)).await,
        "fail",
        "vision.not_stringified: the reply repeats the base64 data of image 1",
    );
    // The second image of two, echoed from its middle.
    let green = fixture_base64("media/images/green.png");
    let mid = format!("... {} ...", &green[1000..1080]);
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/two-images", 200, chat_completion(&mid)).await,
        "fail",
        "the reply repeats the base64 data of image",
    );
}

#[tokio::test]
async fn echoed_audio_data_fails_not_stringified() {
    let b64 = fixture_base64("media/audio/tone.mp3");
    assert_outcome_of(
        &case_with_warnings(MODELS, "audio/mp3", 200, chat_completion(&b64[..64])).await,
        "fail",
        "audio.not_stringified: the reply repeats the base64 data of audio clip 1",
    );
}

// --- vision.usage / audio.usage ----------------------------------------------------------------

#[tokio::test]
async fn image_token_breakdown_is_checked() {
    let ok = with_usage(
        "Red.",
        json!({"prompt_tokens": 100, "completion_tokens": 2, "total_tokens": 102,
               "prompt_tokens_details": {"text_tokens": 15, "image_tokens": 85, "cached_tokens": 0}}),
    );
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/detail-low", 200, ok).await,
        "pass",
        "",
    );
    let over = with_usage(
        "Red.",
        json!({"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14,
               "prompt_tokens_details": {"image_tokens": 765}}),
    );
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/data-uri-png", 200, over).await,
        "fail",
        "vision.usage: image_tokens 765 > prompt_tokens 12",
    );
    let sum = with_usage(
        "Red.",
        json!({"prompt_tokens": 100, "completion_tokens": 2, "total_tokens": 102,
               "prompt_tokens_details": {"text_tokens": 40, "image_tokens": 85}}),
    );
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/data-uri-jpeg", 200, sum).await,
        "fail",
        "text_tokens 40 + image_tokens 85 = 125 > prompt_tokens 100",
    );
    let not_int = with_usage(
        "Red.",
        json!({"prompt_tokens": 100, "completion_tokens": 2, "total_tokens": 102,
               "prompt_tokens_details": {"image_tokens": "85"}}),
    );
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/data-uri-png", 200, not_int).await,
        "fail",
        // The schema sees the type first.
        "/usage/prompt_tokens_details/image_tokens",
    );
}

#[tokio::test]
async fn zero_image_tokens_is_a_warning_not_a_failure() {
    // An ignored image (or a breakdown that does not count it): visible, not failed.
    let ignored = with_usage(
        "I cannot see any image.",
        json!({"prompt_tokens": 1500, "completion_tokens": 6, "total_tokens": 1506,
               "prompt_tokens_details": {"text_tokens": 1500, "image_tokens": 0}}),
    );
    let got = case_with_warnings(MODELS, "vision/two-images", 200, ignored).await;
    assert_outcome_of(&got, "pass", "");
    assert!(
        got.2
            .iter()
            .any(|w| w.contains("image_tokens is 0 although 2 image(s) were sent")),
        "{:?}",
        got.2
    );
}

#[tokio::test]
async fn audio_token_breakdown_is_checked() {
    let ok = with_usage(
        "A beep.",
        json!({"prompt_tokens": 30, "completion_tokens": 3, "total_tokens": 33,
               "prompt_tokens_details": {"audio_tokens": 8, "cached_tokens": 0}}),
    );
    assert_outcome_of(
        &case_with_warnings(MODELS, "audio/wav", 200, ok).await,
        "pass",
        "",
    );
    let over = with_usage(
        "A beep.",
        json!({"prompt_tokens": 30, "completion_tokens": 3, "total_tokens": 33,
               "prompt_tokens_details": {"audio_tokens": 300}}),
    );
    assert_outcome_of(
        &case_with_warnings(MODELS, "audio/wav", 200, over).await,
        "fail",
        "audio.usage: audio_tokens 300 > prompt_tokens 30",
    );
    let zero = with_usage(
        "A beep.",
        json!({"prompt_tokens": 30, "completion_tokens": 3, "total_tokens": 33,
               "prompt_tokens_details": {"audio_tokens": 0}}),
    );
    let got = case_with_warnings(MODELS, "audio/mp3", 200, zero).await;
    assert_outcome_of(&got, "pass", "");
    assert!(
        got.2.iter().any(|w| w.contains("audio_tokens is 0")),
        "{:?}",
        got.2
    );
}

// --- vision.strict_part_validation (QUIRKS M2) --------------------------------------------------

#[tokio::test]
async fn bare_string_image_url_must_be_refused() {
    let refused = json!({"error": {"message": "Invalid type for 'messages[0].content[1].image_url': expected an object, but got a string instead.", "type": "invalid_request_error", "param": "messages[0].content[1].image_url", "code": "invalid_type"}});
    assert_outcome_of(
        &case_with_warnings(MODELS, "vision/bare-string-image-url", 400, refused).await,
        "pass",
        "",
    );
    // A FastAPI-style validation error is a refusal too.
    assert_outcome_of(
        &case_with_warnings(MODELS,
            "vision/bare-string-image-url",
            422,
            json!({"detail": [{"loc": ["body", "messages", 0], "msg": "Input should be a valid dictionary"}]}),
        )
        .await,
        "pass",
        "",
    );
    assert_outcome_of(
        &case_with_warnings(
            MODELS,
            "vision/bare-string-image-url",
            200,
            chat_completion("Red."),
        )
        .await,
        "fail",
        "vision.strict_part_validation: HTTP 200: a bare-string `image_url` was accepted (lenient, QUIRKS M2)",
    );
    assert_outcome_of(
        &case_with_warnings(MODELS,
            "vision/bare-string-image-url",
            500,
            json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": null}}),
        )
        .await,
        "fail",
        "HTTP 500",
    );
}

// --- the built-in reference endpoint ------------------------------------------------------------

#[tokio::test]
async fn media_suites_pass_on_the_reference_endpoint() {
    let out = run_cli(
        &["run", "--suite", "vision", "--suite", "audio", "--opt-in"],
        &[],
    )
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    // 6 vision cases, 2 audio inputs, 11 speech and transcription cases.
    assert_eq!(results.len(), 19, "{}", out.stdout);
    for r in results {
        assert_eq!(r["outcome"], "pass", "{r}");
    }
}
