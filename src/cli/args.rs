//! Command-line flags (clap derive). Parsed strings are turned into the engine's configuration
//! once, in `cli::run`; the engine never sees clap types.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "llm-parity",
    version,
    about = "Conformance and smoke tests for OpenAI-compatible LLM APIs",
    after_help = crate::exit::TABLE
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites against targets and write the reports.
    Run(Box<RunArgs>),
    /// List suites, cases, features, checks or targets.
    List(ListArgs),
    /// Load and compile every suite, schema and targets file; report every problem; no network.
    Validate(ProjectArgs),
    /// Serve the built-in reference endpoint (for client tests).
    Serve(ServeArgs),
    /// Review, accept or reject pending snapshots (`.snap.new` files).
    Snapshots(SnapshotsArgs),
    /// Migration smoke test: OLD vs NEW endpoint, ending in GO / GO WITH CAVEATS / NO-GO.
    Runbook(Box<super::runbook::RunbookArgs>),
    /// Save a baseline file from a report, or prune it of cases that no longer exist.
    Baseline(super::gate::BaselineArgs),
    /// Combine shard reports (`run --shard I/N`) into one report and re-render md/html/junit.
    Merge(Box<super::gate::MergeArgs>),
    /// Scaffold a project here (or in DIR): targets.yaml, suites/my-app.yaml and a GitHub
    /// Actions workflow; existing files are left as they are.
    Init(super::init::InitArgs),
    /// Print the shell completion script for bash, zsh, fish or PowerShell.
    Completions(super::completions::CompletionsArgs),
    /// Print the manual page (roff), or write every command's page into a directory.
    Man(super::completions::ManArgs),
}

/// Where the project's inputs are. The built-in suites, schemas, media fixtures and snapshots are
/// inside the binary; a project adds to them (`llm-parity init` writes one).
#[derive(Debug, Args, Clone)]
pub struct ProjectArgs {
    /// Suites to load: a name (a suite in the project's `suites/`, else a built-in one), a file
    /// or a directory (repeatable; default: every built-in suite and every project suite).
    #[arg(long = "suite", value_name = "NAME|PATH")]
    pub suites: Vec<String>,
    /// The project directory (default: the current one): its `suites/` are added to the
    /// built-in suites, its `fixtures/` and `snapshots/` come before the built-in ones, and
    /// `targets.yaml`, `--snapshots-dir`, `--record` and `--replay` paths are relative to it.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Deprecated: run only the suites in DIR, no built-in ones (as `--suite DIR` does);
    /// `--project` adds a project's `suites/` to the built-in suites instead.
    #[arg(long, value_name = "DIR")]
    pub suites_dir: Option<PathBuf>,
    /// Fixture files referenced by `{{fixture:…}}` (default: the project's `fixtures/`; the
    /// built-in media fixtures are found after it).
    #[arg(long, value_name = "DIR")]
    pub fixtures_dir: Option<PathBuf>,
    /// Extra JSON Schemas (`<id>.json`) beside the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub schemas_dir: Option<PathBuf>,
    /// Allow fixture paths outside the fixtures directory.
    #[arg(long)]
    pub allow_fixture_escape: bool,
    /// Targets file (default: the project's `targets.yaml` when present).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
}

