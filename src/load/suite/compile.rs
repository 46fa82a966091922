//! Compiling a suite file: every problem of the file reported at once, with file:line:col.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use serde_json_path::JsonPath;

use super::format::*;
use super::model::*;
use super::spill::{Spill, SpillFile};
use crate::load::diag::{Diagnostic, Diagnostics, did_you_mean, line_col};
use crate::load::feature::{AREAS, FeatureProblem, check_feature, is_feature_id};
use crate::load::locate::Locator;
use crate::load::sequence;
use crate::load::template::{
    Expr, FixtureResolver, ROLES, TValue, TemplateProblem, compile_string,
};
use crate::load::yaml::{parse_yaml_part, parse_yaml_shaped, passes_prechecks};
use crate::util::intern::intern;
use crate::util::threads::in_order;

/// What a suite may refer to, resolved before any suite is read.
pub struct SuiteEnv<'a> {
    /// The project's fixtures directory (built-in fixtures are found after it); `None` for a
    /// built-in suite, which sends only built-in fixtures.
    pub fixtures_root: Option<&'a Path>,
    pub allow_fixture_escape: bool,
    pub schema_ids: &'a [String],
    /// The built-in checks a suite may name under `expect.checks` (the judge's, handed over
    /// like the schema ids: load does not know the judge).
    pub check_names: &'a [&'a str],
    /// A built-in suite: its features are the vocabulary others are checked against
    /// (`load::feature::builtin_features`), so they are not checked, and loading only built-in
    /// suites does not read the embedded suites a second time to build it.
    pub builtin: bool,
}

/// Load one suite file, reporting every problem found in it.
pub fn load_suite(path: &Path, text: &str, env: &SuiteEnv<'_>) -> Result<Suite, Diagnostics> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    load_suite_on(path, text, env, Some(threads))
}

/// [`load_suite`], a large file parsed in parts on up to `parts` threads ([`Parts`]), or whole
/// (`None`).
pub fn load_suite_on(
    path: &Path,
    text: &str,
    env: &SuiteEnv<'_>,
    parts: Option<usize>,
) -> Result<Suite, Diagnostics> {
    let nowhere = SpillFile::default();
    load_suite_spilling(path, text, env, parts, &nowhere, &|_| false).map(|(s, _)| s)
}

/// [`load_suite_on`], the file's cases also written to `spill` as serde read them, before they
/// are compiled (`suite::spill`), if `spill_if` their number; what became of them.
///
/// A file parsed in parts whose cases are not spilled has each part's cases compiled on the
/// thread that parsed them, as soon as they are ([`Parts::load`]); if that finds any problem,
/// the file is parsed and compiled again the usual way, which reports every problem where it is.
/// Whether the cases are spilled is then asked before any part is parsed: of a project's files
/// loading side by side, one whose predecessors are still loading is spilled in case it is
/// released, and so loaded the usual way.
pub fn load_suite_spilling(
    path: &Path,
    text: &str,
    env: &SuiteEnv<'_>,
    parts: Option<usize>,
    spill: &SpillFile,
    spill_if: &dyn Fn(usize) -> bool,
) -> Result<(Suite, Spill), Diagnostics> {
    let source: Arc<str> = text.into();
    let threads = parts.unwrap_or(1);
    let mut in_parts = parts.and_then(|threads| Parts::of(&source, threads));
    if let Some(p) = &in_parts
        && !spill_if(p.cases())
    {
        match p.load(path, &source, env) {
            Ok(suite) => return Ok((suite, Spill::NotNeeded)),
            Err(Refused::Parts) => in_parts = None,
            Err(Refused::Problems) => {}
        }
    }
    let def = match in_parts.and_then(|p| p.parse()) {
        Some(def) => def,
        None => parse_yaml_shaped(path, &source, &SUITE)?,
    };
    let spilled = match spill_if(def.cases.len()) {
        true => spill.spill(&def),
        false => Spill::NotNeeded,
    };
    compile_suite(path, &source, def, env, threads).map(|s| (s, spilled))
}

/// Compile a suite's definition, reporting every problem; `source` is the text it was read
/// from, where the diagnostics find their positions (empty for cases read back from a spill:
/// they were validated, and a problem then — a fixture removed since — has no position).
/// A file of thousands of cases is compiled on up to `threads` threads ([`compile_in_runs`]).
pub(super) fn compile_suite(
    path: &Path,
    source: &Arc<str>,
    mut def: SuiteDef,
    env: &SuiteEnv<'_>,
    threads: usize,
) -> Result<Suite, Diagnostics> {
    let cases = std::mem::take(&mut def.cases);
    let (mut diags, scrub) = check_suite_keys(path, source, &def);
    // One copy of the suite id, shared by the cases.
    let suite_id: Arc<str> = def.suite.as_str().into();
    let nths = nths(&cases);
    let cx = def.case_env(path, source, env, &suite_id);
    let compiled = compile_in_runs(&cx, cases, nths, threads);
    diags.extend(compiled.diags);
    if diags.is_empty() {
        Ok(def.into_suite(path, env, compiled.cases, scrub))
    } else {
        Err(diags)
    }
}

/// Which of the cases with its id each case is (0: the first), for the duplicates' diagnostics.
fn nths(cases: &[CaseDef]) -> Vec<usize> {
    let mut occurrences: HashMap<&str, usize> = HashMap::with_capacity(cases.len());
    (cases.iter())
        .map(|c| {
            let n = occurrences.entry(c.id.as_str()).or_insert(0);
            *n += 1;
            *n - 1
        })
        .collect()
}

/// The problems of a suite's own keys (its id, areas and redaction selectors; its cases are not
/// looked at), and its redaction selectors.
fn check_suite_keys(
    path: &Path,
    source: &Arc<str>,
    def: &SuiteDef,
) -> (Diagnostics, Vec<ScrubSelector>) {
    let loc = Locator::new(source);
    let mut diags = Diagnostics::default();
    let diag = |message, pos| diagnostic(path, source, message, pos);
    if !is_identifier(&def.suite) {
        diags.push(
            diag(
                format!("invalid suite id `{}`", def.suite),
                loc.find(0, &def.suite),
            )
            .expected("lowercase letters, digits, `_` and `-`"),
        );
    }
    for area in &def.areas {
        if area.is_empty()
            || !area
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            diags.push(
                diag(format!("invalid area `{area}`"), loc.find(0, area))
                    .expected("lowercase letters, digits and `_` (the first part of a feature id)"),
            );
        }
    }
    let mut scrub = Vec::new();
    for p in &def.redact {
        match ScrubSelector::parse(p) {
            Ok(s) => scrub.push(s),
            Err(e) => diags.push(
                diag(
                    format!("invalid redaction selector `{p}`: {e}"),
                    loc.find(0, p),
                )
                .expected("a JSONPath such as `$.choices[*].message.content`"),
            ),
        }
    }
    (diags, scrub)
}

