//! Authentication, unknown routes, wrong methods, oversized bodies, the real listener.

use axum::body::Body;
use llm_parity_reference::{models, router, serve, Config, Deviations, Profile, MAX_BODY_BYTES};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

fn keyed() -> axum::Router {
    router(Config {
        deviations: Deviations::NONE,
        api_key: Some("sk-test-secret-key".into()),
        delay_ms: 0,
        stream_delay_ms: 0,
    })
}

#[tokio::test]
async fn auth_rejects_missing_and_wrong_keys_without_echoing_them() {
    let app = keyed();
    let r = send(&app, "GET", "/v1/models", Body::empty(), &[]).await;
    let v = assert_openai_error(&r, 401, None);
    assert_eq!(v["error"]["code"], "invalid_api_key");
    let r = send(
        &app,
        "GET",
        "/v1/models",
        Body::empty(),
        &[("authorization", "Bearer sk-wrong-but-long-key")],
    )
    .await;
    let v = assert_openai_error(&r, 401, None);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Incorrect API key provided: sk-***."),
        "{msg}"
    );
    assert!(!msg.contains("sk-wrong-but-long-key"));
    for (name, value) in [
        ("authorization", "Bearer sk-test-secret-key"),
        ("x-goog-api-key", "sk-test-secret-key"),
        ("api-key", "sk-test-secret-key"),
    ] {
        let r = send(&app, "GET", "/v1/models", Body::empty(), &[(name, value)]).await;
        assert_eq!(r.status, 200, "{name}");
    }
}

#[tokio::test]
async fn models_list_and_retrieve() {
    let app = app(Profile::OpenAi);
    let v = get(&app, "/v1/models").await.json();
    assert_eq!(v["object"], "list");
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for (_, id) in models() {
        assert!(ids.contains(&id.as_str()));
    }
    let m = get(&app, "/v1/models/ref-chat").await.json();
    assert_eq!(
        m,
        json!({"id": "ref-chat", "object": "model", "created": 1_700_000_000u64, "owned_by": "llm-parity"})
    );
    let r = get(&app, "/v1/models/gpt-nope").await;
    let v = assert_openai_error(&r, 404, None);
    assert_eq!(v["error"]["code"], "model_not_found");
    let roles: Vec<&str> = models().iter().map(|(r, _)| *r).collect();
    assert_eq!(
        roles,
        [
            "chat",
            "vision",
            "audio",
            "embedding",
            "image",
            "reasoning",
            "speech",
            "transcription"
        ]
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let app = app(Profile::OpenAi);
    let r = send(&app, "POST", "/v1/nope?key=secret", Body::empty(), &[]).await;
    let v = assert_openai_error(&r, 404, None);
    assert_eq!(v["error"]["message"], "Invalid URL (POST /v1/nope)");
    assert!(r.header("x-request-id").starts_with("req_"));
    let r = get(&app, "/elsewhere").await;
    assert_openai_error(&r, 404, None);
    let r = get(&app, "/v1/chat/completions").await;
    let v = assert_openai_error(&r, 405, None);
    assert_eq!(
        v["error"]["message"],
        "Invalid method for URL (GET /v1/chat/completions)"
    );
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = app(Profile::OpenAi);
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let r = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Body::from(big),
        &[("content-type", "application/json")],
    )
    .await;
    assert_openai_error(&r, 413, None);
}

#[tokio::test]
async fn serves_on_a_real_listener_with_delays() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        deviations: Deviations::NONE,
        api_key: None,
        delay_ms: 50,
        stream_delay_ms: 5,
    };
    let server = tokio::spawn(serve(listener, config));
    let started = std::time::Instant::now();
    let body = json!({"model": "ref-chat", "stream": true, "messages": [{"role": "user", "content": "hi"}]}).to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    socket.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text
        .to_lowercase()
        .contains("content-type: text/event-stream"));
    assert!(text.contains("data: [DONE]"));
    // 50 ms before headers plus 5 ms between each of the ~20 events.
    assert!(started.elapsed() >= std::time::Duration::from_millis(100));
    server.abort();
}
