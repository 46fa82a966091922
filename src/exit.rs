//! The exit-code table — the CI contract, in one place (also in README and CONTRIBUTING).

/// Every gated case passed (with `--baseline`: nothing that `--fail-on` names).
pub const OK: u8 = 0;
/// At least one gated case failed or errored; with `--baseline`, a regression against it (a
/// feature × target that passed and now does not) or an expired accepted deviation, plus new
/// failing cases under `--fail-on new` and any failing case under `--fail-on any`. `run` and
/// `merge`; for `clients`, a client library's call raised or returned lost or changed data.
pub const FAILED: u8 = 1;
/// Usage or configuration error: bad flags, bad YAML, unknown target, missing key variable, an
/// unreadable baseline, a bad `--shard`, reports that cannot be merged.
pub const CONFIG: u8 = 2;
/// `--snapshots pending` in CI left snapshots for review (`llm-parity snapshots review`); every
/// gated case passed. A failure takes precedence (exit 1).
pub const SNAPSHOTS_PENDING: u8 = 3;
/// `runbook` only: GO WITH CAVEATS — every used feature passes on NEW; deviations remain in
/// features the app does not use (or warnings).
pub const CAVEATS: u8 = 4;
/// An output could not be written — the reports, the recordings, the runbook or a baseline
/// file (a full disk, a `--report-dir` that is a file): CI must not read the run's result as
/// known. Takes precedence over every other code; the terminal still shows the result.
pub const WRITE: u8 = 5;
/// The run's deadline (`--run-timeout`) was reached: partial reports were written for the
/// finished cases, as on an interrupt.
pub const RUN_TIMEOUT: u8 = 124;
/// Interrupted (SIGINT/SIGTERM): partial reports were written for the finished cases.
pub const INTERRUPTED: u8 = 130;

/// The table, for `--help` and docs.
pub const TABLE: &str = "exit codes:
  0 all gated cases passed (or nothing --fail-on names against --baseline)
  1 a gated case failed or errored (with --baseline: a regression; clients: a call broke)
  2 usage or configuration error
  3 snapshots pending review (--snapshots pending in CI)
  4 runbook GO WITH CAVEATS
  5 an output (reports, recordings, runbook, baseline) could not be written
  124 run deadline reached (--run-timeout; partial reports written)
  130 interrupted (partial reports written)";