/// What a suite's own keys give its cases and the loaded suite (the cases are compiled from a
/// definition whose `cases` were taken out).
impl SuiteDef {
    /// What compiling the suite's cases reads of it and of the file.
    fn case_env<'a>(
        &'a self,
        path: &'a Path,
        source: &'a Arc<str>,
        env: &'a SuiteEnv<'a>,
        suite_id: &'a Arc<str>,
    ) -> CaseEnv<'a> {
        CaseEnv {
            path,
            source,
            env,
            areas: &self.areas,
            suite_id,
        }
    }

    /// The loaded suite of these keys and `cases`.
    fn into_suite(
        self,
        path: &Path,
        env: &SuiteEnv<'_>,
        cases: Vec<Arc<Case>>,
        scrub: Vec<ScrubSelector>,
    ) -> Suite {
        Suite {
            id: self.suite,
            description: self.description.unwrap_or_default(),
            file: path.to_path_buf(),
            builtin: env.builtin,
            cases,
            scrub,
        }
    }
}

/// The size of the parts a large suite file is parsed in, side by side.
const PART_BYTES: usize = 32 * 1024;

/// A large file cut in parts to be parsed on up to `threads` threads, side by side (at least
/// two: one after the other, the parts cost ~10 % more CPU than the whole file): each part is
/// the suite's own keys before `cases:` and a run of the file's cases (`load::sequence`), the
/// last part also the keys after the cases. Parsing is most of what loading a file costs; in
/// parts a file of a few thousand generated cases takes every core, and the parser's events
/// for one part at a time (~0.6 MB, not ~10 MB for a 1,000-case file).
///
/// Why the parts mean what the whole file means: part 0 is the start of the file, and every
/// part but the last ends at its last case, so a quoted scalar or flow collection left open in
/// a case (where a line that looks like a case item could hide) cannot be closed by what
/// follows the cases: that part fails to parse, or holds fewer cases than it has items. Every
/// part must parse and hold exactly its items as cases, and every part must read the same suite
/// keys as the last. The whole text's size and characters are checked before any part is
/// parsed, and each part's depth before it is, by the same estimate as the whole text's; a part
/// the estimate ends inside a flow collection or a quote is not taken. So the estimate starts
/// every part where it would be in the whole text (a case's line resets the block levels), and
/// a text estimated too deep has a part estimated too deep or one not taken. Otherwise (and for
/// a small file, or one not of the plain shape `sequence::items` is sure about) the file is
/// parsed whole, so every problem is reported where it is in the file, as for any file.
struct Parts<'s> {
    source: &'s str,
    items: sequence::Items,
    /// Each part's first item and the item after its last.
    ranges: Vec<(usize, usize)>,
    threads: usize,
}

/// Why [`Parts::load`] gave no suite.
enum Refused {
    /// A part did not parse as its piece of the file: the file is parsed whole.
    Parts,
    /// The file has a problem: it is loaded again the usual way, to report it where it is.
    Problems,
}

impl<'s> Parts<'s> {
    /// `source` cut in parts, or `None` when it is parsed whole.
    fn of(source: &'s str, threads: usize) -> Option<Self> {
        if threads < 2 || source.len() < 2 * PART_BYTES || !passes_prechecks(source) {
            return None;
        }
        let items = sequence::items(source, "cases")?;
        let [head, _, tail] = items.parts(0, 1);
        // The suite's own keys are parsed again in every part: not worth it when they are large.
        if head.len() + tail.len() > PART_BYTES / 4 {
            return None;
        }
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let mut from = 0;
        for (i, &start) in items.starts.iter().enumerate().skip(1) {
            if start - items.starts[from] >= PART_BYTES {
                ranges.push((from, i));
                from = i;
            }
        }
        ranges.push((from, items.starts.len()));
        (ranges.len() >= 2).then_some(Parts {
            source,
            items,
            ranges,
            threads,
        })
    }

    /// How many cases the file has.
    fn cases(&self) -> usize {
        self.items.starts.len()
    }

    /// The last part's definition without its cases, and `then` of each part's definition and
    /// cases (on the thread that parsed it), in order; `None` when a part does not parse as its
    /// piece of the file, or the parts do not read the same suite keys.
    fn each<R: Send>(
        &self,
        then: impl Fn(&SuiteDef, Vec<CaseDef>) -> R + Sync,
    ) -> Option<(SuiteDef, Vec<R>)> {
        let parsed = in_order(
            &self.ranges,
            self.threads,
            |&(from, to)| {
                let doc = self.items.part(self.source, from, to);
                let mut def = parse_yaml_part::<SuiteDef>(&doc)?;
                if def.cases.len() != to - from {
                    return None;
                }
                let cases = std::mem::take(&mut def.cases);
                let r = then(&def, cases);
                Some((def, r))
            },
            |_| {},
        );
        let (mut defs, results): (Vec<SuiteDef>, Vec<R>) = parsed
            .into_iter()
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .unzip();
        let last = defs.pop()?;
        if defs.iter().any(|d| {
            (&d.suite, &d.description, &d.areas) != (&last.suite, &last.description, &last.areas)
        }) {
            return None;
        }
        Some((last, results))
    }

    /// The file's definition, its parts' cases joined in order.
    fn parse(self) -> Option<SuiteDef> {
        let (mut def, parts) = self.each(|_, cases| cases)?;
        def.cases.reserve_exact(self.cases());
        for p in parts {
            def.cases.extend(p);
        }
        Some(def)
    }

    /// The suite, each part's cases compiled on the thread that parsed them, as soon as they
    /// are: no wait for the last part before compiling, and a part's cases compiled while
    /// what serde made of them is still in the cache. Only a file without a problem is loaded
    /// so: a problem found in a part, or a case id repeated in two, is reported by loading the
    /// file again the usual way (compiling a part does not know the cases of the others, where
    /// a problem's position is found by which of the cases with its id a case is).
    fn load(&self, path: &Path, source: &Arc<str>, env: &SuiteEnv<'_>) -> Result<Suite, Refused> {
        let (def, parts) = self
            .each(|def, cases| {
                // One copy of the suite id per part.
                let suite_id: Arc<str> = def.suite.as_str().into();
                let cx = def.case_env(path, source, env, &suite_id);
                let nths = nths(&cases);
                compile_cases(&cx, cases.into_iter().zip(nths).collect())
            })
            .ok_or(Refused::Parts)?;
        let (diags, scrub) = check_suite_keys(path, source, &def);
        if !diags.is_empty() || parts.iter().any(|c| !c.diags.is_empty()) {
            return Err(Refused::Problems);
        }
        let mut cases = Vec::with_capacity(self.cases());
        for p in parts {
            cases.extend(p.cases);
        }
        let mut ids = HashSet::with_capacity(cases.len());
        if !cases.iter().all(|c| ids.insert(&*c.id)) {
            return Err(Refused::Problems);
        }
        drop(ids);
        Ok(def.into_suite(path, env, cases, scrub))
    }
}

