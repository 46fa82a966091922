//! The canary run: every suite (opt-in cases included), every report format, recordings,
//! pending snapshots, the step summary, `snapshots review`, a replay and a runbook, with a planted
//! key sent as a Bearer token, as `x-goog-api-key`, in a `?key=` query, and as an auth command's
//! token in `api-key` — against the reference endpoint (which requires the key), a hostile
//! endpoint that echoes it back everywhere, and an unreachable one. Not one byte written anywhere
//! may contain it.

use std::path::{Path, PathBuf};

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// The token printed by the `cmd` target's auth command: a secret learnt at run time.
const CMD_TOKEN: &str = "cmdtoken-Hq3vXw8pLr2Zk9Tn";

/// `run` of every target in `targets` and every suite (opt-in cases too), writing every output
/// there is: all report formats, the wide terminal, recordings in `rec` and pending snapshots
/// in `snaps`.
fn run_writing_everything<'a>(targets: &'a str, rec: &'a str, snaps: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--targets",
        targets,
        "--all-targets",
        "--opt-in",
        "--format",
        "json,md,html,junit",
        "--wide",
        "--record",
        rec,
        "--snapshots",
        "pending",
        "--snapshots-dir",
        snaps,
    ]
}

/// The replay of what [`run_writing_everything`] recorded in `rec`.
fn replay_of<'a>(targets: &'a str, rec: &'a str) -> [&'a str; 7] {
    [
        "run",
        "--targets",
        targets,
        "--all-targets",
        "--opt-in",
        "--replay",
        rec,
    ]
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// `path` itself when it is a file (the step summary, a baseline), else every file under it.
fn files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        walk(path)
    }
}

/// Every file under `dir` holding a secret, as `path: secret`.
fn leaks_in(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for p in files(dir) {
        let bytes = std::fs::read(&p).unwrap();
        for s in [CANARY, CMD_TOKEN] {
            if contains(&bytes, tell(s)) {
                out.push(format!("{}: {s}", p.display()));
            }
        }
    }
    out
}

fn leaks_in_text(what: &str, text: &str) -> Vec<String> {
    [CANARY, CMD_TOKEN]
        .iter()
        .filter(|s| text.contains(tell(s)))
        .map(|s| format!("{what}: {s}"))
        .collect()
}

