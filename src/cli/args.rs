//! Command-line flags (clap derive): every command's flags, the groups they share, and the
//! parsers that check each value as it is read (a bad duration or size is a usage error, exit
//! 2). Parsed flags are resolved once into a checked configuration (`cli::config`); the engine
//! never sees clap types — flag enums convert into domain enums with `From`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::util::duration::{self, DurationError, Min};

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
    Runbook(Box<RunbookArgs>),
    /// Save a baseline file from a report, or prune it of cases that no longer exist.
    Baseline(BaselineArgs),
    /// Combine shard reports (`run --shard I/N`) into one report and re-render md/html/junit.
    Merge(Box<MergeArgs>),
    /// Scaffold a project here (or in DIR): targets.yaml, suites/my-app.yaml and a GitHub
    /// Actions workflow; existing files are left as they are.
    Init(InitArgs),
    /// Run the client-library probes (openai-python, openai-node, Vercel AI SDK, LangChain)
    /// against one target: per call, whether it works and what it raises.
    Clients(Box<ClientsArgs>),
    /// Print the shell completion script for bash, zsh, fish or PowerShell.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write every command's page into a directory.
    Man(ManArgs),
}

/// Where the project's inputs are. The built-in suites, schemas, media fixtures and snapshots are
/// inside the binary; a project adds to them (`llm-parity init` writes one).
#[derive(Debug, Args, Clone)]
pub struct ProjectArgs {
    /// Suites to load: a name (a suite in the project's `suites/`, else a built-in one), a file
    /// or a directory (repeatable; default: every built-in suite and every project suite).
    #[arg(help_heading = "Selection", long = "suite", value_name = "NAME|PATH")]
    pub suites: Vec<String>,
    /// The project directory (default: the current one): its `suites/` are added to the
    /// built-in suites, its `fixtures/` and `snapshots/` come before the built-in ones, and
    /// `targets.yaml`, `--snapshots-dir`, `--record` and `--replay` paths are relative to it.
    #[arg(help_heading = "Project", long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Deprecated: run only the suites in DIR, no built-in ones (as `--suite DIR` does);
    /// `--project` adds a project's `suites/` to the built-in suites instead.
    #[arg(help_heading = "Project", long, value_name = "DIR")]
    pub suites_dir: Option<PathBuf>,
    /// Fixture files referenced by `{{fixture:…}}` (default: the project's `fixtures/`; the
    /// built-in media fixtures are found after it).
    #[arg(help_heading = "Project", long, value_name = "DIR")]
    pub fixtures_dir: Option<PathBuf>,
    /// Extra JSON Schemas (`<id>.json`) beside the built-in ones.
    #[arg(help_heading = "Project", long, value_name = "DIR")]
    pub schemas_dir: Option<PathBuf>,
    /// Allow fixture paths outside the fixtures directory.
    #[arg(help_heading = "Project", long)]
    pub allow_fixture_escape: bool,
    /// Targets file (default: the project's `targets.yaml` when present).
    #[arg(help_heading = "Targets", long, value_name = "FILE")]
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
    #[arg(help_heading = "Targets", long = "target", value_name = "NAME")]
    pub names: Vec<String>,
    /// Every target in the targets file.
    #[arg(help_heading = "Targets", long)]
    pub all_targets: bool,
    /// An ad-hoc target's base URL (e.g. `http://127.0.0.1:8080/v1`).
    #[arg(help_heading = "Targets", long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The environment variable holding the ad-hoc target's key (sent as a Bearer token).
    #[arg(help_heading = "Targets", long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// A model for a role on the ad-hoc (or `env`) target, e.g. `chat=gpt-4o-mini` (repeatable).
    #[arg(help_heading = "Targets", long = "model", value_name = "ROLE=ID")]
    pub models: Vec<String>,
    /// The ad-hoc target's name.
    #[arg(help_heading = "Targets", long, value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only cases whose `suite/case` id matches a glob (repeatable).
    #[arg(help_heading = "Selection", long = "filter", value_name = "GLOB")]
    pub filters: Vec<String>,
    /// Also run cases tagged `opt-in`.
    #[arg(help_heading = "Selection", long)]
    pub opt_in: bool,
    /// Run even when a target lacks the models for more than half of its selected cases (they
    /// are skipped and counted; without this flag the run stops, exit 2).
    #[arg(help_heading = "Selection", long)]
    pub allow_missing_models: bool,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Run each case K times (latency samples; a case passing and failing across repeats is flaky).
    #[arg(help_heading = "Reliability", long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Report every other target's latency relative to this one (as if they were its routers).
    #[arg(help_heading = "Targets", long, value_name = "NAME")]
    pub baseline_target: Option<String>,
    /// Which exchanges keep their headers and bodies in the reports: all, failures (cases
    /// that did not pass), none. Method, URL, status, timings and attempts are always kept.
    #[arg(
        help_heading = "Reports",
        long,
        value_enum,
        value_name = "WHICH",
        default_value = "all"
    )]
    pub report_bodies: BodiesFlag,
    /// Record every exchange (redacted) as DIR/<target>/<key>.json, for --replay (DIR relative
    /// to the project).
    #[arg(help_heading = "Recording", long, value_name = "DIR", num_args = 0..=1, default_missing_value = "fixtures/recordings", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Serve the recordings in DIR (relative to the project) instead of the live endpoints; no
    /// key variable is needed.
    #[arg(help_heading = "Recording", long, value_name = "DIR", num_args = 0..=1, default_missing_value = "fixtures/recordings")]
    pub replay: Option<PathBuf>,
    /// Snapshots: verify (write nothing), new (write missing), update (overwrite changed),
    /// pending (write `.snap.new` files for `llm-parity snapshots review`).
    #[arg(
        help_heading = "Snapshots",
        long,
        value_enum,
        value_name = "MODE",
        default_value = "verify"
    )]
    pub snapshots: SnapshotsFlag,
    /// Where snapshots are stored (`<dir>/<target>/<suite>/<case>.snap`), relative to the
    /// project; a built-in suite's shipped snapshot is found after it.
    #[arg(
        help_heading = "Snapshots",
        long,
        value_name = "DIR",
        default_value = "snapshots"
    )]
    pub snapshots_dir: PathBuf,
    /// Run a deterministic 1/N of the cases (I from 1 to N); combine with `llm-parity merge`.
    #[arg(help_heading = "Selection", long, value_name = "I/N", value_parser = crate::plan::shard::parse)]
    pub shard: Option<crate::plan::shard::Shard>,
}

