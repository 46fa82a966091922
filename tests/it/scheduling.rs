//! The run loop as a user sees it: per-target and overall caps hold, a slow target never
//! starves a fast one, results come back in plan order whatever order cases finish in, and
//! `--report-bodies` decides what the reports keep.
//!
//! The servers here decide when to answer from what they have seen (how many requests are in
//! flight, how many another server answered), not from the clock, so the assertions hold on a
//! loaded machine too. Each wait has a generous fallback so a broken scheduler fails the test
//! instead of hanging it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::support::*;

/// What a gate server saw.
#[derive(Default)]
struct Seen {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Requests that have arrived (read in full).
    received: AtomicUsize,
    answered: AtomicUsize,
    /// Another server whose progress each arrival here notes.
    peer: OnceLock<Arc<Seen>>,
    /// Per arrival: the requests in flight here then (this one included), and how many the
    /// peer had received by then.
    arrivals: Mutex<Vec<(usize, usize)>>,
    /// Requests answered because a wait ran into its fallback deadline.
    by_fallback: AtomicUsize,
    changed: Notify,
}

impl Seen {
    /// Wait until `cond` holds, at most `fallback`; whether it held. `cond` is re-checked on
    /// every change of this server and every few milliseconds (it may watch another server).
    async fn wait(&self, fallback: Duration, cond: impl Fn() -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + fallback;
        loop {
            let notified = self.changed.notified();
            if cond() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            let _ = tokio::time::timeout(Duration::from_millis(5), notified).await;
        }
    }
}

/// A chat server on 127.0.0.1 that holds each request until `release(seen)` says so, then
/// answers a conformant chat completion (one request per connection).
async fn gate_server(
    release: impl Fn(&Seen) -> bool + Send + Sync + 'static,
) -> (String, Arc<Seen>) {
    lingering_gate_server(Duration::ZERO, release).await
}

/// Like [`gate_server`], and once released a request lingers up to `linger` more, so that a
/// request beyond a cap, if the harness sends one, is in flight at the same time and seen.
async fn lingering_gate_server(
    linger: Duration,
    release: impl Fn(&Seen) -> bool + Send + Sync + 'static,
) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let release = Arc::new(release);
    let st = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (seen, release) = (st.clone(), release.clone());
            tokio::spawn(async move { handle(sock, &seen, &*release, linger).await });
        }
    });
    (format!("http://{addr}/v1"), seen)
}

async fn handle(
    mut sock: TcpStream,
    seen: &Seen,
    release: &(dyn Fn(&Seen) -> bool + Sync),
    linger: Duration,
) {
    if read_request(&mut sock).await.is_none() {
        return;
    }
    seen.received.fetch_add(1, Ordering::SeqCst);
    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let peer_received = seen
        .peer
        .get()
        .map_or(0, |p| p.received.load(Ordering::SeqCst));
    seen.arrivals.lock().unwrap().push((now, peer_received));
    seen.changed.notify_waiters();
    if !seen.wait(Duration::from_secs(20), || release(seen)).await {
        seen.by_fallback.fetch_add(1, Ordering::SeqCst);
    }
    if !linger.is_zero() {
        let max = seen.max_in_flight.load(Ordering::SeqCst);
        seen.wait(linger, || seen.max_in_flight.load(Ordering::SeqCst) > max)
            .await;
    }
    let body = chat_completion("Hello there.").to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(body.as_bytes()).await;
    let _ = sock.shutdown().await;
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    seen.answered.fetch_add(1, Ordering::SeqCst);
    seen.changed.notify_waiters();
}

/// A temporary directory with `suites/sched.yaml`: `n` plain chat cases (`c0` … ).
fn suite_dir(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("suite: sched\ndescription: scheduling\ncases:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  - id: c{i}\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body: {{ model: \"{{{{model.chat}}}}\", messages: [{{ role: user, content: \"case {i}\" }}] }}\n    expect:\n      status: 200\n      schema: chat.completion\n"
        ));
    }
    std::fs::create_dir(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/sched.yaml"), yaml).unwrap();
    dir
}

/// `targets.yaml` for `(name, base_url, concurrency)`.
fn targets_file(dir: &std::path::Path, targets: &[(&str, &str, Option<usize>)]) -> String {
    let mut yaml = String::from("targets:\n");
    for (name, url, conc) in targets {
        yaml.push_str(&format!(
            "  {name}:\n    base_url: {url}\n    models: {{ chat: m }}\n"
        ));
        if let Some(c) = conc {
            yaml.push_str(&format!("    concurrency: {c}\n"));
        }
    }
    let p = dir.join("targets.yaml");
    std::fs::write(&p, yaml).unwrap();
    p.display().to_string()
}