/// An endpoint that echoes every credential it can in bodies, headers and error messages.
async fn hostile() -> MockServer {
    let server = MockServer::start().await;
    let echo = format!(
        "Authorization: Bearer {CANARY}; x-goog-api-key: {CANARY}; api-key={CMD_TOKEN}; https://x.test/v1?key={CANARY}"
    );
    let mut chat = chat_completion(&echo);
    chat["model"] = json!(CANARY);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat)
                .insert_header("x-echo-key", CANARY)
                .insert_header("x-goog-api-key", CANARY)
                .insert_header("api-key", CMD_TOKEN)
                .insert_header("set-cookie", format!("session={CANARY}")),
        )
        .up_to_n_times(40)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(error_envelope(
                    &format!("Incorrect API key provided: {CANARY} (token {CMD_TOKEN})"),
                    "invalid_request_error",
                    Some("invalid_api_key"),
                ))
                .insert_header("www-authenticate", format!("Bearer {CANARY}")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [{"id": CANARY, "object": "model", "created": 1, "owned_by": CMD_TOKEN}],
        })))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_canary_appears_in_no_byte_written_anywhere() {
    // The reference endpoint, requiring the canary as its key.
    let (addr, _server) = reference_endpoint(CANARY).await;
    let server = hostile().await;
    let models = reference_models();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let targets = d.join("targets.yaml");
    std::fs::write(
        &targets,
        format!(
            "targets:
  ref:
    base_url: http://{addr}/v1
    auth: {{ api_key_env: CANARY_KEY }}
    models: {{ {models} }}
  hostile:
    base_url: {uri}/v1beta/openai/?key=${{env:CANARY_KEY}}
    auth: {{ api_key_env: CANARY_KEY, header: x-goog-api-key }}
    models: {{ {models} }}
  cmd:
    base_url: {uri}/v1
    auth: {{ command: \"printf %s {CMD_TOKEN}\", header: api-key }}
    models: {{ {models} }}
  down:
    base_url: http://127.0.0.1:9/v1?key=${{env:CANARY_KEY}}
    auth: {{ api_key_env: CANARY_KEY }}
    models: {{ chat: m }}
",
            uri = server.uri()
        ),
    )
    .unwrap();
    let (rec, snaps, summary, runbook) = (
        d.join("recordings"),
        d.join("snapshots"),
        d.join("summary.md"),
        d.join("runbook"),
    );
    let (t, r, s) = (
        targets.to_str().unwrap(),
        rec.to_str().unwrap(),
        snaps.to_str().unwrap(),
    );
    let env = [
        ("CANARY_KEY", CANARY),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let mut leaks = vec![];

    let mut args = run_writing_everything(t, r, s);
    args.extend(["--timeout", "20"]);
    let out = run_cli(&args, &env).await;
    let report = out.report();
    let results = report["results"].as_array().unwrap();
    let suites: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["suite"].as_str().unwrap())
        .collect();
    let shipped = std::fs::read_dir(repo().join("suites")).unwrap().count();
    assert_eq!(suites.len(), shipped, "every suite ran: {suites:?}");
    assert!(
        results
            .iter()
            .any(|r| r["target"] == "ref" && r["outcome"] == "pass"),
        "the reference target accepted the key"
    );
    assert!(!walk(&rec).is_empty(), "recordings were written");
    assert!(!walk(&snaps).is_empty(), "pending snapshots were written");
    assert!(summary.is_file(), "the step summary was written");
    leaks.extend(leaks_in_text("run stdout/stderr", &out.all_output()));
    leaks.extend(leaks_in(&out.report_dir));
    assert!(
        out.all_output().contains("***"),
        "redaction marker expected"
    );

    let review = run_cli(&["snapshots", "review", "--snapshots-dir", s], &env).await;
    leaks.extend(leaks_in_text("snapshots review", &review.all_output()));

    let replay = run_cli(&replay_of(t, r), &[]).await;
    leaks.extend(leaks_in_text("replay", &replay.all_output()));

    let rb = run_cli(
        &[
            "runbook",
            "--targets",
            t,
            "--from",
            "ref",
            // The side whose token is learnt from its auth command (and echoed back to it).
            "--to",
            "cmd",
            "--report-dir",
            runbook.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    leaks.extend(leaks_in_text("runbook", &rb.all_output()));
    leaks.extend(leaks_in(&runbook));

    leaks.extend(leaks_in(&rec));
    leaks.extend(leaks_in(&snaps));
    leaks.extend(leaks_in(&summary));
    assert!(leaks.is_empty(), "the canary leaked:\n{}", leaks.join("\n"));
}

#[tokio::test]
async fn a_config_error_does_not_print_the_canary_it_was_built_from() {
    // A base_url that the environment fills with the key, and that is invalid once filled:
    // the error names the field as written, not its value.
    let (_dir, targets) = temp_file(
        "targets.yaml",
        "targets:\n  g:\n    base_url: \"ht tp://x/v1?key=${env:CANARY_KEY}\"\n    auth: { api_key_env: CANARY_KEY }\n    models: { chat: m }\n",
    );
    let t = targets.to_str().unwrap();
    for args in [
        &["validate", "--targets", t][..],
        &["run", "--targets", t, "--target", "g"][..],
    ] {
        let out = run_cli(args, &[("CANARY_KEY", CANARY)]).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.all_output());
        assert!(
            out.all_output().contains("invalid base_url"),
            "{args:?}: {}",
            out.all_output()
        );
        let leaks = leaks_in_text(args[0], &out.all_output());
        assert!(leaks.is_empty(), "the canary leaked:\n{}", leaks.join("\n"));
    }
}

/// A key of each provider's shape, each planted once: an OpenAI key (Bearer), a project key in a
/// custom header, a Gemini key (`x-goog-api-key`), an OAuth access token from an auth command,
/// another custom header's value and a URL's user-info password. All made up, and assembled with
/// `concat!` so that no key-shaped literal sits in the source for secret scanners to flag.
const OPENAI_KEY: &str = concat!("sk-", "Tq4mWz8Kp2Lx7Rv5Nc1Hb9Gd3Fs6Jy0Ue4Ai8Oo2Pk7Mn5");
const PROJECT_KEY: &str = concat!("sk-proj-", "Vd8Xq2Lm6Tz4Rw9Kc3Hp7Ny1Bg5Fj0Sa");
const GEMINI_KEY: &str = concat!("AIza", "SyQw3Er5Ty7Ui9Op1As3Jx5Gh7Jk9Lz2Xc");
const OAUTH_TOKEN: &str = concat!("ya29.", "Qz7Xw9Rv1Gh3Ij5Kl7Mn9Op1Qr3St5Uv7Wx");
const CUSTOM_VALUE: &str = "cst_Pm4Qn8Rv2Sw6Tx0Uy3Vz7Wa1Xb5Yc";
const URL_PASS: &str = "upw_Hj6Kl2Mn8Pq4Rs0Tu5Vw9Xy3Zq7Rx";
const SHAPES: [&str; 6] = [
    OPENAI_KEY,
    PROJECT_KEY,
    GEMINI_KEY,
    OAUTH_TOKEN,
    CUSTOM_VALUE,
    URL_PASS,
];

/// The fixed beginnings of the key shapes: the same in every key, so no part of a secret.
const PUBLIC: [&str; 4] = ["sk-proj-", "sk-", "AIza", "ya29."];

/// Every leak of a planted secret found in `bytes`: a run of 4 or more of its characters past
/// its public prefix, in any ASCII case (the rule of docs/reliability.md) — a whole key, a key
/// cut by an excerpt or by the endpoint, one echoed lower-cased, or a piece a stream's split
/// left.
fn pieces_in(what: &str, bytes: &[u8]) -> Vec<String> {
    const LEAK: usize = 4;
    static PIECES: std::sync::OnceLock<(aho_corasick::AhoCorasick, Vec<(&str, &str)>)> =
        std::sync::OnceLock::new();
    let (matcher, pieces) = PIECES.get_or_init(|| {
        let pieces: Vec<(&str, &str)> = SHAPES
            .iter()
            .chain([&ENCODED_VALUE])
            .flat_map(|s| {
                let own = &s[PUBLIC
                    .iter()
                    .find(|p| s.starts_with(*p))
                    .map_or(0, |p| p.len())..];
                (0..=own.len() - LEAK).map(move |i| (&own[i..i + LEAK], *s))
            })
            .chain(ENCODED_FORMS.iter().map(|f| (*f, ENCODED_VALUE)))
            .collect();
        let matcher = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(pieces.iter().map(|p| p.0))
            .unwrap();
        (matcher, pieces)
    });
    // A long base64 run (an image, an embedding) holds any 4 characters by chance.
    let in_base64 = |at: usize| {
        let b64 = |c: &u8| c.is_ascii_alphanumeric() || b"+/=".contains(c);
        let start = bytes[..at]
            .iter()
            .rposition(|c| !b64(c))
            .map_or(0, |i| i + 1);
        let end = bytes[at..]
            .iter()
            .position(|c| !b64(c))
            .map_or(bytes.len(), |i| at + i);
        end - start >= 200 && bytes[start..end].iter().any(|c| b"+/".contains(c))
    };
    let mut out: Vec<String> = matcher
        .find_overlapping_iter(bytes)
        .filter(|m| !in_base64(m.start()))
        .map(|m| {
            let (piece, secret) = pieces[m.pattern().as_usize()];
            let at = m.start().saturating_sub(40)..(m.end() + 40).min(bytes.len());
            format!(
                "{what}: `{piece}` of {secret} in …{}…",
                String::from_utf8_lossy(&bytes[at])
            )
        })
        .collect();
    out.dedup();
    out.truncate(5);
    out
}

/// The joined `delta.content` (and tool-call `arguments`) of every stream event found in
/// `text` — as the raw SSE text of a recording or of a report's body: a key split into pieces
/// of 1 to 3 characters holds no run of 4 in any one event, but a reader joins them.
fn joined_deltas(text: &str) -> String {
    let mut joined = String::new();
    for line in text.split('\n') {
        let Some(data) = line.trim().strip_prefix("data:") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
            continue;
        };
        let delta = &v["choices"][0]["delta"];
        for s in [
            &delta["content"],
            &delta["tool_calls"][0]["function"]["arguments"],
        ] {
            joined.push_str(s.as_str().unwrap_or(""));
        }
    }
    joined
}

/// Every string of every JSON file under `dir` (recordings, report.json) that holds stream
/// events, its deltas joined.
fn deltas_under(dir: &Path) -> String {
    fn strings(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) if s.contains("data:") => {
                out.push_str(&joined_deltas(s));
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(m) => m.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    for p in files(dir) {
        if let Ok(v) = serde_json::from_slice(&std::fs::read(&p).unwrap()) {
            strings(&v, &mut out);
        }
    }
    out
}

/// Every leak in a run's stdout, stderr, reports and the other outputs it wrote (`paths`).
fn pieces_of_run(out: &RunOutput, paths: &[&Path]) -> Vec<String> {
    let mut leaks = pieces_in("run stdout", out.stdout.as_bytes());
    leaks.extend(pieces_in("run stderr", out.stderr.as_bytes()));
    leaks.extend(pieces_under(&out.report_dir));
    for p in paths {
        leaks.extend(pieces_under(p));
    }
    leaks
}

fn pieces_under(dir: &Path) -> Vec<String> {
    files(dir)
        .iter()
        .flat_map(|p| pieces_in(&p.display().to_string(), &std::fs::read(p).unwrap()))
        .collect()
}

/// Text in which every planted secret recurs, separated by one space, each round shifted by a
/// character: wherever an excerpt cuts it (40, 60, 80, 120, 160 or 200 characters for reasons,
/// 16 KiB for bodies), the cut lands inside a secret.
fn secrets_everywhere(len: usize) -> String {
    let mut s = String::new();
    let mut round = 0;
    while s.len() < len {
        s.push_str(&"x".repeat(round % 7));
        for k in SHAPES {
            s.push_str(k);
            s.push(' ');
        }
        round += 1;
    }
    s
}

/// `k` cut into `n` pieces of (nearly) equal length.
fn pieces(k: &str, n: usize) -> Vec<String> {
    let size = k.len().div_ceil(n);
    k.as_bytes()
        .chunks(size)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect()
}

/// An endpoint echoing every planted secret: in message contents and error messages of every
/// length an excerpt cuts at, in bodies past 16 KiB, as header names (lower-cased: header names
/// are case-insensitive) and values, and split across 2, 3, 5 and 20 deltas of a stream.
async fn echoing() -> MockServer {
    use wiremock::matchers::body_partial_json;
    let server = MockServer::start().await;
    let mut headers = ResponseTemplate::new(200);
    for (i, k) in SHAPES.iter().enumerate() {
        headers = headers
            .insert_header(format!("x-{}", k.to_ascii_lowercase()).as_str(), "1")
            .insert_header(format!("x-echo-{i}").as_str(), *k);
    }
    let mut events = String::new();
    // Each key split across 2, 3, 5, 8, 10 and 20 deltas: the middle pieces are neither its
    // head nor its tail, and from 8 on they are 4 or 5 characters, at 20 one to 3.
    let splits = SHAPES
        .iter()
        .flat_map(|k| [2, 3, 5, 8, 10, 20].map(|n| (*k, pieces(k, n))));
    for (k, parts) in splits {
        for part in parts.iter().map(String::as_str).chain([" "]) {
            let chunk = json!({
                "id": "c", "object": "chat.completion.chunk", "created": 1, "model": k,
                "choices": [{"index": 0, "delta": {"content": part}, "finish_reason": null}]
            });
            events.push_str(&format!("data: {chunk}\n\n"));
        }
    }
    events.push_str("data: [DONE]\n\n");
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(
            headers
                .clone()
                .insert_header("content-type", "text/event-stream")
                .set_body_string(events),
        )
        .mount(&server)
        .await;
    for len in [300, 20_000] {
        let text = secrets_everywhere(len);
        let mut chat = chat_completion(&text);
        chat["model"] = json!(text[..200]);
        Mock::given(method("POST"))
            .respond_with(headers.clone().set_body_json(chat))
            .up_to_n_times(30)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(error_envelope(
                &text,
                "invalid_request_error",
                None,
            )))
            .up_to_n_times(30)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string(secrets_everywhere(17_000)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(headers.set_body_json(json!({
            "object": "list",
            "data": [{"id": secrets_everywhere(250), "object": "model", "created": 1, "owned_by": "o"}],
        })))
        .mount(&server)
        .await;
    server
}

/// Keys of every provider's shape, in every place a targets file can put one, echoed back cut at
/// every excerpt length, lower-cased in header names and split across stream deltas: no piece of
/// 4 or more characters of any of them, in any case, reaches any byte of any output, and the
/// deltas of no recorded or reported stream join into one.
#[tokio::test]
async fn no_piece_of_any_key_shape_reaches_any_output() {
    let server = echoing().await;
    let uri = server.uri();
    let hostport = uri.trim_start_matches("http://");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let targets = d.join("targets.yaml");
    std::fs::write(
        &targets,
        format!(
            "targets:
  openai:
    base_url: {uri}/v1
    auth: {{ api_key_env: OPENAI_KEY }}
    headers: {{ X-Portkey-Api-Key: \"${{env:PROJECT_KEY}}\", X-Custom: \"tag ${{env:CUSTOM_VALUE}}\" }}
    models: {{ chat: \"${{env:MODEL|public}}\", embedding: e, image: i, vision: v, audio: a, reasoning: r }}
  gemini:
    base_url: {uri}/v1beta/openai/
    auth: {{ api_key_env: GEMINI_KEY, header: x-goog-api-key }}
    models: {{ chat: m, embedding: e }}
  oauth:
    base_url: \"http://llm:${{env:URL_PASS}}@{hostport}/v1\"
    auth: {{ command: \"printf %s {OAUTH_TOKEN}\" }}
    models: {{ chat: m }}
"
        ),
    )
    .unwrap();
    let (rec, snaps, summary, merged, baseline) = (
        d.join("recordings"),
        d.join("snapshots"),
        d.join("summary.md"),
        d.join("merged"),
        d.join("baseline.json"),
    );
    let (t, r, s) = (
        targets.to_str().unwrap(),
        rec.to_str().unwrap(),
        snaps.to_str().unwrap(),
    );
    let env = [
        ("OPENAI_KEY", OPENAI_KEY),
        ("PROJECT_KEY", PROJECT_KEY),
        ("GEMINI_KEY", GEMINI_KEY),
        ("CUSTOM_VALUE", CUSTOM_VALUE),
        ("URL_PASS", URL_PASS),
        ("MODEL", "public-model-id"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let mut leaks = vec![];
    let out = run_cli(&run_writing_everything(t, r, s), &env).await;
    let report = out.report();
    assert!(
        report["results"].as_array().unwrap().len() > 20,
        "the suites ran"
    );
    // The public model id is not masked; the run did echo secrets back.
    assert!(out.all_output().contains("public-model-id"));
    assert!(out.all_output().contains("***"));
    leaks.extend(pieces_of_run(&out, &[&rec, &snaps, &summary]));

    let report_json = out.report_dir.join("report.json");
    let rj = report_json.to_str().unwrap();
    for args in [
        vec!["merge", rj, "--report-dir", merged.to_str().unwrap()],
        vec![
            "baseline",
            "save",
            "--from",
            rj,
            "-o",
            baseline.to_str().unwrap(),
        ],
        vec!["snapshots", "review", "--snapshots-dir", s],
    ] {
        let o = run_cli(&args, &env).await;
        assert!(o.code == 0 || o.code == 1, "{args:?}: {}", o.all_output());
        leaks.extend(pieces_in(args[0], o.all_output().as_bytes()));
    }
    leaks.extend(pieces_under(&merged));
    leaks.extend(pieces_under(&baseline));
    let replay = run_cli(&replay_of(t, r), &env).await;
    leaks.extend(pieces_in("replay", replay.all_output().as_bytes()));
    let joined = deltas_under(&rec) + &deltas_under(&out.report_dir);
    assert!(
        joined.contains("***"),
        "the streams were recorded and reported"
    );
    leaks.extend(pieces_in("joined stream deltas", joined.as_bytes()));
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// A custom header's secret with characters a URL and JSON write differently: echoed
/// percent-encoded in a URL and with `\/` for `/` (as PHP escapes it).
const ENCODED_VALUE: &str = "enc+Rw7/Tz3=Qy9:Mx5/Kv";
/// [`ENCODED_VALUE`] as an endpoint may echo it.
const ENCODED_FORMS: [&str; 2] = [
    "enc%2BRw7%2FTz3%3DQy9%3AMx5%2FKv",
    r"enc+Rw7\/Tz3=Qy9:Mx5\/Kv",
];

/// `text` padded in front with `x` so that `key` starts at character `at` of `text`'s JSON
/// form inside `doc` (where `PLACE` stands for it): a key straddling a cut made at a known
/// place of a body.
fn placing(doc: &serde_json::Value, at: usize, key: &str, rest: &str) -> String {
    let before = doc.to_string().find("PLACE").unwrap();
    format!("{}{key}{rest}", "x".repeat(at.saturating_sub(before)))
}

/// The second round of attacks: what the first canary tests did not try. Each one places a key
/// where a cut, an encoding or a renderer might let a piece of it through:
/// - in an error message at characters 193 to 207 (around the 200-character reason cut), and in
///   bodies straddling the 16 KiB cut of the report's body, at 16 380 to 16 390;
/// - its head of 4 to 7 characters cut by the endpoint itself (unmarked) and its last 4 after
///   `****`, as OpenAI quotes a key;
/// - upper-cased as a header value and as a JSON object key (which `--diff` shows as a path);
/// - percent-encoded in a URL and `\/`-escaped in a raw JSON body; an `Authorization: Basic`
///   header echoed as text;
/// - split across stream deltas of tool-call arguments, 1 to 5 characters each;
/// - in a snapshot that differs from an accepted one (the diff of `snapshots review`), in
///   recordings, in junit.xml's output and in the terminal's `--diff`.
/// Base64 of a key other than in `Basic` is out of scope (docs/reliability.md).
#[tokio::test]
async fn the_second_round_of_attacks_leaves_no_piece_of_a_key_anywhere() {
    use wiremock::matchers::body_partial_json;
    let key = OPENAI_KEY;
    let (head, tail) = (&key[..3 + 4], &key[key.len() - 4..]);
    let server = MockServer::start().await;
    // Streams: the key split into tool-call arguments of 1 to 5 characters.
    let mut events = String::new();
    for n in [1, 2, 3, 4, 5] {
        for part in key
            .as_bytes()
            .chunks(n)
            .map(|c| std::str::from_utf8(c).unwrap())
        {
            let chunk = json!({
                "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1",
                    "type": "function", "function": {"name": "f", "arguments": part}}]},
                    "finish_reason": null}]
            });
            events.push_str(&format!("data: {chunk}\n\n"));
        }
    }
    events.push_str("data: [DONE]\n\n");
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(events),
        )
        .mount(&server)
        .await;
    // Error messages with the key at characters 193..=207.
    for at in 193..=207 {
        let message = format!("{}{key} was refused", "e".repeat(at));
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(error_envelope(
                &message,
                "invalid_request_error",
                Some("invalid_api_key"),
            )))
            .up_to_n_times(2)
            .mount(&server)
            .await;
    }
    // Bodies with the key straddling the report's 16 KiB cut.
    for at in 16_380..=16_390 {
        let mut chat = chat_completion("PLACE");
        let content = placing(&chat, at, key, " end");
        chat["choices"][0]["message"]["content"] = json!(content);
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(chat))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    // Everything else, in every other answer.
    let basic = "Basic dXBzdHJlYW06aHVudGVyMnNlY3JldA==";
    let text = format!(
        "cut by the endpoint: {head} / {}… / key sk-****{tail} / see https://x.test/cb?t={} / {basic} / RAW",
        &key[..3 + 7],
        ENCODED_FORMS[0]
    );
    let mut chat = chat_completion(&text);
    chat["model"] = json!(head);
    chat[key.to_ascii_uppercase()] = json!({ "nested": key.to_ascii_uppercase() });
    // The raw body holds the `\/` form: JSON reads it as `/`, the recording keeps it.
    let raw = chat.to_string().replace("RAW", ENCODED_FORMS[1]);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-echo", key.to_ascii_uppercase().as_str())
                .insert_header("x-authorization-echo", basic)
                .insert_header("content-type", "application/json")
                .set_body_string(raw),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": [{"id": "m", "object": "model", "created": 1, "owned_by": key}],
        })))
        .mount(&server)
        .await;
    // A clean endpoint whose snapshots are accepted first, so the hostile run's differ.
    let clean = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_completion("clean")))
        .mount(&clean)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write_targets = |name: &str, uri: &str| {
        let p = d.join(name);
        std::fs::write(
            &p,
            format!(
                "targets:
  echo:
    base_url: {uri}/v1
    auth: {{ api_key_env: OPENAI_KEY }}
    headers: {{ X-Enc: \"${{env:ENCODED}}\" }}
    models: {{ chat: m }}
  other:
    base_url: {}/v1
    auth: {{ api_key_env: OPENAI_KEY }}
    models: {{ chat: m }}
",
                clean.uri()
            ),
        )
        .unwrap();
        p
    };
    let clean_targets = write_targets("clean.yaml", &clean.uri());
    let targets = write_targets("targets.yaml", &server.uri());
    let (rec, snaps, summary) = (d.join("rec"), d.join("snaps"), d.join("summary.md"));
    let (t, r, s) = (
        targets.to_str().unwrap(),
        rec.to_str().unwrap(),
        snaps.to_str().unwrap(),
    );
    let env = [
        ("OPENAI_KEY", key),
        ("ENCODED", ENCODED_VALUE),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let accepted = run_cli(
        &[
            "run",
            "--targets",
            clean_targets.to_str().unwrap(),
            "--target",
            "echo",
            "--suite",
            "chat",
            "--suite",
            "errors",
            "--suite",
            "streaming",
            "--snapshots",
            "update",
            "--snapshots-dir",
            s,
        ],
        &env,
    )
    .await;
    assert!(
        accepted.code == 0 || accepted.code == 1,
        "{}",
        accepted.all_output()
    );
    assert!(!walk(&snaps).is_empty(), "snapshots were accepted");
    let mut args = run_writing_everything(t, r, s);
    args.push("--diff");
    let out = run_cli(&args, &env).await;
    assert!(out.code == 1 || out.code == 3, "{}", out.all_output());
    let mut leaks = vec![];
    leaks.extend(pieces_of_run(&out, &[&rec, &snaps, &summary]));
    let review = run_cli(&["snapshots", "review", "--snapshots-dir", s], &env).await;
    leaks.extend(pieces_in(
        "snapshots review",
        review.all_output().as_bytes(),
    ));
    let joined = deltas_under(&rec) + &deltas_under(&out.report_dir);
    leaks.extend(pieces_in("joined stream deltas", joined.as_bytes()));
    let all = out.all_output();
    for (what, shown) in [
        ("the reason cut at 200", "was refused"),
        ("a body over 16 KiB", "xxxx***"),
        ("the endpoint's head of the key", "cut by the endpoint: ***"),
        ("the --diff of the responses", "***"),
        ("junit", "<testcase"),
    ] {
        assert!(all.contains(shown), "{what}: `{shown}` not in the outputs");
    }
    assert!(
        !all.contains("dXBzdHJlYW06"),
        "the Basic credentials leaked"
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