/// How cases are executed — deadlines, retries, limits, trust, progress: every flag `run` and
/// `runbook` share, resolved once into `config::ExecConfig`. Durations are seconds (`2.5`) or a
/// number with a unit (`500ms`, `30s`, `5m`, `1h`), at most 7 days.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Reliability")]
pub struct ExecArgs {
    /// Cases in flight overall [default: 8 for run, 4 for runbook].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// Deadline per exchange (headers and body), in seconds.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = positive_duration, allow_negative_numbers = true)]
    pub timeout: Duration,
    /// Longest silence allowed inside a body or stream, in seconds.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = positive_duration, allow_negative_numbers = true)]
    pub idle_timeout: Duration,
    /// Largest response body read, in bytes (suffixes k, M, G accepted).
    #[arg(long, value_name = "BYTES", default_value = "8M", value_parser = byte_size)]
    pub max_body: usize,
    /// A PEM root certificate to trust (endpoints behind a private CA).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Retry HTTP 429, 5xx and connection failures up to N times (default 0: a conformance run
    /// shows flakiness instead of hiding it). Every attempt is recorded in the report.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// First retry backoff, in seconds (doubling, with jitter); `Retry-After` takes precedence.
    #[arg(long, value_name = "SECS", default_value = "0.5", value_parser = duration, allow_negative_numbers = true)]
    pub retry_delay: Duration,
    /// Longest wait before a retry, in seconds (caps `Retry-After` too).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = duration, allow_negative_numbers = true)]
    pub retry_max_delay: Duration,
    /// Deadline for the whole run, in seconds: when reached, the run stops as on Ctrl-C
    /// (partial reports) and exits 124.
    #[arg(long, value_name = "SECS", value_parser = positive_duration, allow_negative_numbers = true)]
    pub run_timeout: Option<Duration>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Where and how the reports are written and shown: shared by `run` and `merge`.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Where the reports go.
    #[arg(
        help_heading = "Reports",
        long,
        value_name = "DIR",
        default_value = "reports"
    )]
    pub report_dir: PathBuf,
    /// Report files to write (comma-separated): json, md, html, junit. Default: all.
    #[arg(
        help_heading = "Reports",
        long,
        value_delimiter = ',',
        value_name = "FORMATS",
        default_value = "json,md,html,junit"
    )]
    pub format: Vec<ReportFormat>,
    /// The full terminal matrix: every feature row, at full width (default: the rows that did
    /// not pass somewhere, abbreviated to fit the terminal when needed).
    #[arg(help_heading = "Reports", long)]
    pub wide: bool,
    /// Show the shape diffs of responses that differ between targets on the terminal (they
    /// are always in report.html and report.md).
    #[arg(help_heading = "Reports", long)]
    pub diff: bool,
}