/// A feature outside the vocabulary: an area nobody declared, or a near miss of a built-in
/// feature (`chat.basci`, which would otherwise become a matrix row of its own).
fn feature_diag(mut d: Diagnostic, feature: &str, problem: FeatureProblem) -> Diagnostic {
    match problem {
        FeatureProblem::UnknownArea { area, suggestion } => {
            d.message = format!("unknown area `{area}` in feature `{feature}`");
            let declare = format!("a suite's own area is declared at its top: `areas: [{area}]`");
            d.expected("a built-in area or one the suite declares")
                .help(match suggestion {
                    Some(s) => format!("did you mean `{s}`? (or, {declare})"),
                    None => format!("the built-in areas are {}; {declare}", AREAS.join(", ")),
                })
        }
        FeatureProblem::Typo { of } => {
            d.message = format!("unknown feature `{feature}`");
            d.expected("a built-in feature or a distinct new name")
                .help(format!(
                    "did you mean `{of}`? (`llm-parity list features` lists the built-in ones; \
                     a new feature needs a name further from them)"
                ))
        }
    }
}

fn template_diag(
    diag: &impl Fn(String, Option<(usize, usize)>) -> Diagnostic,
    here: &impl Fn(&str) -> Option<(usize, usize)>,
    p: TemplateProblem,
) -> Diagnostic {
    let mut d = diag(p.message, here(&p.needle));
    if let Some(e) = p.expected {
        d = d.expected(e);
    }
    d.help_opt(p.help)
}

impl RequestTemplate {
    fn visit(&self, f: &mut impl FnMut(&Expr)) {
        self.path.visit_exprs(f);
        if let Some(b) = &self.body {
            b.visit_exprs(f);
        }
        for (_, h) in &self.headers {
            h.visit_exprs(f);
        }
        for (_, m) in &self.multipart {
            match m {
                MultipartValue::Text(t)
                | MultipartValue::File {
                    content: FileContent::Template(t),
                    ..
                } => t.visit_exprs(f),
                MultipartValue::File { .. } => {}
            }
        }
    }
}

