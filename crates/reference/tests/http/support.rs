//! Request helpers shared by the tests.

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use llm_parity_reference::{router, Config, Profile};
use serde_json::Value;
use tower::ServiceExt;

/// A router with default configuration for `profile`.
pub fn app(profile: Profile) -> Router {
    router(Config {
        deviations: profile.deviations(),
        api_key: None,
        delay_ms: 0,
        stream_delay_ms: 0,
    })
}

/// A raw response.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Sends one request with optional extra headers.
pub async fn send(
    app: &Router,
    method: &str,
    path: &str,
    body: Body,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// POSTs a JSON body.
pub async fn post(app: &Router, path: &str, body: &Value) -> Reply {
    send(
        app,
        "POST",
        path,
        Body::from(body.to_string()),
        &[("content-type", "application/json")],
    )
    .await
}

/// GETs a path.
pub async fn get(app: &Router, path: &str) -> Reply {
    send(app, "GET", path, Body::empty(), &[]).await
}

/// Asserts an OpenAI error envelope with `status` and `param`.
pub fn assert_openai_error(r: &Reply, status: u16, param: Option<&str>) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    let v = r.json();
    let e = &v["error"];
    assert!(e["message"].is_string(), "{v}");
    assert!(e["type"].is_string(), "{v}");
    assert!(e.get("param").is_some() && e.get("code").is_some(), "{v}");
    assert_eq!(e["param"].as_str(), param, "{v}");
    v
}

/// The `data:` payloads of an SSE body, in order.
pub fn sse_data(text: &str) -> Vec<String> {
    assert!(text.ends_with("\n\n"), "events end with a blank line");
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("bad frame {e:?}"))
                .to_string()
        })
        .collect()
}

/// Every `delta.tool_calls[]` item of a stream's first choice, in order.
pub fn tool_call_deltas(chunks: &[Value]) -> Vec<&Value> {
    chunks
        .iter()
        .flat_map(|c| {
            c["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .collect()
}

/// Validates `instance` against `schema` with an independent validator.
pub fn assert_valid(schema: &Value, instance: &Value) {
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{instance} is invalid: {errors:?}");
}

/// A minimal chat request body.
pub fn chat_body(text: &str) -> Value {
    serde_json::json!({ "model": "ref-chat", "messages": [{ "role": "user", "content": text }] })
}