/// The CI gate: shared by `run` and `merge`.
#[derive(Debug, Args, Clone)]
pub struct GateArgs {
    /// Gate against a baseline: a baseline file (`llm-parity baseline save`) or a previous
    /// report.json. Fails only for what --fail-on names.
    #[arg(help_heading = "Gate", long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// What fails the run, comma-separated. With --baseline: regression (default; a feature ×
    /// target that passed and now does not), new (also failing cases the baseline does not
    /// know) or any (any failing case). With or without a baseline: breaking (only failures
    /// that break a client) and skip (also a case skipped because its target has no model for
    /// the role it needs; for CI that must prove every area was tested). Example:
    /// `--fail-on breaking,skip`.
    #[arg(
        help_heading = "Gate",
        long,
        value_enum,
        value_name = "WHAT",
        value_delimiter = ','
    )]
    pub fail_on: Vec<FailOnFlag>,
    /// Do not fail the run for flaky cases (they are still reported).
    #[arg(help_heading = "Gate", long)]
    pub allow_flaky: bool,
}

/// `--timeout`, `--idle-timeout`, `--run-timeout`: more than zero, at most 7 days.
fn positive_duration(s: &str) -> Result<Duration, DurationError> {
    duration::parse(s, Min::Positive)
}

/// `--retry-delay`, `--retry-max-delay`: zero or more, at most 7 days.
fn duration(s: &str) -> Result<Duration, DurationError> {
    duration::parse(s, Min::Zero)
}

/// A `--max-body` value that is not a positive size.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a size in bytes (expected a positive number, e.g. 8M, 512k)")]
pub struct SizeError(String);

/// `--max-body`: `8M`, `512k`, `1048576` — more than zero.
fn byte_size(s: &str) -> Result<usize, SizeError> {
    parse_size(s).ok_or_else(|| SizeError(s.to_string()))
}

/// `8M`, `512k`, `1G`, `1048576`: a positive number of bytes that fits in memory's address
/// space.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1024),
        'm' | 'M' => (&s[..s.len() - 1], 1024 * 1024),
        'g' | 'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.trim()
        .parse::<usize>()
        .ok()?
        .checked_mul(mult)
        .filter(|n| *n > 0)
}

#[derive(Debug, Args)]
pub struct RunbookArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// OLD (the endpoint traffic moves away from): a target from the targets file, or built in
    /// (`reference`, `reference:gemini-compat`).
    #[arg(long, value_name = "NAME")]
    pub from: Option<String>,
    /// OLD as an ad-hoc target: its base URL.
    #[arg(long, value_name = "URL")]
    pub from_base_url: Option<String>,
    /// OLD's key variable (ad-hoc target; sent as a Bearer token).
    #[arg(long, value_name = "VAR")]
    pub from_api_key_env: Option<String>,
    /// OLD's model for a role, e.g. `chat=gpt-4o-mini` (repeatable; overrides a named target's).
    #[arg(long = "from-model", value_name = "ROLE=ID")]
    pub from_models: Vec<String>,
    /// NEW (the endpoint traffic moves to): a target from the targets file, or built in.
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
    /// NEW as an ad-hoc target: its base URL.
    #[arg(long, value_name = "URL")]
    pub to_base_url: Option<String>,
    /// NEW's key variable (ad-hoc target; sent as a Bearer token).
    #[arg(long, value_name = "VAR")]
    pub to_api_key_env: Option<String>,
    /// NEW's model for a role, e.g. `chat=gemini-2.5-flash` (repeatable; overrides a named target's).
    #[arg(long = "to-model", value_name = "ROLE=ID")]
    pub to_models: Vec<String>,
    /// What the app uses (comma-separated): areas such as chat, streaming, tools, vision, audio,
    /// structured_output, embeddings — or features such as `tools.parallel`. Default: every area.
    #[arg(long, value_delimiter = ',', value_name = "AREAS")]
    pub uses: Vec<String>,
    /// Where runbook.md and runbook.json go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub report_dir: PathBuf,
    #[command(flatten)]
    pub exec: ExecArgs,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub action: BaselineAction,
}