fn compile_request(
    def: RequestDef,
    fixtures: &FixtureResolver<'_>,
    problems: &mut Vec<TemplateProblem>,
) -> RequestTemplate {
    let method_text = def.method.unwrap_or_else(|| {
        if def.body.is_some() || def.raw_body.is_some() || !def.multipart.is_empty() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    let method = match method_text.to_ascii_uppercase().as_str() {
        "GET" => reqwest::Method::GET,
        "POST" => reqwest::Method::POST,
        "DELETE" => reqwest::Method::DELETE,
        "PUT" => reqwest::Method::PUT,
        "PATCH" => reqwest::Method::PATCH,
        _ => {
            problems.push(TemplateProblem {
                needle: format!("method: {method_text}"),
                message: format!("unknown HTTP method `{method_text}`"),
                expected: Some("GET, POST, PUT, PATCH or DELETE".into()),
                help: None,
            });
            reqwest::Method::GET
        }
    };
    let body_json = def.body.map(|b| b.0);
    let stream = body_json
        .as_ref()
        .and_then(|b| b.get("stream"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = body_json.map(|b| TValue::compile(&b, fixtures, problems));
    if body.is_some() && def.raw_body.is_some() {
        problems.push(TemplateProblem {
            needle: "raw_body".into(),
            message: "a request has both `body` and `raw_body`".into(),
            expected: Some("one of them".into()),
            help: None,
        });
    }
    let multipart = def
        .multipart
        .into_iter()
        .map(|(name, m)| {
            let value = match (m.text, m.content, m.fixture) {
                (Some(t), None, None) => MultipartValue::Text(compile_string(&t, fixtures, problems)),
                (None, Some(c), None) => MultipartValue::File {
                    filename: m.filename.unwrap_or_else(|| name.clone()),
                    content: FileContent::Template(compile_string(&c, fixtures, problems)),
                },
                (None, None, Some(path)) => {
                    let bytes = fixtures.read(&path).unwrap_or_else(|e| {
                        problems.push(TemplateProblem {
                            needle: path.clone(),
                            message: e.to_string(),
                            expected: None,
                            help: None,
                        });
                        Vec::new()
                    });
                    MultipartValue::File {
                        // The fixture's own name unless the suite names the part otherwise.
                        filename: m.filename.unwrap_or_else(|| {
                            path.rsplit('/').next().unwrap_or(&path).to_string()
                        }),
                        content: FileContent::Bytes(Arc::new(bytes)),
                    }
                }
                _ => {
                    problems.push(TemplateProblem {
                        needle: format!("{name}:"),
                        message: format!(
                            "multipart field `{name}` needs exactly one of `text`, `content` or `fixture`"
                        ),
                        expected: Some(
                            "`text: …`, `content: …` (+ `filename`) or `fixture: <path>`".into(),
                        ),
                        help: None,
                    });
                    MultipartValue::Text(TValue::Lit(Value::String(String::new())))
                }
            };
            (name, value)
        })
        .collect();
    RequestTemplate {
        method,
        path: compile_string(&def.path, fixtures, problems),
        body,
        raw_body: def.raw_body,
        headers: def
            .headers
            .into_iter()
            .map(|(k, v)| {
                let t = compile_string(&v, fixtures, problems);
                (k, t)
            })
            .collect(),
        auth: def.auth,
        multipart,
        stream,
    }
}

type Report<'a> = dyn FnMut(String, &str, String, Option<String>) + 'a;

/// The JSONPaths of a suite file compiled so far, by their text.
type Paths = HashMap<String, Arc<JsonPath>>;

fn compile_expect(
    def: ExpectDef,
    env: &SuiteEnv<'_>,
    fixtures: &FixtureResolver<'_>,
    paths: &mut Paths,
    report: &mut Report<'_>,
) -> Expect {
    let status = def.status.and_then(|v| match parse_status(&v) {
        Some(s) => Some(s),
        None => {
            let shown = yaml_scalar_text(&v);
            report(
                format!("invalid status `{shown}`"),
                &shown,
                "a status code (`200`), a class (`4xx`) or a list of them".into(),
                None,
            );
            None
        }
    });
    if let Some(id) = &def.schema
        && !env.schema_ids.iter().any(|s| s == id)
    {
        report(
            format!("unknown schema id `{id}`"),
            id,
            format!("one of {}", env.schema_ids.join(", ")),
            did_you_mean(id, env.schema_ids.iter().map(String::as_str)),
        );
    }
    for name in &def.checks {
        if !env.check_names.contains(&name.as_str()) {
            report(
                format!("unknown check `{name}`"),
                name,
                "a built-in check (see `llm-parity list checks`)".into(),
                did_you_mean(name, env.check_names.iter().copied()),
            );
        }
    }
    let body = def.body.and_then(|b| match fixtures.read(&b.fixture) {
        Ok(bytes) => Some(ExpectedBody {
            fixture: b.fixture,
            bytes,
        }),
        Err(e) => {
            report(
                e.to_string(),
                &b.fixture,
                "a file under the fixtures directory".into(),
                None,
            );
            None
        }
    });
    let jsonpath = def
        .jsonpath
        .into_iter()
        .filter_map(|jp| compile_jsonpath(jp, fixtures, paths, report))
        .collect();
    Expect {
        status,
        content_type: def.content_type,
        schema: def.schema,
        jsonpath,
        checks: def.checks,
        body,
    }
}

fn compile_poll(
    def: PollDef,
    fixtures: &FixtureResolver<'_>,
    paths: &mut Paths,
    report: &mut Report<'_>,
) -> Option<Poll> {
    let pending = compile_jsonpath(def.pending, fixtures, paths, report)?;
    let every_ok = def.every_seconds.is_finite() && (0.0..=3600.0).contains(&def.every_seconds);
    if !every_ok || !(1..=1000).contains(&def.at_most) {
        report(
            format!(
                "invalid poll: every_seconds {}, at_most {}",
                def.every_seconds, def.at_most
            ),
            "poll:",
            "`every_seconds` from 0 to 3600 and `at_most` from 1 to 1000".into(),
            None,
        );
        return None;
    }
    Some(Poll {
        pending,
        every: std::time::Duration::from_secs_f64(def.every_seconds),
        at_most: def.at_most,
    })
}

/// One JSONPath assertion (exactly one operator), or `None` after reporting why not.
fn compile_jsonpath(
    jp: JsonPathDef,
    fixtures: &FixtureResolver<'_>,
    paths: &mut Paths,
    report: &mut Report<'_>,
) -> Option<JsonPathAssert> {
    let path = match paths.get(&jp.path).cloned() {
        Some(p) => Ok(p),
        None => JsonPath::parse(&jp.path).map(|p| {
            let p = Arc::new(p);
            paths.insert(jp.path.clone(), p.clone());
            p
        }),
    };
    let path = match path {
        Ok(p) => Some(p),
        Err(e) => {
            report(
                format!("invalid JSONPath `{}`: {e}", jp.path),
                &jp.path,
                "a JSONPath such as `$.choices[0].message.role`".into(),
                None,
            );
            None
        }
    };
    let mut problems = Vec::new();
    let mut ops = Vec::new();
    if let Some(b) = jp.exists {
        ops.push(JsonPathOp::Exists(b));
    }
    if let Some(v) = jp.equals {
        ops.push(JsonPathOp::Equals(TValue::compile(
            &v.0,
            fixtures,
            &mut problems,
        )));
    }
    if let Some(v) = jp.contains {
        ops.push(JsonPathOp::Contains(TValue::compile(
            &v.0,
            fixtures,
            &mut problems,
        )));
    }
    for p in problems {
        report(
            p.message,
            &p.needle,
            p.expected.unwrap_or_else(|| "a valid template".into()),
            p.help,
        );
    }
    if let Some(t) = jp.type_ {
        ops.push(JsonPathOp::Type(t));
    }
    if let Some(m) = &jp.matches {
        match regex::Regex::new(m) {
            Ok(r) => ops.push(JsonPathOp::Matches(r)),
            Err(e) => report(
                format!("invalid regular expression `{m}`: {e}"),
                m,
                "a Rust `regex` pattern".into(),
                None,
            ),
        }
    }
    if let Some(vs) = jp.one_of {
        ops.push(JsonPathOp::OneOf(vs.into_iter().map(|v| v.0).collect()));
    }
    if let Some(n) = jp.length {
        ops.push(JsonPathOp::Length(n));
    }
    for (v, op) in [
        (jp.gt, CompareOp::Gt),
        (jp.gte, CompareOp::Gte),
        (jp.lt, CompareOp::Lt),
        (jp.lte, CompareOp::Lte),
    ] {
        match v {
            // NaN compares false with everything and an infinity passes or fails every value:
            // neither is a bound anyone meant.
            Some(v) if !v.is_finite() => {
                report(
                    format!("JSONPath comparison on `{}` with {v}", jp.path),
                    &jp.path,
                    "a finite number to compare with".into(),
                    None,
                );
                return None;
            }
            Some(v) => ops.push(JsonPathOp::Compare(op, v)),
            None => {}
        }
    }
    if ops.len() != 1 {
        report(
                format!(
                    "JSONPath assertion on `{}` has {} operators",
                    jp.path,
                    ops.len()
                ),
                &jp.path,
                "exactly one of `exists`, `equals`, `contains`, `type`, `matches`, `one_of`, `length`, `gt`, `gte`, `lt`, `lte`".into(),
                Some("write one list entry per assertion".into()),
            );
        return None;
    }
    let (path, op) = (path?, ops.pop()?);
    Some(JsonPathAssert {
        source: jp.path,
        path,
        op,
    })
}

fn parse_status(v: &serde_yaml::Value) -> Option<StatusExpect> {
    let mut s = StatusExpect {
        codes: vec![],
        classes: vec![],
    };
    let mut add = |v: &serde_yaml::Value| -> Option<()> {
        match v {
            serde_yaml::Value::Number(n) => {
                let c = n.as_u64().filter(|c| (100..600).contains(c))?;
                s.codes.push(c as u16);
            }
            serde_yaml::Value::String(t) => {
                let t = t.trim().to_ascii_lowercase();
                if let Some(class) = t.strip_suffix("xx") {
                    let c: u16 = class.parse().ok().filter(|c| (1..=5).contains(c))?;
                    s.classes.push(c);
                } else {
                    let c: u16 = t.parse().ok().filter(|c| (100..600).contains(c))?;
                    s.codes.push(c);
                }
            }
            _ => return None,
        }
        Some(())
    };
    match v {
        serde_yaml::Value::Sequence(items) if !items.is_empty() => {
            for i in items {
                add(i)?;
            }
        }
        other => add(other)?,
    }
    Some(s)
}

/// What compiling a case reads of its suite.
struct CaseEnv<'a> {
    path: &'a Path,
    /// The file's text (empty for cases read back from a spill: no positions).
    source: &'a Arc<str>,
    env: &'a SuiteEnv<'a>,
    areas: &'a [String],
    suite_id: &'a Arc<str>,
}

/// Cases compiled in order, with what they share (one of these per thread compiling a run of
/// them).
#[derive(Default)]
struct Compiled {
    cases: Vec<Arc<Case>>,
    diags: Diagnostics,
    /// Each distinct JSONPath is compiled once and shared by every case asserting on it: a
    /// compiled path costs ~0.7 KB, and generated suites repeat a few paths in thousands of
    /// cases.
    paths: Paths,
    shared: Shared,
}

/// How many cases a thread compiling a run of a file's cases takes at least (a case takes
/// ~4 µs, starting a thread ~0.1 ms).
const CASES_PER_THREAD: usize = 256;

/// `defs` (each with which of the cases with its id it is) compiled in order: a file of
/// thousands of cases in contiguous runs on up to `threads` threads, side by side (loading a
/// file of 1,000 generated cases compiled them for ~4 ms on one core while the other waited).
/// Each run shares its JSONPaths and repeated values within itself; the cases and the
/// diagnostics come out in the order one thread gives them.
fn compile_in_runs(
    cx: &CaseEnv<'_>,
    defs: Vec<CaseDef>,
    nths: Vec<usize>,
    threads: usize,
) -> Compiled {
    let runs_of = threads.min(defs.len() / CASES_PER_THREAD).max(1);
    let size = defs.len().div_ceil(runs_of).max(1);
    let mut defs = defs.into_iter().zip(nths);
    let runs: Vec<Mutex<Vec<(CaseDef, usize)>>> = std::iter::from_fn(|| {
        let run: Vec<_> = defs.by_ref().take(size).collect();
        (!run.is_empty()).then(|| Mutex::new(run))
    })
    .collect();
    let compiled = in_order(
        &runs,
        runs.len(),
        |run| {
            let run = std::mem::take(&mut *run.lock().unwrap_or_else(|e| e.into_inner()));
            compile_cases(cx, run)
        },
        |_| {},
    );
    let mut all = Compiled::default();
    for c in compiled {
        all.cases.extend(c.cases);
        all.diags.extend(c.diags);
    }
    all
}

/// A diagnostic of the file at `path`, at `pos` in `source` (none without the text: cases read
/// back from a spill).
fn diagnostic(
    path: &Path,
    source: &Arc<str>,
    message: String,
    pos: Option<(usize, usize)>,
) -> Diagnostic {
    Diagnostic::new(path, message)
        .at_pos(pos.filter(|_| !source.is_empty()))
        .with_source(source)
}

/// `defs` compiled, in order.
fn compile_cases(cx: &CaseEnv<'_>, defs: Vec<(CaseDef, usize)>) -> Compiled {
    let (source, env) = (cx.source, cx.env);
    let loc = Locator::new(source);
    let diag = |message, pos| diagnostic(cx.path, source, message, pos);
    let fixtures = FixtureResolver {
        root: env.fixtures_root,
        allow_escape: env.allow_fixture_escape,
    };
    let mut out = Compiled::default();
    let Compiled {
        cases,
        diags,
        paths,
        shared,
    } = &mut out;
    cases.reserve_exact(defs.len());
    for (cdef, nth) in defs {
        // Where the case starts, found only for a diagnostic (most cases never need it).
        let case_at = || loc.nth_case_offset(&cdef.id, nth);
        let here = |needle: &str| loc.find(case_at(), needle);
        if nth > 0 {
            diags.push(
                diag(
                    format!("duplicate case id `{}`", cdef.id),
                    Some(line_col(source, case_at())),
                )
                .help(format!(
                    "the first case with this id is on line {}",
                    line_col(source, loc.nth_case_offset(&cdef.id, 0)).0
                )),
            );
        }
        if !is_identifier(&cdef.id) {
            diags.push(
                diag(format!("invalid case id `{}`", cdef.id), here(&cdef.id))
                    .expected("lowercase letters, digits, `_` and `-`"),
            );
        }
        if !is_feature_id(&cdef.feature) {
            diags.push(
                diag(
                    format!("invalid feature id `{}`", cdef.feature),
                    here(&cdef.feature),
                )
                .expected("a dotted id starting with the area, e.g. `chat.basic`"),
            );
        } else if !env.builtin
            && let Some(problem) = check_feature(&cdef.feature, cx.areas)
        {
            diags.push(feature_diag(
                diag(String::new(), here(&cdef.feature)),
                &cdef.feature,
                problem,
            ));
        }

        let mut step_defs = Vec::new();
        match (cdef.request, cdef.steps.is_empty()) {
            (Some(request), true) => step_defs.push(StepDef {
                name: None,
                request,
                expect: cdef.expect,
                capture: BTreeMap::new(),
                poll: None,
            }),
            (None, false) => {
                if cdef.expect.is_some() {
                    diags.push(
                        diag(
                            format!(
                                "case `{}` has both `steps` and a case-level `expect`",
                                cdef.id
                            ),
                            here("expect:"),
                        )
                        .help("put each expectation under its step"),
                    );
                }
                step_defs = cdef.steps;
            }
            (Some(_), false) => diags.push(
                diag(
                    format!("case `{}` has both `request` and `steps`", cdef.id),
                    here("steps:"),
                )
                .expected("either one `request` (+ `expect`) or a list of `steps`"),
            ),
            (None, true) => diags.push(
                diag(
                    format!("case `{}` has no request", cdef.id),
                    Some(line_col(source, case_at())),
                )
                .expected("a `request` (+ `expect`) or a list of `steps`"),
            ),
        }

        // Sized exactly: cases live for the whole run, and a Vec grown by `push` keeps 4 slots.
        let mut steps = Vec::with_capacity(step_defs.len());
        let mut captured: Vec<String> = Vec::new();
        let mut roles: Vec<String> = Vec::new();
        for (i, sdef) in step_defs.into_iter().enumerate() {
            let mut problems = Vec::new();
            let request = compile_request(sdef.request, &fixtures, &mut problems);
            for p in problems {
                diags.push(template_diag(&diag, &here, p));
            }
            // Captures must be defined by an earlier step.
            let mut exprs = Vec::new();
            request.visit(&mut |e| exprs.push(e.clone()));
            for e in exprs {
                match e {
                    Expr::Model(role) if !roles.contains(&role) => roles.push(role),
                    Expr::Capture(name) if !captured.contains(&name) => diags.push(
                        diag(
                            format!("capture `{name}` is used before any step captures it"),
                            here(&format!("capture.{name}")),
                        )
                        .expected("a `capture:` entry in an earlier step"),
                    ),
                    _ => {}
                }
            }
            let mut report = |m, needle: &str, exp, help| {
                diags.push(diag(m, here(needle)).expected(exp).help_opt(help))
            };
            let expect = compile_expect(
                sdef.expect.unwrap_or_default(),
                env,
                &fixtures,
                paths,
                &mut report,
            );
            let poll = sdef
                .poll
                .and_then(|p| compile_poll(p, &fixtures, paths, &mut report));
            // Captures the expectations name must come from an earlier step too.
            let mut expect_exprs = Vec::new();
            expect.visit(&mut |e| expect_exprs.push(e.clone()));
            if let Some(p) = &poll {
                p.pending.op.visit(&mut |e| expect_exprs.push(e.clone()));
            }
            for e in expect_exprs {
                if let Expr::Model(role) = &e
                    && !roles.contains(role)
                {
                    roles.push(role.clone());
                }
                if let Expr::Capture(name) = e
                    && !captured.contains(&name)
                {
                    report(
                        format!("capture `{name}` is used before any step captures it"),
                        &format!("capture.{name}"),
                        "a `capture:` entry in an earlier step".into(),
                        None,
                    );
                }
            }
            let mut capture = Vec::new();
            for (name, p) in sdef.capture {
                match JsonPath::parse(&p) {
                    Ok(path) => capture.push((name.clone(), path)),
                    Err(e) => diags.push(
                        diag(format!("invalid JSONPath `{p}`: {e}"), here(&p))
                            .expected("a JSONPath such as `$.choices[0].message`"),
                    ),
                }
                captured.push(name);
            }
            steps.push(Step {
                name: sdef.name.unwrap_or_else(|| format!("step {}", i + 1)),
                request,
                expect,
                capture,
                poll,
            });
        }
        // Every role was checked against ROLES when its template compiled.
        let roles: Vec<&'static str> = roles
            .iter()
            .filter_map(|r| ROLES.iter().copied().find(|x| x == r))
            .collect();
        let tags: Vec<Box<str>> = cdef.tags.into_iter().map(String::into_boxed_str).collect();
        cases.push(Arc::new(Case {
            suite: cx.suite_id.clone(),
            id: cdef.id.into_boxed_str(),
            feature: intern(&mut shared.features, &cdef.feature),
            description: cdef.description.map(String::into_boxed_str),
            tags: intern(&mut shared.tags, &tags),
            notes: cdef.notes.map(String::into_boxed_str),
            steps: steps.into(),
            roles: intern(&mut shared.roles, &roles),
            snapshot: cdef.snapshot,
        }));
    }
    out
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// What a suite's cases repeat, held once: features, tag lists and role lists.
#[derive(Default)]
struct Shared {
    features: HashSet<Arc<str>>,
    tags: HashSet<Arc<[Box<str>]>>,
    roles: HashSet<Arc<[&'static str]>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str, fixtures: &Path) -> Result<Suite, Diagnostics> {
        load_on(yaml, fixtures, Some(2))
    }

    /// `yaml` loaded as `s.yaml`, parsed in parts on up to `parts` threads or whole (`None`).
    fn load_on(yaml: &str, fixtures: &Path, parts: Option<usize>) -> Result<Suite, Diagnostics> {
        load_suite_on(Path::new("s.yaml"), yaml, &env(fixtures), parts)
    }

    /// A project file's environment, its fixtures under `fixtures`.
    fn env(fixtures: &Path) -> SuiteEnv<'_> {
        SuiteEnv {
            fixtures_root: Some(fixtures),
            allow_fixture_escape: false,
            schema_ids: &[],
            check_names: &[],
            builtin: false,
        }
    }

    /// `text`'s definition parsed in parts on up to `threads` threads, if it is.
    fn parse_in_parts(text: &str, threads: usize) -> Option<SuiteDef> {
        Parts::of(text, threads)?.parse()
    }

    /// A suite `s` of one case `c` whose other keys (indented as a case's) are `case`.
    fn one_case(case: &str) -> String {
        format!("suite: s\ndescription: d\ncases:\n  - id: c\n{case}")
    }

    fn fixtures() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tone.wav"),
            [b'R', b'I', b'F', b'F', 0xff, 0],
        )
        .unwrap();
        dir
    }

    #[test]
    fn binary_fixtures_upload_byte_for_byte_and_bodies_compare_to_them() {
        let dir = fixtures();
        let yaml = one_case(
            r#"    feature: audio.transcription
    request:
      path: /audio/transcriptions
      multipart:
        file: { fixture: tone.wav }
        model: { text: "{{model.transcription}}" }
    expect:
      status: 200
      body: { fixture: tone.wav }
"#,
        );
        let suite = load(&yaml, dir.path()).unwrap();
        let case = &suite.cases[0];
        assert_eq!(*case.roles, ["transcription"]);
        let steps = case.steps.held().unwrap();
        let step = &steps[0];
        let file = step.request.multipart.iter().find(|(n, _)| n == "file");
        match file.map(|(_, v)| v) {
            Some(MultipartValue::File {
                filename,
                content: FileContent::Bytes(b),
            }) => {
                assert_eq!(filename, "tone.wav");
                assert_eq!(b.as_slice(), [b'R', b'I', b'F', b'F', 0xff, 0]);
            }
            other => panic!("{other:?}"),
        }
        let body = step.expect.body.as_ref().unwrap();
        assert_eq!((body.fixture.as_str(), body.bytes.len()), ("tone.wav", 6));
    }

    #[test]
    fn cases_share_their_feature_tags_and_roles_and_keep_their_order() {
        let dir = fixtures();
        let case = |id: &str, tags: &str, model: &str| {
            format!(
                "  - id: {id}\n    feature: chat.basic\n    tags: [{tags}]\n    request:\n      path: /x\n      body: {{ a: \"{{{{model.{model}}}}}\", b: \"{{{{model.chat}}}}\" }}\n"
            )
        };
        let yaml = format!(
            "suite: s\ndescription: d\ncases:\n{}{}{}",
            case("a", "x, y", "vision"),
            case("b", "x, y", "vision"),
            case("c", "y, x", "chat"),
        );
        let suite = load(&yaml, dir.path()).unwrap();
        let [a, b, c] = &suite.cases[..] else {
            panic!("three cases")
        };
        assert!(Arc::ptr_eq(&a.feature, &c.feature));
        assert!(Arc::ptr_eq(&a.tags, &b.tags) && Arc::ptr_eq(&a.roles, &b.roles));
        assert_eq!(a.tags.join(","), "x,y");
        assert_eq!(c.tags.join(","), "y,x");
        assert_eq!(*a.roles, ["vision", "chat"]);
        assert_eq!(*c.roles, ["chat"]);
    }

    #[test]
    fn missing_fixtures_bad_polls_and_early_captures_are_load_errors() {
        let dir = fixtures();
        let yaml = one_case(
            r#"    feature: files.list
    steps:
      - name: list
        request: { path: /files }
        poll:
          while: { path: $.status, equals: running }
          every_seconds: -1
          at_most: 3
        expect:
          body: { fixture: nope.bin }
          jsonpath:
            - { path: "$.data[*].id", contains: "{{capture.file_id}}" }
      - name: upload
        request:
          path: /files
          multipart:
            file: { fixture: missing.jsonl }
"#,
        );
        let text = load(&yaml, dir.path()).unwrap_err().to_string();
        for part in [
            "invalid poll: every_seconds -1, at_most 3",
            "nope.bin",
            "capture `file_id` is used before any step captures it",
            "missing.jsonl",
        ] {
            assert!(text.contains(part), "{part:?} not in {text}");
        }
    }

    /// A generated suite of `n` cases of several shapes (flow and block bodies, a block scalar,
    /// comments, steps with captures), with the suite's `redact:` key after the cases; `extra`
    /// is added to every case.
    fn large(n: usize, extra: &str) -> String {
        let mut s = String::from("suite: big\ndescription: parts\ncases:\n");
        for i in 0..n {
            s.push_str(&match i % 3 {
                0 => format!(
                    "  - id: c{i}\n    feature: chat.basic\n    tags: [t{}]\n{extra}    request:\n      path: /chat/completions\n      body: {{ model: \"{{{{model.chat}}}}\", messages: [{{ role: user, content: \"hi {i}\" }}] }}\n    expect:\n      status: 200\n      jsonpath:\n        - {{ path: $.object, equals: chat.completion }}\n",
                    i % 7
                ),
                1 => format!(
                    "  # case {i}\n  - id: c{i}\n    feature: models.list\n    notes: |\n      a block scalar\n      - id: not-a-case\n{extra}    request: {{ path: /models, method: GET }}\n"
                ),
                _ => format!(
                    "  - id: c{i}\n    feature: chat.basic\n{extra}    steps:\n      - request: {{ path: /models, method: GET }}\n        capture: {{ first: \"$.data[0].id\" }}\n      - request:\n          path: /chat/completions\n          body: {{ model: \"{{{{capture.first}}}}\", messages: [] }}\n"
                ),
            });
        }
        s.push_str("redact:\n  - $.id\n");
        s
    }

    #[test]
    fn a_large_file_parsed_in_parts_loads_as_it_does_parsed_whole() {
        let dir = fixtures();
        let text = large(600, "");
        assert!(text.len() > 4 * PART_BYTES, "{}", text.len());
        // The parts are taken (this is not the whole file parsed twice).
        let parts = parse_in_parts(&text, 4).expect("parsed in parts");
        assert_eq!(parts.cases.len(), 600);
        let whole = load_on(&text, dir.path(), None).unwrap();
        let split = load_on(&text, dir.path(), Some(4)).unwrap();
        assert_eq!(format!("{whole:?}"), format!("{split:?}"));
        // On one thread the file is parsed whole.
        assert!(parse_in_parts(&text, 1).is_none());
        let ids: Vec<&str> = split.cases.iter().map(|c| &*c.id).collect();
        assert_eq!(ids[..3], ["c0", "c1", "c2"]);
        assert_eq!(ids[599], "c599");
        assert_eq!(split.scrub.len(), 1);
    }

    /// A file of thousands of cases is compiled in runs side by side: the same cases, and the
    /// same diagnostics in the same order (a duplicate id across runs included), as compiled on
    /// one thread.
    #[test]
    fn cases_compiled_in_runs_are_the_cases_and_problems_of_one_thread() {
        let dir = fixtures();
        let env = env(dir.path());
        let good = large(900, "");
        let bad = good
            .replacen("  - id: c101\n", "  - id: Bad-Id\n", 1)
            .replacen(
                "  - id: c399\n    feature: chat.basic\n",
                "  - id: c399\n    feature: Chat\n",
                1,
            )
            .replacen(
                "        - { path: $.object, equals: chat.completion }\n",
                "        - { path: \"$.[\", equals: 1 }\n",
                1,
            )
            .replacen("  - id: c702\n", "  - id: c5\n", 1)
            .replacen(
                "{{capture.first}}\", messages: [] }\n",
                "{{capture.second}}\", messages: [] }\n",
                1,
            );
        let compiled = |text: &str, threads: usize| {
            let source: Arc<str> = text.into();
            let def = parse_yaml_shaped(Path::new("s.yaml"), &source, &SUITE).unwrap();
            compile_suite(Path::new("s.yaml"), &source, def, &env, threads)
        };
        let one = compiled(&good, 1).unwrap();
        let problems = compiled(&bad, 1).unwrap_err().to_string();
        for needle in [
            "invalid case id `Bad-Id`",
            "invalid feature id `Chat`",
            "invalid JSONPath",
            "duplicate case id `c5`",
            "capture `second`",
        ] {
            assert!(problems.contains(needle), "{needle}: {problems}");
        }
        for threads in [2, 3, 8] {
            let runs = compiled(&good, threads).unwrap();
            assert_eq!(format!("{one:?}"), format!("{runs:?}"), "{threads} threads");
            assert_eq!(
                compiled(&bad, threads).unwrap_err().to_string(),
                problems,
                "{threads} threads"
            );
        }
        // Within a run, what cases repeat is held once.
        let runs = compiled(&good, 2).unwrap();
        assert!(Arc::ptr_eq(&runs.cases[0].feature, &runs.cases[3].feature));
        assert!(Arc::ptr_eq(&runs.cases[0].suite, &runs.cases[899].suite));
    }

    #[test]
    fn a_problem_in_any_part_is_reported_where_it_is_in_the_file() {
        let dir = fixtures();
        let good = large(600, "");
        // An unknown key in a late case and a syntax error: that part does not parse, so the
        // whole file is parsed for the diagnostics. A duplicate id across parts: every part
        // parses, and the duplicate is found once their cases are joined.
        let late = good.replacen("  - id: c550\n", "  - id: c550\n    colour: red\n", 1);
        let broken = good.replacen("  - id: c560\n", "  - id: c560\n    tags: [oops\n", 1);
        let dup = good.replacen("  - id: c580\n", "  - id: c3\n", 1);
        // Nested too deep in one case, and in a collection left open in one case and nested
        // further in each of the cases after it: whole, the file is too deep; in parts, one
        // part is too deep, or does not parse.
        let deep = good.replacen(
            "content: \"hi 570\" }",
            &format!(
                "content: \"hi 570\", x: {}{} }}",
                "[".repeat(120),
                "]".repeat(120)
            ),
            1,
        );
        assert_ne!(deep, good);
        let mut spread = good.replacen("  - id: c300\n", "  - id: c300\n    notes: [[\n", 1);
        for i in 301..400 {
            let item = format!("  - id: c{i}\n");
            spread = spread.replacen(&item, &format!("{item}      [\n"), 1);
        }
        // The depth estimate reads a `[` that starts a line of a plain scalar as a collection
        // left open: in two parts, each within the limit, the whole file past it.
        let seen_open = |text: &str, i: usize| {
            let item = format!("  - id: c{i}\n");
            text.replacen(
                &item,
                &format!("{item}    notes: see\n      {}\n", "[".repeat(60)),
                1,
            )
        };
        let seen_open = seen_open(&seen_open(&good, 102), 500);
        for bad in [&late, &broken, &deep, &spread, &seen_open] {
            assert!(sequence::items(bad, "cases").is_some());
            assert!(parse_in_parts(bad, 4).is_none());
        }
        assert!(parse_in_parts(&dup, 4).is_some());
        for bad in [&deep, &spread, &seen_open] {
            let split = load_on(bad, dir.path(), Some(4)).unwrap_err().to_string();
            assert!(split.contains("nesting deeper than"), "{split}");
        }
        for bad in [late, broken, dup, deep, spread, seen_open] {
            let whole = load_on(&bad, dir.path(), None).unwrap_err().to_string();
            let split = load_on(&bad, dir.path(), Some(4)).unwrap_err().to_string();
            assert_eq!(whole, split);
            assert!(split.contains("s.yaml:"), "{split}");
        }
        let late = load_on(
            &good.replacen("  - id: c550\n", "  - id: c550\n    colour: red\n", 1),
            dir.path(),
            Some(4),
        )
        .unwrap_err()
        .to_string();
        let line = good[..good.find("  - id: c550\n").unwrap()].lines().count() + 2;
        assert!(
            late.contains(&format!("s.yaml:{line}:5: unknown key `colour`")),
            "{late}"
        );
    }

    #[test]
    fn a_file_whose_parts_would_not_mean_the_same_is_parsed_whole() {
        let dir = fixtures();
        // A quoted scalar over several lines with a line that looks like a case item: a part
        // cut there does not parse (or not to its cases), and the file is parsed whole.
        let text = large(
            600,
            "    description: \"one line\n  - id: not-a-case\n    still the description\"\n",
        );
        let items = sequence::items(&text, "cases").unwrap();
        assert!(
            items.starts.len() > 600,
            "the lookalike lines count as items"
        );
        let whole = load_on(&text, dir.path(), None).unwrap();
        let split = load_on(&text, dir.path(), Some(4)).unwrap();
        assert_eq!(split.cases.len(), 600);
        assert_eq!(format!("{whole:?}"), format!("{split:?}"));
    }

    /// A quote left open in the last case of a part, closed by a quote in the keys after the
    /// cases: parsed whole, the following cases and the `redact:` key are part of the scalar.
    /// A part that ended with those keys would parse with its cases; a part that ends at its
    /// last case does not, and the file is parsed whole.
    #[test]
    fn a_quote_left_open_in_a_part_is_not_closed_by_the_keys_after_the_cases() {
        let dir = fixtures();
        let case = |i: usize| {
            format!(
                "  - id: c{i}\n    feature: models.list\n    request: {{ path: /models, method: GET }}\n"
            )
        };
        let mut text = String::from("suite: s\ncases:\n");
        for i in 0..1_000 {
            text.push_str(&case(i));
        }
        // At the end of the last case of the first part (the cases are still cut there).
        let starts = sequence::items(&text, "cases").unwrap().starts;
        let first_of_next = starts
            .iter()
            .position(|&s| s - starts[0] >= PART_BYTES)
            .unwrap();
        text.insert_str(starts[first_of_next], "    description: \"left open\n");
        text.push_str("redact:\n  - $.id # \"\n");
        let whole = load_on(&text, dir.path(), None).map(|s| (s.cases.len(), s.scrub.len()));
        assert!(
            matches!(whole, Ok((n, 0)) if n < 1_000),
            "parsed whole, the scalar swallows the rest: {whole:?}"
        );
        assert!(parse_in_parts(&text, 4).is_none());
        let split = load_on(&text, dir.path(), Some(4)).map(|s| (s.cases.len(), s.scrub.len()));
        assert_eq!(format!("{whole:?}"), format!("{split:?}"));
    }

    /// A file parsed in parts and not spilled has each part's cases compiled as the part is
    /// parsed; a file with a problem anywhere — a case's, the suite's own keys', a case id
    /// repeated in one part or in two — is loaded again the usual way and reports the problem
    /// as the whole file parsed reports it.
    #[test]
    fn cases_compiled_as_their_part_is_parsed_are_the_cases_of_the_whole_file() {
        let dir = fixtures();
        let env = env(dir.path());
        let path = Path::new("s.yaml");
        let parts_load = |text: &str| {
            let source: Arc<str> = text.into();
            Parts::of(text, 4).unwrap().load(path, &source, &env)
        };
        let good = large(600, "");
        let Ok(fused) = parts_load(&good) else {
            panic!("a file without a problem is loaded as its parts are parsed")
        };
        let whole = load_on(&good, dir.path(), None).unwrap();
        assert_eq!(format!("{fused:?}"), format!("{whole:?}"));
        let problems = [
            good.replacen("  - id: c5\n", "  - id: c3\n", 1),
            good.replacen("  - id: c580\n", "  - id: c3\n", 1),
            good.replacen("feature: chat.basic\n", "feature: chat.basci\n", 1),
            good.replacen(
                "  - id: c571\n",
                "  - id: c571\n    steps: [{ request: { path: /x } }]\n",
                1,
            ),
            good.replacen("redact:\n  - $.id\n", "redact:\n  - $[\n", 1),
            good.replacen("suite: big\n", "suite: Big\n", 1),
        ];
        for bad in &problems {
            assert_ne!(bad, &good);
            assert!(matches!(parts_load(bad), Err(Refused::Problems)));
            let whole = load_on(bad, dir.path(), None).unwrap_err().to_string();
            let split = load_on(bad, dir.path(), Some(4)).unwrap_err().to_string();
            assert_eq!(whole, split);
        }
        let unparsed = good.replacen("  - id: c550\n", "  - id: c550\n    colour: red\n", 1);
        assert!(matches!(parts_load(&unparsed), Err(Refused::Parts)));
    }

    #[test]
    fn every_repeat_of_a_case_id_points_at_the_first_case_with_it() {
        let dir = fixtures();
        let case = |id: &str| {
            format!("  - id: {id}\n    feature: models.list\n    request: {{ path: /models }}\n")
        };
        let text = format!(
            "suite: s\ncases:\n{}{}{}{}",
            case("a"),
            case("b"),
            case("a"),
            case("a")
        );
        let d = load(&text, dir.path()).unwrap_err();
        let lines: Vec<String> =
            d.0.iter()
                .map(|d| format!("{:?}:{:?} {} / {:?}", d.line, d.column, d.message, d.help))
                .collect();
        assert_eq!(
            lines,
            [
                "Some(9):Some(3) duplicate case id `a` / Some(\"the first case with this id is on line 3\")",
                "Some(12):Some(3) duplicate case id `a` / Some(\"the first case with this id is on line 3\")",
            ]
        );
    }

    #[test]
    fn the_suite_description_is_optional() {
        let dir = fixtures();
        let yaml = "suite: s\ncases:\n  - id: c\n    feature: models.list\n    request: { path: /models }\n";
        let suite = load(yaml, dir.path()).unwrap();
        assert_eq!((suite.id.as_str(), suite.description.as_str()), ("s", ""));
        // Everything else a case needs is still required, and said all at once.
        let text = load("suite: s\ncases:\n  - id: c\n    request: {}\n", dir.path())
            .unwrap_err()
            .to_string();
        assert!(text.contains("s.yaml:3:5: missing key `feature`"), "{text}");
        assert!(text.contains("s.yaml:4:14: missing key `path`"), "{text}");
    }

    #[test]
    fn features_are_built_in_new_in_a_built_in_area_or_in_the_suites_own() {
        let dir = fixtures();
        let suite = |areas: &str, features: &[&str]| {
            let mut yaml = format!("suite: s\n{areas}cases:\n");
            for (i, f) in features.iter().enumerate() {
                yaml.push_str(&format!(
                    "  - id: c{i}\n    feature: {f}\n    request: {{ path: /models }}\n"
                ));
            }
            load(&yaml, dir.path()).map_err(|d| d.to_string())
        };
        assert!(suite("", &["chat.basic", "chat.app_reply", "models.mine"]).is_ok());
        assert!(suite("areas: [myapp]\n", &["myapp.checkout", "chat.basic"]).is_ok());
        let text = suite("", &["chat.basci", "myapp.checkout", "chta.basic"]).unwrap_err();
        for part in [
            "s.yaml:4:14: unknown feature `chat.basci`",
            "s.yaml:7:14: unknown area `myapp` in feature `myapp.checkout`",
            "s.yaml:10:14: unknown area `chta` in feature `chta.basic`",
        ] {
            assert!(text.contains(part), "{part:?} not in {text}");
        }
        let text = suite("areas: [My-App]\n", &["chat.basic"]).unwrap_err();
        assert!(text.contains("s.yaml:2:9: invalid area `My-App`"), "{text}");
    }

    #[test]
    fn a_poll_compiles_with_its_condition() {
        let dir = fixtures();
        let yaml = one_case(
            r#"    feature: batch.output
    steps:
      - name: create
        request: { path: /batches, body: {} }
        capture: { id: $.id }
      - name: wait
        request: { path: "/batches/{{capture.id}}" }
        poll:
          while: { path: $.status, one_of: [validating, in_progress] }
          every_seconds: 0.5
          at_most: 4
        expect:
          jsonpath:
            - { path: $.id, equals: "{{capture.id}}" }
"#,
        );
        let suite = load(&yaml, dir.path()).unwrap();
        let steps = suite.cases[0].steps.held().unwrap();
        let poll = steps[1].poll.as_ref().unwrap();
        assert_eq!(poll.at_most, 4);
        assert_eq!(poll.every, std::time::Duration::from_millis(500));
        assert_eq!(poll.pending.source, "$.status");
        assert!(steps[0].poll.is_none());
    }
}
