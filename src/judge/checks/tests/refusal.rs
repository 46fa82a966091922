//! The "unsupported" rule (`classify_refusal`) and where `judge_step` applies it.

use serde_json::json;

use super::kit::{Row, ask, json, judge, plus, table, text};
use crate::judge::Outcome;
use crate::judge::errors::classify_refusal;

fn envelope(message: &str, param: Option<&str>) -> serde_json::Value {
    json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": null}})
}

/// (what, status, body, request, refused?)
#[test]
fn classify_refusal_table() {
    let with_n = plus(ask("hi"), json!({"n": 2}));
    let with_effort = plus(ask("hi"), json!({"reasoning_effort": "high"}));
    let rows: Vec<(&str, u16, serde_json::Value, serde_json::Value, bool)> = vec![
        (
            "404: the route is not implemented",
            404,
            envelope("Not Found", None),
            ask("hi"),
            true,
        ),
        (
            "405: method not allowed",
            405,
            envelope("Method Not Allowed", None),
            ask("hi"),
            true,
        ),
        (
            "501: not implemented",
            501,
            envelope("Not Implemented", None),
            ask("hi"),
            true,
        ),
        (
            "404 saying the model does not exist: configuration, not refusal",
            404,
            envelope("The model `gpt-x` does not exist", None),
            ask("hi"),
            false,
        ),
        (
            "405 naming a model is still a refusal (only 404 is about the model)",
            405,
            envelope("model endpoint: method not allowed", None),
            ask("hi"),
            true,
        ),
        (
            "400 naming a sent parameter in `param`",
            400,
            envelope("Invalid value", Some("n")),
            with_n.clone(),
            true,
        ),
        (
            "400 naming a nested sent parameter in `param`",
            400,
            envelope("Invalid value", Some("response_format.json_schema")),
            plus(
                ask("hi"),
                json!({"response_format": {"type": "json_schema", "json_schema": {}}}),
            ),
            true,
        ),
        (
            "400 whose `param` is a parameter that was not sent",
            400,
            envelope("Invalid value", Some("logit_bias")),
            with_n.clone(),
            false,
        ),
        (
            "400 whose `param` is `messages`: about the content, not a feature",
            400,
            envelope("Invalid value", Some("messages")),
            ask("hi"),
            false,
        ),
        (
            "400 naming a sent parameter in the message",
            400,
            envelope("reasoning_effort is invalid for this model", None),
            with_effort.clone(),
            true,
        ),
        (
            "400 naming only `model` in the message",
            400,
            envelope("model is required", None),
            ask("hi"),
            false,
        ),
        (
            "400 with refusal wording",
            400,
            envelope("This feature is not supported", None),
            ask("hi"),
            true,
        ),
        (
            "422 with refusal wording (FastAPI)",
            422,
            json!({"detail": [{"msg": "Extra inputs are not permitted", "type": "extra_forbidden"}]}),
            ask("hi"),
            true,
        ),
        (
            "400 Gemini `Unknown name` in a list-wrapped body",
            400,
            json!([{"error": {"code": 400, "message": "Invalid JSON payload received. Unknown name \"foo\": Cannot find field.", "status": "INVALID_ARGUMENT"}}]),
            ask("hi"),
            true,
        ),
        (
            "400 Unrecognized request argument",
            400,
            envelope("Unrecognized request argument supplied: seed", None),
            ask("hi"),
            true,
        ),
        (
            "400 about something else",
            400,
            envelope("Your prompt is too long", None),
            ask("hi"),
            false,
        ),
        (
            "400 about a bad model id",
            400,
            envelope("Invalid model name", None),
            ask("hi"),
            false,
        ),
        (
            "400 with an empty body",
            400,
            serde_json::Value::Null,
            ask("hi"),
            false,
        ),
        (
            "500 with refusal wording: a server error is never a refusal",
            500,
            envelope("n is not supported", Some("n")),
            with_n.clone(),
            false,
        ),
        (
            "503 with refusal wording",
            503,
            envelope("not available", None),
            ask("hi"),
            false,
        ),
        (
            "401 with refusal wording",
            401,
            envelope("not allowed", None),
            ask("hi"),
            false,
        ),
        (
            "429 with refusal wording",
            429,
            envelope("not permitted: rate limit", None),
            ask("hi"),
            false,
        ),
        (
            "200 is never a refusal",
            200,
            envelope("unsupported", None),
            ask("hi"),
            false,
        ),
    ];
    let mut pinned = String::new();
    for (what, status, body, request, refused) in rows {
        let resp = if body.is_null() {
            text(status, "application/json", "")
        } else {
            json(status, body)
        };
        let got = classify_refusal(&resp, Some(&request));
        assert_eq!(got.is_some(), refused, "{what}: {got:?}");
        if let Some(r) = &got {
            assert_eq!(r.check, "refusal", "{what}");
            assert_eq!(
                r.actual.as_deref(),
                Some(status.to_string().as_str()),
                "{what}"
            );
        }
        pinned.push_str(&format!(
            "{what}\n  => {}\n",
            got.map(|r| r.message)
                .unwrap_or_else(|| "not a refusal".into())
        ));
    }
    insta::assert_snapshot!(pinned);
}

/// Without the request (a body that was not JSON), only the status and the wording decide.
#[test]
fn without_a_request_only_wording_decides() {
    let named = json(400, envelope("Invalid value", Some("n")));
    assert!(classify_refusal(&named, None).is_none());
    let worded = json(400, envelope("n is not supported", None));
    assert!(classify_refusal(&worded, None).is_some());
    let missing = text(404, "text/plain", "404 page not found");
    let r = classify_refusal(&missing, None).expect("a 404 is a refusal");
    assert!(r.message.contains("404 page not found"), "{}", r.message);
}

/// The rule as `judge_step` applies it: only where success was expected, and never to a 404 on
/// a path built from an earlier step's capture (the resource was lost, the route exists).
#[test]
fn judge_step_applies_the_rule() {
    let rows = vec![
        Row::new(
            "a 404 where success was expected: unsupported",
            &["chat.response"],
            ask("hi"),
            json(404, envelope("Not Found", None)),
        ),
        Row::new(
            "a 404 on a captured path: a failure, the resource was lost",
            &[],
            json!({}),
            json(404, envelope("No such batch", None)),
        )
        .expect("{ status: 200 }")
        .path("/batches/{{capture.id}}"),
        Row::new(
            "a refusal where an error was expected: the status check decides",
            &["errors.envelope"],
            ask("hi"),
            json(404, envelope("Not Found", None)),
        )
        .expect("{ status: 400, checks: [errors.envelope] }"),
        Row::new(
            "a 500 naming the parameter: a failure",
            &["chat.n_choices"],
            plus(ask("hi"), json!({"n": 2})),
            json(500, envelope("n is not supported", Some("n"))),
        ),
        Row::new(
            "a 400 naming the parameter: unsupported",
            &["chat.n_choices"],
            plus(ask("hi"), json!({"n": 2})),
            json(400, envelope("n is not supported", Some("n"))),
        ),
    ];
    let outcomes: Vec<Outcome> = rows.iter().map(|r| judge(r).outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Unsupported,
            Outcome::Fail,
            Outcome::Fail,
            Outcome::Fail,
            Outcome::Unsupported
        ]
    );
    insta::assert_snapshot!(table(&rows));
}
