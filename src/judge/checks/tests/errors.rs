//! `errors.*`: the error envelope and the meaning of errors.

use serde_json::json;

use super::kit::{Row, ask, json, table, text};

fn err(status: u16, body: serde_json::Value) -> Row {
    Row::new("", &[], ask("hi"), json(status, body))
        .expect("{ status: 4xx, checks: [errors.envelope] }")
}

fn named(mut r: Row, what: &'static str) -> Row {
    r.what = what;
    r
}

#[test]
fn errors_envelope() {
    let ok = json!({"error": {"message": "bad", "type": "invalid_request_error", "param": null, "code": null}});
    let rows = vec![
        named(err(400, ok), "OpenAI's envelope"),
        named(
            err(
                400,
                json!({"error": {"message": "bad", "type": "invalid_request_error", "code": null}}),
            ),
            "no `param` (Groq)",
        ),
        named(
            err(
                400,
                json!({"error": {"message": "bad", "type": "invalid_request_error", "param": null}}),
            ),
            "no `code`",
        ),
        named(
            err(
                400,
                json!({"error": {"message": "", "type": "None", "param": "None", "code": 400}}),
            ),
            "Python None rendered as text, a numeric code, an empty message",
        ),
        named(
            err(
                400,
                json!({"error": {"message": 3, "param": "", "code": []}}),
            ),
            "wrong types, an empty param",
        ),
        named(
            err(
                400,
                json!([{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}]),
            ),
            "list-wrapped (Gemini)",
        ),
        named(
            err(
                400,
                json!({"0": {"error": {"code": 400, "message": "n is not supported", "status": "INVALID_ARGUMENT"}}}),
            ),
            "list-wrapped reshaped by a router into an object",
        ),
        named(
            err(
                400,
                json!({"object": "error", "message": "bad", "type": "BadRequestError", "param": null, "code": 400}),
            ),
            "flat (vLLM)",
        ),
        named(err(422, json!({"detail": "bad"})), "FastAPI detail"),
        named(err(400, json!({"error": "bad"})), "a string error"),
        named(
            err(400, json!({"error_code": 1, "message": "bad"})),
            "another object",
        ),
        named(err(400, json!(["bad"])), "another JSON value"),
        named(
            Row::new("", &[], ask("hi"), text(400, "text/plain", "Bad Request"))
                .expect("{ status: 4xx, checks: [errors.envelope] }"),
            "not JSON",
        ),
        named(
            Row::new("", &[], ask("hi"), text(400, "application/json", ""))
                .expect("{ status: 4xx, checks: [errors.envelope] }"),
            "empty",
        ),
        named(
            Row::new(
                "",
                &[],
                ask("hi"),
                text(
                    400,
                    "text/plain",
                    r#"{"error": {"message": "bad", "type": "t", "param": null, "code": null}}"#,
                ),
            )
            .expect("{ status: 4xx, checks: [errors.envelope] }"),
            "JSON with another content type",
        ),
        named(
            Row::new(
                "",
                &[],
                ask("hi"),
                json(
                    200,
                    json!({"error": {"message": "bad", "type": "t", "param": null, "code": null}}),
                ),
            )
            .expect("{ status: [200, 4xx], checks: [errors.envelope] }"),
            "HTTP 200 carrying an error",
        ),
        named(
            Row::new("", &[], ask("hi"), json(200, json!({"id": "x"})))
                .expect("{ status: [200, 4xx], checks: [errors.envelope] }"),
            "HTTP 200 success where an error was expected",
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn errors_meaning() {
    let e = |msg: &str, ty: &str, code: serde_json::Value| json!({"error": {"message": msg, "type": ty, "param": null, "code": code}});
    let model = |status: u16, body| {
        Row::new("", &[], ask("hi"), json(status, body))
            .expect("{ status: 4xx, checks: [errors.model_not_found] }")
    };
    let key = |status: u16, body| {
        Row::new("", &[], ask("hi"), json(status, body))
            .expect("{ status: 4xx, checks: [errors.invalid_api_key] }")
    };
    let rows = vec![
        named(
            model(
                404,
                e(
                    "The model does not exist",
                    "invalid_request_error",
                    json!("model_not_found"),
                ),
            ),
            "model: OpenAI's 404 model_not_found",
        ),
        named(
            model(
                400,
                e("Invalid model", "invalid_request_error", json!(null)),
            ),
            "model: 400 without a code",
        ),
        named(
            key(
                401,
                e(
                    "Incorrect API key",
                    "invalid_request_error",
                    json!("invalid_api_key"),
                ),
            ),
            "key: OpenAI's 401 invalid_api_key",
        ),
        named(
            key(
                400,
                json!([{"error": {"code": 400, "message": "API key not valid", "status": "INVALID_ARGUMENT"}}]),
            ),
            "key: Gemini's 400, list-wrapped",
        ),
        named(
            key(
                401,
                e("bad key", "api_error", json!("invalid_request_error")),
            ),
            "key: 401 typed api_error with code invalid_request_error",
        ),
        named(
            key(403, e("forbidden", "authentication_error", json!(null))),
            "key: 403",
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn errors_context_length() {
    let openai = json!({"error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 1100000 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}});
    let row = |status: u16, body, what| {
        named(
            Row::new("", &[], ask("the of and"), json(status, body))
                .expect("{ status: 4xx, checks: [errors.envelope, errors.context_length] }"),
            what,
        )
    };
    let rows = vec![
        row(400, openai, "OpenAI's 400 context_length_exceeded"),
        row(
            400,
            json!([{"error": {"code": 400, "message": "The input token count (1100000) exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}]),
            "Gemini's list-wrapped 400",
        ),
        row(
            400,
            json!({"error": {"message": "This model's maximum context length is 131072 tokens.", "type": "invalid_request_error", "param": null, "code": "invalid_request_error"}}),
            "DeepSeek: the code is the type name, no param",
        ),
        row(
            413,
            json!({"error": {"message": "Request too large", "type": "invalid_request_error", "param": null, "code": "context_length_exceeded"}}),
            "413 with the right code",
        ),
        row(
            200,
            super::kit::completion(json!({"role": "assistant", "content": "Sure."})),
            "accepted: the input truncated",
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}
