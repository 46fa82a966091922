//! Stopping a run early, with its cause: an interrupt (SIGINT, SIGTERM) or the run's own
//! deadline (`--run-timeout`). The cause is kept with the cancellation, so whoever sees the
//! run stop learns why from the same place.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::events::Cause;
use crate::exit;

/// Stops a run and remembers why (the first cause wins).
#[derive(Debug, Clone, Default)]
pub struct Stopper {
    token: CancellationToken,
    cause: Arc<OnceLock<Cause>>,
}

impl Stopper {
    pub fn stop(&self, cause: Cause) {
        let _ = self.cause.set(cause);
        self.token.cancel();
    }

    /// Why the run was stopped, once it was.
    pub fn cause(&self) -> Option<Cause> {
        self.cause.get().copied()
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Stop the run after `after` (`--run-timeout`); the task ends with the run (abort it).
    pub fn deadline(&self, after: Duration) -> tokio::task::JoinHandle<()> {
        let stopper = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            stopper.stop(Cause::RunTimeout(after));
        })
    }

    /// SIGINT and SIGTERM stop the run; a second SIGINT exits at once. The handlers are
    /// installed before this returns (not when the task is first polled), so a signal arriving
    /// as the run starts is never left to the default action, which would kill the process
    /// without reports. The task ends with the run (abort it).
    pub fn on_signals(&self) -> tokio::task::JoinHandle<()> {
        let stopper = self.clone();
        #[cfg(unix)]
        let streams = {
            use tokio::signal::unix::{SignalKind, signal};
            (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            )
        };
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                let (Ok(mut int), Ok(mut term)) = streams else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                stopper.stop(Cause::Interrupt);
                int.recv().await;
                std::process::exit(exit::INTERRUPTED as i32);
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
                stopper.stop(Cause::Interrupt);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cause_wins_and_cancels() {
        let s = Stopper::default();
        assert_eq!(s.cause(), None);
        s.stop(Cause::RunTimeout(Duration::from_secs(3)));
        s.stop(Cause::Interrupt);
        assert!(s.token().is_cancelled());
        assert_eq!(s.cause(), Some(Cause::RunTimeout(Duration::from_secs(3))));
    }
}