#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Write a baseline file from a report: every feature × target cell with its cases (notes and
    /// expiry dates of an existing file are kept for cells that still do not pass).
    Save {
        /// The report to take the baseline from.
        #[arg(long, value_name = "FILE", default_value = "reports/report.json")]
        from: PathBuf,
        /// The baseline file to write (`.json` for JSON, YAML otherwise).
        #[arg(
            short = 'o',
            long = "output",
            value_name = "FILE",
            default_value = "baseline.yaml"
        )]
        output: PathBuf,
    },
    /// Remove references to cases that no longer exist, judged only for the suites the report's
    /// run loaded.
    Prune {
        /// The baseline file to prune (rewritten in place unless -o).
        #[arg(long, value_name = "FILE", default_value = "baseline.yaml")]
        baseline: PathBuf,
        /// A report of a run that loaded the suites to judge.
        #[arg(long, value_name = "FILE", default_value = "reports/report.json")]
        report: PathBuf,
        /// Write the pruned baseline here instead.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only print what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard reports (`report.json` of `run --shard I/N`) to combine.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
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

/// `--report-bodies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BodiesFlag {
    /// Headers and bodies of every exchange.
    All,
    /// Headers and bodies only for cases that did not pass.
    Failures,
    /// No headers or bodies at all.
    None,
}

impl From<BodiesFlag> for crate::report::model::BodyPolicy {
    fn from(f: BodiesFlag) -> Self {
        match f {
            BodiesFlag::All => Self::All,
            BodiesFlag::Failures => Self::Failures,
            BodiesFlag::None => Self::None,
        }
    }
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnFlag {
    /// A feature × target that passed in the baseline and now does not (or an expired entry).
    Regression,
    /// A regression, or a failing case the baseline does not know.
    New,
    /// Any failing case (the comparison is still reported).
    Any,
    /// Only failures that break a client (the client catalogue's `breaks`; errors count).
    Breaking,
    /// A case skipped because its target has no model for the role it needs (with or without
    /// a baseline).
    Skip,
}

impl FailOnFlag {
    /// The comparison mode this value names (`skip` names none).
    pub fn mode(self) -> Option<crate::report::model::FailOn> {
        use crate::report::model::FailOn;
        match self {
            FailOnFlag::Regression => Some(FailOn::Regression),
            FailOnFlag::New => Some(FailOn::New),
            FailOnFlag::Any => Some(FailOn::Any),
            FailOnFlag::Breaking => Some(FailOn::Breaking),
            FailOnFlag::Skip => None,
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

/// `llm-parity init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project directory to write into (created when missing).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The GitHub Action the workflow uses, `OWNER/REPO@REF` (default: this build's repository).
    #[arg(long, value_name = "OWNER/REPO@REF")]
    pub action: Option<String>,
}

/// `llm-parity clients`.
#[derive(Debug, Args)]
pub struct ClientsArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only these clients (repeatable; default: every one that is installed).
    #[arg(long = "client", value_enum, value_name = "CLIENT")]
    pub clients: Vec<ClientFlag>,
    /// The Python that has openai / langchain-openai installed (default: `python3` on PATH, so
    /// an active virtualenv is used; or LLM_PARITY_CLIENTS_PYTHON).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Where the Node packages are (default: ./node_modules, NODE_PATH and npm's global root;
    /// or LLM_PARITY_CLIENTS_NODE_PATH).
    #[arg(long, value_name = "DIR")]
    pub node_modules: Option<PathBuf>,
    /// Also probe the context-overflow error (`context_length`) with a prompt of this many
    /// filler words (about one token each): choose more than the model's context window. Off by
    /// default, since such a prompt can be billed.
    #[arg(long, value_name = "WORDS", value_parser = clap::value_parser!(u64).range(1..=crate::load::template::FILLER_MAX_WORDS))]
    pub context_words: Option<u64>,
}

/// The clients of the catalogue, by their `--client` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientFlag {
    /// openai-python
    Python,
    /// openai-node
    Node,
    /// the Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`)
    Vercel,
    /// LangChain (`langchain-openai`)
    Langchain,
}

impl ClientFlag {
    /// The client's id in the catalogue.
    pub fn id(self) -> &'static str {
        match self {
            ClientFlag::Python => "python",
            ClientFlag::Node => "node",
            ClientFlag::Vercel => "vercel",
            ClientFlag::Langchain => "langchain",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl From<Shell> for clap_complete::Shell {
    fn from(s: Shell) -> Self {
        match s {
            Shell::Bash => Self::Bash,
            Shell::Zsh => Self::Zsh,
            Shell::Fish => Self::Fish,
            Shell::Powershell => Self::PowerShell,
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "Install, for example:
  bash: llm-parity completions bash > ~/.local/share/bash-completion/completions/llm-parity
  zsh:  llm-parity completions zsh > ~/.zfunc/_llm-parity   (with fpath+=(~/.zfunc) before compinit)
  fish: llm-parity completions fish > ~/.config/fish/completions/llm-parity.fish
  powershell: llm-parity completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Read it with `llm-parity man | man -l -`, or install the pages:
  llm-parity man --dir ~/.local/share/man/man1"
)]
pub struct ManArgs {
    /// Write one page per command (`llm-parity.1`, `llm-parity-run.1`, …) into DIR instead of
    /// printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
