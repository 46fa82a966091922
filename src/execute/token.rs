//! Tokens printed by a target's auth command (`auth: command:`, e.g. `gcloud auth
//! print-access-token`): run once per refresh for every case of the target, bounded in output
//! and in time, and never left running.
//!
//! - **Single flight.** Concurrent cases needing a token wait for one run of the command and
//!   share what it gave — the token, or the failure — until `refresh_after` (a 401 forces a new
//!   run): a hanging helper costs the run one deadline, not one per case in sequence.
//! - **Deadlines.** A run lasts at most the exchange deadline of the case that started it
//!   (`--timeout` or the target's `timeout`); a case waiting for someone else's run waits at most
//!   its own. `--run-timeout` and Ctrl-C cancel it like any request.
//! - **Bounded output.** At most [`OUTPUT_LIMIT`] bytes are read from each of its stdout and
//!   stderr; a helper printing more is stopped.
//! - **No orphans.** The command runs in its own process group; when it times out, prints too
//!   much or is cancelled, the whole group is killed (the shell and whatever it started).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::load::Secret;
use crate::util::text::excerpt;

/// The most a token command may print on stdout (a token is a few KiB at most), and the most
/// read of its stderr.
pub const OUTPUT_LIMIT: u64 = 64 * 1024;

/// Why a token could not be obtained: the exchange's `request` transport error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "auth command `{command}` did not finish within {limit:?} (the exchange deadline, --timeout); its process group was killed"
    )]
    Timeout { command: String, limit: Duration },
    #[error(
        "auth command `{command}` printed more than {OUTPUT_LIMIT} bytes; its process group was killed"
    )]
    TooMuch { command: String },
    #[error("failed to run auth command `{command}`: {error}")]
    Spawn { command: String, error: String },
    #[error("auth command `{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        /// An excerpt of what it printed on stderr.
        stderr: String,
    },
    #[error("auth command `{0}` printed no token")]
    Empty(String),
}

/// One target's token command and the token it last printed.
#[derive(Debug)]
pub struct TokenSource {
    command: String,
    refresh_after: Duration,
    /// Incremented by every run of the command, read before waiting for the lock: a caller
    /// that finds it changed once it holds the lock takes that run's result instead of
    /// running the command again.
    runs: AtomicU64,
    last: tokio::sync::Mutex<Option<(Result<Secret, TokenError>, Instant)>>,
}