impl ProjectArgs {
    /// A path of the project's own (snapshots, recordings, its suites and fixtures): relative
    /// to `--project` when given, so nothing lands silently in the current directory.
    pub fn in_project(&self, path: &Path) -> PathBuf {
        match &self.project {
            Some(dir) => dir.join(path),
            None => path.to_path_buf(),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// A target by name: from the targets file, or built in (`reference`, `reference:gemini-compat`).
    #[arg(long = "target", value_name = "NAME")]
    pub names: Vec<String>,
    /// Every target in the targets file.
    #[arg(long)]
    pub all_targets: bool,
    /// An ad-hoc target's base URL (e.g. `http://127.0.0.1:8080/v1`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The environment variable holding the ad-hoc target's key (sent as a Bearer token).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// A model for a role on the ad-hoc (or `env`) target, e.g. `chat=gpt-4o-mini` (repeatable).
    #[arg(long = "model", value_name = "ROLE=ID")]
    pub models: Vec<String>,
    /// The ad-hoc target's name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only cases whose `suite/case` id matches a glob (repeatable).
    #[arg(long = "filter", value_name = "GLOB")]
    pub filters: Vec<String>,
    /// Also run cases tagged `opt-in`.
    #[arg(long)]
    pub opt_in: bool,
    /// Where the reports go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    /// Cases in flight overall.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Deadline per exchange, in seconds (headers and body).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Longest silence allowed inside a body or stream, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub idle_timeout: f64,
    /// Largest response body read, in bytes (suffixes k, M accepted).
    #[arg(long, value_name = "BYTES", default_value = "8M")]
    pub max_body: String,
    /// A PEM root certificate to trust (endpoints behind a private CA).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Retry HTTP 429, 5xx and connection failures up to N times (default 0: a conformance run
    /// shows flakiness instead of hiding it). Every attempt is recorded in the report.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// First retry backoff, in seconds (doubling, with jitter); `Retry-After` takes precedence.
    #[arg(long, value_name = "SECS", default_value_t = 0.5)]
    pub retry_delay: f64,
    /// Longest wait before a retry, in seconds (caps `Retry-After` too).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub retry_max_delay: f64,
    /// Deadline for the whole run, in seconds: when reached, the run stops as on Ctrl-C
    /// (partial reports) and exits 124.
    #[arg(long, value_name = "SECS")]
    pub run_timeout: Option<f64>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Run each case K times (latency samples; a case passing and failing across repeats is flaky).
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Do not fail the run for flaky cases (they are still reported).
    #[arg(long)]
    pub allow_flaky: bool,
    /// Report every other target's latency relative to this one (as if they were its routers).
    #[arg(long, value_name = "NAME")]
    pub baseline_target: Option<String>,
    /// Full-width terminal matrix (default: abbreviated to fit 80 columns when needed).
    #[arg(long)]
    pub wide: bool,
    /// Report files to write (comma-separated): json, md, html, junit. Default: all.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FORMATS",
        default_value = "json,md,html,junit"
    )]
    pub format: Vec<ReportFormat>,
    /// Which exchanges keep their headers and bodies in the reports: all, failures (cases
    /// that did not pass), none. Method, URL, status, timings and attempts are always kept.
    #[arg(long, value_enum, value_name = "WHICH", default_value = "all")]
    pub report_bodies: crate::report::model::BodyPolicy,
    /// Record every exchange (redacted) as DIR/<target>/<key>.json, for --replay (DIR relative
    /// to the project).
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "fixtures/recordings", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Serve the recordings in DIR (relative to the project) instead of the live endpoints; no
    /// key variable is needed.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "fixtures/recordings")]
    pub replay: Option<PathBuf>,
    /// Snapshots: verify (write nothing), new (write missing), update (overwrite changed),
    /// pending (write `.snap.new` files for `llm-parity snapshots review`).
    #[arg(long, value_enum, value_name = "MODE", default_value = "verify")]
    pub snapshots: SnapshotsFlag,
    /// Where snapshots are stored (`<dir>/<target>/<suite>/<case>.snap`), relative to the
    /// project; a built-in suite's shipped snapshot is found after it.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub snapshots_dir: PathBuf,
    /// Gate against a baseline: a baseline file (`llm-parity baseline save`) or a previous
    /// report.json. Fails only for what --fail-on names.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: regression (default; a feature × target that passed and now does not),
    /// new (also failing cases the baseline does not know), any (any failing case).
    #[arg(long, value_enum, value_name = "WHAT", requires = "baseline")]
    pub fail_on: Option<super::gate::FailOnFlag>,
    /// Run a deterministic 1/N of the cases (I from 1 to N); combine with `llm-parity merge`.
    #[arg(long, value_name = "I/N", value_parser = crate::plan::shard::parse)]
    pub shard: Option<crate::plan::shard::Shard>,
}

impl RunArgs {
    /// The snapshot and recording directories under `--project` (see `ProjectArgs::in_project`).
    pub fn in_project(mut self) -> Self {
        self.snapshots_dir = self.project.in_project(&self.snapshots_dir);
        self.record = self.record.map(|d| self.project.in_project(&d));
        self.replay = self.replay.map(|d| self.project.in_project(&d));
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapshotsFlag {
    Verify,
    New,
    Update,
    Pending,
}

impl From<SnapshotsFlag> for crate::snapshot::Action {
    fn from(f: SnapshotsFlag) -> Self {
        match f {
            SnapshotsFlag::Verify => Self::Verify,
            SnapshotsFlag::New => Self::New,
            SnapshotsFlag::Update => Self::Update,
            SnapshotsFlag::Pending => Self::Pending,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapshotsAction {
    /// Print each pending snapshot's diff against the stored one.
    Review,
    /// Move each pending `.snap.new` over its `.snap`.
    Accept,
    /// Delete each pending `.snap.new`.
    Reject,
}

#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    #[arg(value_enum)]
    pub action: SnapshotsAction,
    /// Only snapshots whose `<target>/<suite>/<case>` matches this glob (default: all).
    #[arg(value_name = "GLOB")]
    pub glob: Option<String>,
    /// Where snapshots are stored, relative to the project.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub snapshots_dir: PathBuf,
    /// The project directory (default: the current one).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Md,
    Html,
    Junit,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListWhat {
    Suites,
    Cases,
    Features,
    Checks,
    Targets,
    /// The deviations the built-in reference endpoint can switch on.
    Deviations,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(value_enum, default_value = "cases")]
    pub what: ListWhat,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// `openai` (conformant) or `gemini-compat` (an emulation of documented Gemini deviations).
    #[arg(long, default_value = "openai")]
    pub profile: String,
    /// Switch on one deviation on top of the profile (repeatable): an id from
    /// `llm-parity list deviations` (`S1`, `S4-no-id`), or a row id for all its variants (`S4`).
    #[arg(long = "deviation", value_name = "ID")]
    pub deviations: Vec<String>,
    /// Require this key (`Authorization: Bearer …`), read from the named variable.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Delay before each response's headers, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Delay between streamed chunks, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub stream_delay_ms: u64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
