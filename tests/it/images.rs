//! The `images` suite against a scripted image server: conformant responses pass, and each
//! deviation (a `url` for `b64_json`, a data: URI, bytes that are no image, `n` ignored, a
//! `created` in milliseconds, `output_format` ignored) fails the check that names it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::embeddings::assert_check;
use crate::support::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dev {
    None,
    Jpeg,
    Webp,
    Url,
    DataUri,
    NotAnImage,
    IgnoreN,
    Milliseconds,
}

fn png() -> Vec<u8> {
    std::fs::read(repo().join("fixtures/media/images/red.png")).expect("fixture red.png")
}

fn respond(dev: Dev, req: &Request) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let n = if dev == Dev::IgnoreN {
        1
    } else {
        body["n"].as_u64().unwrap_or(1)
    };
    let bytes = match dev {
        Dev::Jpeg => std::fs::read(repo().join("fixtures/media/images/blue.jpg")).unwrap(),
        Dev::Webp => {
            b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0/\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0"
                .to_vec()
        }
        Dev::NotAnImage => b"<html>quota exceeded</html>".to_vec(),
        _ => png(),
    };
    let item = match dev {
        Dev::Url => json!({"url": "https://images.example/abc.png"}),
        Dev::DataUri => {
            json!({"b64_json": format!("data:image/png;base64,{}", STANDARD.encode(&bytes))})
        }
        _ => json!({"b64_json": STANDARD.encode(&bytes), "revised_prompt": "p"}),
    };
    let created: i64 = if dev == Dev::Milliseconds {
        1_735_689_600_000
    } else {
        1_735_689_600
    };
    ResponseTemplate::new(200)
        .set_body_json(json!({"created": created, "data": vec![item; n as usize]}))
}

async fn run(dev: Dev, suite: &str, filter: Option<&str>) -> RunOutput {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .respond_with(move |req: &Request| respond(dev, req))
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let mut args = vec![
        "run",
        "--suite",
        suite,
        "--base-url",
        &base,
        "--model",
        "image=m",
    ];
    if let Some(f) = filter {
        args.extend(["--filter", f]);
    }
    let out = run_cli(&args, &[]).await;
    drop(server);
    out
}

#[tokio::test]
async fn suite_passes_on_the_builtin_reference() {
    let out = run_cli(&["run", "--suite", "images"], &[]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|r| r["outcome"] == "pass"),
        "{results:#?}"
    );
}

#[tokio::test]
async fn png_jpeg_and_webp_all_pass() {
    for dev in [Dev::None, Dev::Jpeg, Dev::Webp] {
        let out = run(dev, "images", None).await;
        for case in ["images/b64-json", "images/n-two"] {
            let (outcome, reason) = out.outcome("adhoc", case);
            assert_eq!(outcome, "pass", "{dev:?} {case}: {reason}");
        }
    }
}

#[tokio::test]
async fn url_for_b64_json_means_response_format_ignored() {
    let out = run(Dev::Url, "images", Some("images/b64-json")).await;
    assert_check(
        &out,
        "images/b64-json",
        "fail",
        "images.b64_json",
        "fail",
        "`response_format: b64_json` was ignored",
    );
}

#[tokio::test]
async fn data_uri_and_non_image_bytes_are_named() {
    let out = run(Dev::DataUri, "images", Some("images/b64-json")).await;
    assert_check(
        &out,
        "images/b64-json",
        "fail",
        "images.b64_json",
        "fail",
        "data: URI",
    );
    let out = run(Dev::NotAnImage, "images", Some("images/b64-json")).await;
    assert_check(
        &out,
        "images/b64-json",
        "fail",
        "images.b64_json",
        "fail",
        "not PNG, JPEG or WebP",
    );
}

#[tokio::test]
async fn response_catches_n_ignored_and_milliseconds() {
    let out = run(Dev::IgnoreN, "images", Some("images/n-two")).await;
    assert_check(
        &out,
        "images/n-two",
        "fail",
        "images.response",
        "fail",
        "1 image(s) for n: 2",
    );
    let out = run(Dev::Milliseconds, "images", Some("images/b64-json")).await;
    assert_check(
        &out,
        "images/b64-json",
        "fail",
        "images.response",
        "fail",
        "not a plausible Unix time",
    );
}

#[tokio::test]
async fn output_format_ignored_fails() {
    // No shipped case sends `output_format` (dall-e models refuse it); a scratch suite does.
    let (_dir, suite) = temp_suite(
        r#"suite: images-output-format
description: output_format honoured.
cases:
  - id: webp
    feature: images.output_format
    request:
      path: /images/generations
      body: { model: "{{model.image}}", prompt: "x", response_format: b64_json, output_format: webp }
    expect:
      status: 200
      checks: [images.b64_json]
"#,
    );
    let suite = suite.to_string_lossy().into_owned();
    let out = run(Dev::None, &suite, None).await;
    assert_check(
        &out,
        "images-output-format/webp",
        "fail",
        "images.b64_json",
        "fail",
        "image is png, `output_format: webp` was requested",
    );
    let out = run(Dev::Webp, &suite, None).await;
    assert_eq!(out.outcome("adhoc", "images-output-format/webp").0, "pass");
}