async fn run_targets(
    suites: &std::path::Path,
    targets: &str,
    names: &[&str],
    extra: &[&str],
) -> RunOutput {
    let suites = suites.join("suites");
    let mut args = vec![
        "run",
        "--suite",
        suites.to_str().unwrap(),
        "--targets",
        targets,
    ];
    for n in names {
        args.extend(["--target", n]);
    }
    args.extend(extra);
    run_cli(&args, &[]).await
}

fn outcomes(report: &Value) -> Vec<(String, String, String)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap().to_string(),
                r["case"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `cap` requests are in flight, or every one of the run's `total` has arrived.
fn full_or_tail(s: &Seen, cap: usize, total: usize) -> bool {
    let in_flight = s.in_flight.load(Ordering::SeqCst);
    in_flight >= cap || in_flight + s.answered.load(Ordering::SeqCst) >= total
}

#[tokio::test]
async fn the_overall_cap_is_reached_and_never_exceeded() {
    // Two targets on one server, each allowed 5 at a time, under an overall cap of 3. Each
    // request waits until three are in flight (the cap) or the last ones have come, then
    // lingers a moment: with a broken cap the server sees more than three at once; with slots
    // left idle, it waits for the fallback.
    let (url, seen) =
        lingering_gate_server(Duration::from_millis(200), |s| full_or_tail(s, 3, 12)).await;
    let suites = suite_dir(6);
    let targets = targets_file(suites.path(), &[("a", &url, Some(5)), ("b", &url, Some(5))]);
    let out = run_targets(
        suites.path(),
        &targets,
        &["a", "b"],
        &["--concurrency", "3"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert_eq!(seen.max_in_flight.load(Ordering::SeqCst), 3);
    assert_eq!(seen.answered.load(Ordering::SeqCst), 12);
    assert_eq!(
        seen.by_fallback.load(Ordering::SeqCst),
        0,
        "the cap was never reached"
    );
}

#[tokio::test]
async fn a_targets_own_cap_holds_under_a_larger_overall_cap() {
    let (url, seen) =
        lingering_gate_server(Duration::from_millis(200), |s| full_or_tail(s, 2, 6)).await;
    let suites = suite_dir(6);
    let targets = targets_file(suites.path(), &[("t", &url, Some(2))]);
    let out = run_targets(suites.path(), &targets, &["t"], &["--concurrency", "8"]).await;
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert_eq!(seen.max_in_flight.load(Ordering::SeqCst), 2);
    assert_eq!(seen.by_fallback.load(Ordering::SeqCst), 0);
}

/// `slow` answers nothing until `fast` has answered all its `n` cases; both share `overall`
/// slots. A scheduler that let `slow`'s waiting cases fill the overall slots would stall until
/// the fallback. Returns what the slow server saw.
async fn assert_fast_not_starved(slow_cap: Option<usize>, overall: usize, n: usize) -> Arc<Seen> {
    let (fast_url, fast) = gate_server(|_| true).await;
    let fast_seen = fast.clone();
    let (slow_url, slow) =
        gate_server(move |_| fast_seen.answered.load(Ordering::SeqCst) >= n).await;
    let _ = slow.peer.set(fast.clone());
    let suites = suite_dir(n);
    let targets = targets_file(
        suites.path(),
        &[("slow", &slow_url, slow_cap), ("fast", &fast_url, None)],
    );
    let overall = overall.to_string();
    let out = run_targets(
        suites.path(),
        &targets,
        &["slow", "fast"],
        &["--concurrency", &overall],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert_eq!(fast.answered.load(Ordering::SeqCst), n);
    assert_eq!(slow.answered.load(Ordering::SeqCst), n);
    assert_eq!(
        slow.by_fallback.load(Ordering::SeqCst),
        0,
        "fast was starved"
    );
    slow
}

#[tokio::test]
async fn a_stalled_target_at_its_own_cap_leaves_the_other_slots() {
    let slow = assert_fast_not_starved(Some(1), 2, 6).await;
    assert_eq!(slow.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stalled_target_without_a_cap_gets_only_its_share_of_the_slots() {
    // Both targets may use every slot; the stalled one must still not take them all: a free
    // slot goes to the target with fewer cases in flight, so `slow` holds two of the four
    // while `fast` has cases left to start. Once `fast` has started its last case, `slow` may
    // take the slots `fast` frees; by then `fast` is one case short of done at most (three
    // slots taken, so `fast` had at most one in flight). So an arrival at `slow` that finds
    // three or more in flight must find `fast` with `n - 1` received or more. This holds
    // whatever the timing: it follows from the order of events, not from how long they take.
    let n = 8;
    let slow = assert_fast_not_starved(None, 4, n).await;
    let arrivals = slow.arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), n);
    let early = arrivals.iter().filter(|&&(_, fast_got)| fast_got + 2 <= n);
    let most = early.map(|&(here, _)| here).max().unwrap_or(0);
    assert!(
        most <= 2,
        "slow held {most} of 4 slots while fast had cases to start: {arrivals:?}"
    );
}

#[tokio::test]
async fn results_are_in_plan_order_whatever_order_cases_finish_in() {
    // Every request waits until all four are in flight, then all are answered at once: they
    // finish in whatever order the network gives; the report lists them as planned.
    let (url, seen) = gate_server(|s| {
        s.in_flight.load(Ordering::SeqCst) >= 4 || s.answered.load(Ordering::SeqCst) > 0
    })
    .await;
    let suites = suite_dir(4);
    let targets = targets_file(suites.path(), &[("t", &url, None)]);
    let out = run_targets(suites.path(), &targets, &["t"], &["--concurrency", "4"]).await;
    assert_eq!(out.code, 0, "{}", out.all_output());
    assert_eq!(seen.by_fallback.load(Ordering::SeqCst), 0);
    let got: Vec<String> = outcomes(&out.report())
        .into_iter()
        .map(|(_, c, _)| c)
        .collect();
    assert_eq!(got, ["c0", "c1", "c2", "c3"]);
}

#[tokio::test]
async fn report_bodies_keeps_all_failures_or_none() {
    // c0 passes; c1 expects a status the server never sends, so it fails.
    let (url, _) = gate_server(|_| true).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("suites")).unwrap();
    std::fs::write(
        dir.path().join("suites/b.yaml"),
        "suite: b\ndescription: bodies\ncases:\n  - id: c0\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body: { model: \"{{model.chat}}\", messages: [{ role: user, content: hi }] }\n    expect: { status: 200 }\n  - id: c1\n    feature: chat.basic\n    request:\n      path: /chat/completions\n      body: { model: \"{{model.chat}}\", messages: [{ role: user, content: hi }] }\n    expect: { status: 201 }\n",
    )
    .unwrap();
    let targets = targets_file(dir.path(), &[("t", &url, None)]);
    let kept = |ex: &Value| {
        [
            ex.get("request_body").is_some(),
            ex.get("response_body").is_some(),
            ex["request_headers"]
                .as_object()
                .is_some_and(|h| !h.is_empty()),
            ex.get("response_headers").is_some(),
        ]
    };
    for (policy, pass_kept, fail_kept) in [
        (None, true, true),
        (Some("all"), true, true),
        (Some("failures"), false, true),
        (Some("none"), false, false),
    ] {
        let mut extra = vec![];
        if let Some(p) = policy {
            extra = vec!["--report-bodies", p];
        }
        let out = run_targets(dir.path(), &targets, &["t"], &extra).await;
        assert_eq!(out.code, 1, "{policy:?}: {}", out.all_output());
        let report = out.report();
        validate_report(&report);
        for (case, want) in [("c0", pass_kept), ("c1", fail_kept)] {
            let ex = exchange(&report, case);
            assert_eq!(kept(ex), [want; 4], "{policy:?} {case}: {ex:#}");
            // Whatever the policy, the exchange itself is always listed.
            assert_eq!(ex["status"], 200, "{policy:?} {case}");
            assert!(
                ex["url"]
                    .as_str()
                    .unwrap()
                    .ends_with("/v1/chat/completions")
            );
        }
        // The report says which policy shaped it.
        match policy {
            None | Some("all") => assert!(report.get("report_bodies").is_none()),
            Some(p) => assert_eq!(report["report_bodies"], p),
        }
        let html = std::fs::read_to_string(out.report_dir.join("report.html")).unwrap();
        assert_eq!(
            html.matches("headers and bodies not kept").count(),
            usize::from(!pass_kept) + usize::from(!fail_kept),
            "{policy:?}: dropped exchanges say so in the HTML report"
        );
        assert_eq!(
            html.matches("<p>response body</p>").count(),
            usize::from(pass_kept) + usize::from(fail_kept),
            "{policy:?}: response bodies shown in the HTML report"
        );
    }
    let out = run_targets(dir.path(), &targets, &["t"], &["--report-bodies", "some"]).await;
    assert_eq!(out.code, 2, "{}", out.all_output());
    assert!(out.stderr.contains("--report-bodies"), "{}", out.stderr);
}
