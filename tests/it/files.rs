//! The `files` suite against the built-in reference endpoint and against an independent,
//! stateful Files API written here by hand from OpenAI's documented shapes (not produced by
//! the reference endpoint): the conformant server passes every case, each injected deviation
//! fails the feature it breaks (and only that one), and a server without the routes is
//! `unsupported`, never `fail`.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::embeddings::assert_check;
use crate::support::*;

const CASES: &[&str] = &[
    "files/upload",
    "files/upload-user-data",
    "files/list",
    "files/retrieve",
    "files/content",
    "files/delete",
];

/// One deviation of the scripted server (or none).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Dev {
    None,
    /// The download converts line endings to CRLF (a proxy "normalising" text).
    DownloadDiffers,
    /// `GET /files/{id}/content` answers 500 while the rest works.
    Download500,
    /// `deleted: "true"`, a string.
    DeletedAsString,
    /// The list never shows new uploads (a stale cache).
    StaleList,
    /// The upload reports a size that is not what was sent.
    WrongSize,
    /// Deleted files can still be retrieved.
    DeleteIgnored,
}

#[derive(Default)]
struct Store {
    files: Vec<(Value, Vec<u8>)>,
    deleted: Vec<String>,
}

/// The `filename` and bytes of the multipart part named `file`.
pub(crate) fn file_part(req: &Request) -> Option<(String, Vec<u8>)> {
    let body = &req.body;
    let at = find(body, b"name=\"file\"")?;
    let head_end = at + find(&body[at..], b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&body[at..head_end]);
    let filename = head
        .split("filename=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    let len = find(&body[head_end..], b"\r\n--")?;
    Some((filename, body[head_end..head_end + len].to_vec()))
}

/// The text of the multipart field `name`.
fn text_part(req: &Request, name: &str) -> Option<String> {
    let body = &req.body;
    let at = find(body, format!("name=\"{name}\"").as_bytes())?;
    let start = at + find(&body[at..], b"\r\n\r\n")? + 4;
    let len = find(&body[start..], b"\r\n--")?;
    Some(String::from_utf8_lossy(&body[start..start + len]).into_owned())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn not_found(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(error_envelope(
        &format!("No such File object: {id}"),
        "invalid_request_error",
        None,
    ))
}

fn id_of(req: &Request) -> String {
    req.url.path().split('/').nth(3).unwrap_or("").to_string()
}

async fn files_server(dev: Dev) -> MockServer {
    let server = MockServer::start().await;
    let store = Arc::new(Mutex::new(Store::default()));
    let s = store.clone();
    Mock::given(method("POST"))
        .and(path("/v1/files"))
        .respond_with(move |req: &Request| {
            let (Some((filename, bytes)), Some(purpose)) =
                (file_part(req), text_part(req, "purpose"))
            else {
                return ResponseTemplate::new(400).set_body_json(error_envelope(
                    "missing file or purpose",
                    "invalid_request_error",
                    None,
                ));
            };
            let mut st = s.lock().unwrap();
            let n = st.files.len();
            let size = if dev == Dev::WrongSize {
                bytes.len() + 1
            } else {
                bytes.len()
            };
            let object = json!({"id": format!("file-xyz{n:03}"), "object": "file", "bytes": size,
                "created_at": 1_735_689_600 + n as i64, "expires_at": null, "filename": filename,
                "purpose": purpose, "status": "processed", "status_details": null});
            st.files.push((object.clone(), bytes));
            ResponseTemplate::new(200).set_body_json(object)
        })
        .mount(&server)
        .await;
    let s = store.clone();
    Mock::given(method("GET"))
        .and(path("/v1/files"))
        .respond_with(move |_: &Request| {
            let st = s.lock().unwrap();
            let data: Vec<Value> = if dev == Dev::StaleList {
                vec![]
            } else {
                st.files
                    .iter()
                    .rev()
                    .filter(|(o, _)| !st.deleted.iter().any(|d| o["id"] == d.as_str()))
                    .map(|(o, _)| o.clone())
                    .collect()
            };
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data,
                "first_id": data.first().map(|o| o["id"].clone()),
                "last_id": data.last().map(|o| o["id"].clone()), "has_more": false}))
        })
        .mount(&server)
        .await;
    let s = store.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/files/[^/]+/content$"))
        .respond_with(move |req: &Request| {
            if dev == Dev::Download500 {
                return ResponseTemplate::new(500).set_body_json(error_envelope(
                    "Internal server error",
                    "server_error",
                    None,
                ));
            }
            let id = id_of(req);
            let st = s.lock().unwrap();
            match st.files.iter().find(|(o, _)| o["id"] == id.as_str()) {
                Some((_, bytes)) => {
                    let mut bytes = bytes.clone();
                    if dev == Dev::DownloadDiffers {
                        bytes = String::from_utf8_lossy(&bytes)
                            .replace('\n', "\r\n")
                            .into_bytes();
                    }
                    ResponseTemplate::new(200).set_body_raw(bytes, "application/octet-stream")
                }
                None => not_found(&id),
            }
        })
        .mount(&server)
        .await;
    let s = store.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/files/[^/]+$"))
        .respond_with(move |req: &Request| {
            let id = id_of(req);
            let st = s.lock().unwrap();
            let gone = st.deleted.contains(&id) && dev != Dev::DeleteIgnored;
            match st.files.iter().find(|(o, _)| o["id"] == id.as_str()) {
                Some((o, _)) if !gone => ResponseTemplate::new(200).set_body_json(o.clone()),
                _ => not_found(&id),
            }
        })
        .mount(&server)
        .await;
    let s = store;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/v1/files/[^/]+$"))
        .respond_with(move |req: &Request| {
            let id = id_of(req);
            let mut st = s.lock().unwrap();
            if !st.files.iter().any(|(o, _)| o["id"] == id.as_str()) {
                return not_found(&id);
            }
            st.deleted.push(id.clone());
            let deleted = if dev == Dev::DeletedAsString {
                json!("true")
            } else {
                json!(true)
            };
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": id, "object": "file", "deleted": deleted}))
        })
        .mount(&server)
        .await;
    server
}