impl TokenSource {
    pub fn new(command: String, refresh_after: Duration) -> Self {
        Self {
            command,
            refresh_after,
            runs: AtomicU64::new(0),
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The current token: what the last run gave (a token or a failure) while younger than
    /// `refresh_after` (unless `refresh`: the endpoint refused the token), else a new run of the
    /// command — or the run another case started meanwhile. Waits at most until `deadline`; `learnt` hears of each new token.
    pub async fn token(
        &self,
        refresh: bool,
        deadline: tokio::time::Instant,
        learnt: &(dyn Fn(&str) + Sync),
    ) -> Result<Secret, TokenError> {
        // As people read it: the exchange deadline less the moments spent before this call.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let limit = Duration::from_millis((left.as_millis() as u64).div_ceil(100) * 100);
        let timeout = || TokenError::Timeout {
            command: self.command.clone(),
            limit,
        };
        let seen = self.runs.load(Ordering::Acquire);
        let mut last = tokio::time::timeout_at(deadline, self.last.lock())
            .await
            .map_err(|_| timeout())?;
        if self.runs.load(Ordering::Acquire) != seen
            && let Some((result, _)) = last.as_ref()
        {
            // Someone ran the command while this case waited: share its result.
            return result.clone();
        }
        // A failure is kept as long as a token would be: a helper that hangs or fails costs
        // the run one deadline, not one per case.
        if !refresh
            && let Some((result, at)) = last.as_ref()
            && at.elapsed() < self.refresh_after
        {
            return result.clone();
        }
        let result = run(&self.command, deadline, limit).await;
        if let Ok(t) = &result {
            learnt(t.expose());
        }
        *last = Some((result.clone(), Instant::now()));
        self.runs.fetch_add(1, Ordering::Release);
        result
    }
}

/// One run of `command` outside a run of cases (`llm-parity clients`), within `limit`.
pub async fn run_once(command: &str, limit: Duration) -> Result<Secret, TokenError> {
    run(command, tokio::time::Instant::now() + limit, limit).await
}

/// Run `command` with `sh -c` in its own process group, reading at most [`OUTPUT_LIMIT`] of
/// each output, until it exits or `deadline`.
async fn run(
    command: &str,
    deadline: tokio::time::Instant,
    limit: Duration,
) -> Result<Secret, TokenError> {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| TokenError::Spawn {
        command: command.to_string(),
        error: e.to_string(),
    })?;
    // Killed with its whole group unless it ends by itself: on timeout, on too much output, and
    // when the case is cancelled (the future dropped).
    let group = GroupGuard(child.id());
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let finished = async {
        let (out, err) = tokio::join!(read_limited(stdout), read_limited(stderr));
        if out.len() as u64 > OUTPUT_LIMIT {
            return Err(TokenError::TooMuch {
                command: command.to_string(),
            });
        }
        let status = child.wait().await.map_err(|e| TokenError::Spawn {
            command: command.to_string(),
            error: e.to_string(),
        })?;
        Ok((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout_at(deadline, finished).await {
        Err(_) => {
            return Err(TokenError::Timeout {
                command: command.to_string(),
                limit,
            });
        }
        Ok(r) => r?,
    };
    group.disarm();
    if !status.success() {
        return Err(TokenError::Failed {
            command: command.to_string(),
            status: status.to_string(),
            stderr: excerpt(&String::from_utf8_lossy(&err), 200),
        });
    }
    let token = String::from_utf8_lossy(&out).trim().to_string();
    if token.is_empty() {
        return Err(TokenError::Empty(command.to_string()));
    }
    Ok(Secret::new(token))
}

/// Everything `r` gives up to one byte past [`OUTPUT_LIMIT`] (which tells "too much").
async fn read_limited(r: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(r) = r {
        // A read error ends the output; the exit status says what happened.
        let _ = r.take(OUTPUT_LIMIT + 1).read_to_end(&mut buf).await;
    }
    buf
}

/// Kills a process group when dropped, unless disarmed.
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a negative pid signals the process group the command leads
            // (it was started with process_group(0), so its pgid is its pid); no memory is
            // touched.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon(secs: u64) -> tokio::time::Instant {
        tokio::time::Instant::now() + Duration::from_secs(secs)
    }

    #[tokio::test]
    async fn prints_a_token_and_caches_it_until_refresh() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("n");
        let cmd = format!(
            "echo x >> {0}; printf 'tok-%s' $(wc -l < {0})",
            count.display()
        );
        let src = TokenSource::new(cmd, Duration::from_secs(3600));
        let t1 = src.token(false, soon(10), &|_| {}).await.unwrap();
        let t2 = src.token(false, soon(10), &|_| {}).await.unwrap();
        assert_eq!((t1.expose(), t2.expose()), ("tok-1", "tok-1"));
        let t3 = src.token(true, soon(10), &|_| {}).await.unwrap();
        assert_eq!(t3.expose(), "tok-2");
    }

    #[tokio::test]
    async fn a_helper_that_prints_forever_is_stopped_at_the_limit() {
        let src = TokenSource::new("yes".into(), Duration::from_secs(60));
        let e = src.token(false, soon(30), &|_| {}).await.unwrap_err();
        assert!(matches!(e, TokenError::TooMuch { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_failing_helper_says_why() {
        let src = TokenSource::new("echo nope >&2; exit 3".into(), Duration::from_secs(60));
        let e = src.token(false, soon(10), &|_| {}).await.unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        let src = TokenSource::new("true".into(), Duration::from_secs(60));
        let e = src.token(false, soon(10), &|_| {}).await.unwrap_err();
        assert_eq!(e, TokenError::Empty("true".into()));
    }
}
