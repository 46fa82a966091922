//! The HTML report in a real headless browser (Debian's chromium as its headless shell,
//! installed by `scripts/browser/install.sh`), opened from a `file://` URL as a person would
//! open it: the matrix renders, the page attempts no network request, and a screenshot is left
//! under the repo's `reports/` for people to look at.
//!
//! "No network request" is observed, not assumed: Chromium is pointed at a proxy that is a TCP
//! listener of this test, with loopback not bypassed, so any fetch the page (or the browser on
//! its behalf) attempts arrives there as a connection. A second test proves the detector sees an
//! `<img>` from elsewhere. The headless shell rather than the full browser because the full one
//! calls Google services of its own on every start (no flag stops them; see the install script),
//! which would drown the page's own behaviour.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// A hung browser is a test failure, not a stuck CI.
const BROWSER_DEADLINE: Duration = Duration::from_secs(60);

/// The browser binary. These tests are `#[ignore]`d (a plain `cargo test` lists them as
/// ignored); `scripts/test.sh` installs the browser and runs them with `--include-ignored`, and
/// when they run, a missing browser is a failure.
fn chromium() -> PathBuf {
    let path = PathBuf::from("/usr/bin/chromium-headless-shell");
    assert!(
        path.is_file(),
        "{} is not installed: run scripts/browser/install.sh (scripts/test.sh does)",
        path.display()
    );
    path
}

/// A proxy that answers nothing useful: it records the request line of every connection it
/// receives and closes it with `502`, so the browser never waits on it.
struct ProxyTrap {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProxyTrap {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy trap");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut sock, _)) => {
                        let _ = sock.set_nonblocking(false);
                        let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut buf = [0u8; 2048];
                        let n = sock.read(&mut buf).unwrap_or(0);
                        let text = String::from_utf8_lossy(&buf[..n]);
                        let line = text.lines().next().unwrap_or("(nothing sent)").to_string();
                        seen2.lock().unwrap().push(line);
                        let _ = sock.write_all(
                            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn connections(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ProxyTrap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct BrowserRun {
    stdout: String,
    stderr: String,
}

/// Open `page` in headless Chromium with `mode` (`--dump-dom` or `--screenshot=…`), every
/// request sent to `proxy`; killed (its whole process group) after `BROWSER_DEADLINE`.
fn open_in_chromium(browser: &Path, page: &Path, proxy: &ProxyTrap, mode: &[String]) -> BrowserRun {
    use std::os::unix::process::CommandExt;

    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let url = url::Url::from_file_path(page).expect("absolute page path");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        // Loopback is normally never proxied; here it must be, or a request to 127.0.0.1
        // would escape the trap.
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(mode)
        .arg(url.as_str())
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        // Files, not pipes: a large DOM dump would fill a pipe nobody reads while we wait.
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > BROWSER_DEADLINE {
            // The browser and its helpers (renderer, zygote) share the group we gave it.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = BrowserRun {
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    };
    match status {
        None => panic!(
            "chromium did not finish within {BROWSER_DEADLINE:?} (killed)\nstderr:\n{}",
            run.stderr
        ),
        Some(s) if !s.success() => panic!("chromium exited with {s}\nstderr:\n{}", run.stderr),
        Some(_) => run,
    }
}

/// Messages the page itself logged (errors from the filter script, CSP refusals).
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Refused to") || l.contains("Uncaught"))
        .collect()
}

#[tokio::test]
#[ignore = "needs chromium-headless-shell (scripts/browser/install.sh; scripts/test.sh runs it)"]
async fn report_html_renders_offline_in_a_real_browser() {
    let browser = chromium();
    let out = run_cli(
        &[
            "run",
            "--target",
            "reference",
            "--target",
            "reference:gemini-compat",
        ],
        &[],
    )
    .await;
    let page = out.report_dir.join("report.html");
    assert!(
        page.is_file(),
        "no report.html (exit {})\nstdout:\n{}\nstderr:\n{}",
        out.code,
        out.stdout,
        out.stderr
    );

    let proxy = ProxyTrap::start();
    let dom = open_in_chromium(&browser, &page, &proxy, &["--dump-dom".to_string()]);
    // The matrix rendered: the features of both areas, the comparison, the charts.
    for needle in [
        "id=\"matrix\"",
        "<code>chat.basic</code>",
        "<code>errors.bad_model</code>",
        "<code>models.list</code>",
        "Differences between targets",
        "reference:gemini-compat",
        "<svg",
    ] {
        assert!(
            dom.stdout.contains(needle),
            "the rendered DOM lacks {needle:?}\nstderr:\n{}",
            dom.stderr
        );
    }
    let rows = dom.stdout.matches("<tr class=\"feature\"").count();
    assert!(rows >= 15, "only {rows} feature rows rendered");
    assert!(
        console_errors(&dom.stderr).is_empty(),
        "the page logged errors:\n{}",
        console_errors(&dom.stderr).join("\n")
    );

    let shot = repo().join("reports").join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    open_in_chromium(
        &browser,
        &page,
        &proxy,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,1000".to_string(),
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot is not a PNG page"
    );

    assert_eq!(
        proxy.connections(),
        Vec::<String>::new(),
        "report.html (or the browser opening it) attempted network requests"
    );
    eprintln!("screenshot of report.html: {}", shot.display());
}

/// The detector itself: a page that does load something from elsewhere must be caught.
#[tokio::test]
#[ignore = "needs chromium-headless-shell (scripts/browser/install.sh; scripts/test.sh runs it)"]
async fn network_detector_catches_an_external_image() {
    let browser = chromium();
    let (_dir, page) = temp_file(
        "leaky.html",
        "<!DOCTYPE html><html><body><p>leaky</p><img src=\"http://example.invalid/x.png\"></body></html>",
    );
    let proxy = ProxyTrap::start();
    let dom = open_in_chromium(&browser, &page, &proxy, &["--dump-dom".to_string()]);
    assert!(dom.stdout.contains("leaky"), "page did not render");
    let seen = proxy.connections();
    assert!(
        seen.iter().any(|l| l.contains("example.invalid")),
        "the proxy trap saw no request for the external image: {seen:?}"
    );
}