async fn run_files(dev: Dev) -> RunOutput {
    let server = files_server(dev).await;
    let base = format!("{}/v1", server.uri());
    run_cli(&["run", "--suite", "files", "--base-url", &base], &[]).await
}

/// Every case passes except `failing`, which has `outcome`.
fn only(out: &RunOutput, failing: &str, outcome: &str) {
    for case in CASES {
        let (got, reason) = out.outcome("adhoc", case);
        let want = if *case == failing { outcome } else { "pass" };
        assert_eq!(got, want, "{case}: {reason}\n{}", out.stdout);
    }
}

#[tokio::test]
async fn suite_passes_on_the_builtin_reference_and_gemini_compat() {
    for target in ["reference", "reference:gemini-compat"] {
        let out = run_cli(&["run", "--suite", "files", "--target", target], &[]).await;
        assert_eq!(out.code, 0, "{target}\n{}\n{}", out.stdout, out.stderr);
        for case in CASES {
            assert_eq!(out.outcome(target, case).0, "pass", "{target} {case}");
        }
    }
}

#[tokio::test]
async fn a_conformant_independent_server_passes_every_case() {
    let out = run_files(Dev::None).await;
    only(&out, "", "");
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[tokio::test]
async fn a_download_that_differs_from_the_upload_fails_files_content() {
    let out = run_files(Dev::DownloadDiffers).await;
    only(&out, "files/content", "fail");
    assert_check(
        &out,
        "files/content",
        "fail",
        "body",
        "fail",
        "the body differs from files/requests.jsonl",
    );
}

#[tokio::test]
async fn a_500_on_a_route_that_exists_is_a_failure_not_unsupported() {
    let out = run_files(Dev::Download500).await;
    only(&out, "files/content", "fail");
    let (_, reason) = out.outcome("adhoc", "files/content");
    assert!(reason.starts_with("download: status: HTTP 500"), "{reason}");
}

#[tokio::test]
async fn deletion_deviations_fail_files_delete() {
    let out = run_files(Dev::DeletedAsString).await;
    only(&out, "files/delete", "fail");
    assert_check(
        &out,
        "files/delete",
        "fail",
        "files.deleted",
        "fail",
        "`deleted` is \"true\", expected true (a boolean)",
    );
    let out = run_files(Dev::DeleteIgnored).await;
    only(&out, "files/delete", "fail");
    let (_, reason) = out.outcome("adhoc", "files/delete");
    assert!(
        reason.starts_with("retrieve deleted: status: HTTP 200, expected 404"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_list_without_the_upload_fails_files_list() {
    let out = run_files(Dev::StaleList).await;
    only(&out, "files/list", "fail");
    assert_check(
        &out,
        "files/list",
        "fail",
        "jsonpath:$.data[*].id",
        "fail",
        "no value at this path",
    );
}

#[tokio::test]
async fn a_size_that_is_not_the_upload_fails_every_upload() {
    let out = run_files(Dev::WrongSize).await;
    for case in CASES {
        assert_eq!(out.outcome("adhoc", case).0, "fail", "{case}");
    }
    assert_check(
        &out,
        "files/upload",
        "fail",
        "files.object",
        "fail",
        "`bytes` is 380, but 379 bytes were uploaded",
    );
}

#[tokio::test]
async fn an_endpoint_without_the_routes_is_unsupported() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_json(error_envelope(
            "Not Found",
            "invalid_request_error",
            None,
        )))
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let out = run_cli(&["run", "--suite", "files", "--base-url", &base], &[]).await;
    for case in CASES {
        let (got, reason) = out.outcome("adhoc", case);
        assert_eq!(got, "unsupported", "{case}: {reason}");
    }
}
