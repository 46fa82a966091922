//! Running a plan: bounded concurrency per target and overall, targets interleaved so a slow
//! one cannot hold the overall permits, every case judged as soon as its exchange ends, and
//! events sent to one consumer (the terminal). Cancellation stops scheduling and drops the
//! in-flight exchanges; finished cases are kept.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::exchange::Exchange;
use super::http::{Body, ClientOptions, MultipartPart, PreparedRequest, TargetClient};
use crate::judge::{self, CheckResult, Outcome, StepInput, Verdict};
use crate::load::suite::{MultipartValue, Step};
use crate::load::template::RenderContext;
use crate::load::{Case, SchemaStore, Target};
use crate::plan::PlannedCase;
use crate::redact::SecretRegistry;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overall cap on cases in flight.
    pub concurrency: usize,
    /// Default per-target cap (a target's `concurrency` overrides it).
    pub per_target: usize,
    pub client: ClientOptions,
}

#[derive(Debug)]
pub struct StepRecord {
    pub name: String,
    pub exchange: Exchange,
    pub verdict: Verdict,
}

/// Everything known about one case on one target once it ended.
#[derive(Debug)]
pub struct CaseRecord {
    pub target: Arc<Target>,
    pub case: Arc<Case>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub steps: Vec<StepRecord>,
    pub duration: Duration,
}

impl CaseRecord {
    pub fn warnings(&self) -> impl Iterator<Item = &CheckResult> {
        self.steps
            .iter()
            .flat_map(|s| s.verdict.checks.iter())
            .filter(|c| c.status == judge::CheckStatus::Warn)
    }
}

/// What the runner tells its one consumer.
#[derive(Debug)]
pub enum Event {
    Started { total: usize },
    CaseStarted { target: String, case: String },
    CaseFinished(Arc<CaseRecord>),
}

pub struct RunResult {
    /// In plan order; cases not finished when the run was cancelled are absent.
    pub records: Vec<Arc<CaseRecord>>,
    pub cancelled: bool,
}

/// Run every planned case. Clients are built per target once (connection reuse).
pub async fn run(
    plan: Vec<PlannedCase>,
    schemas: Arc<SchemaStore>,
    opts: &RunOptions,
    secrets: SecretRegistry,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Result<RunResult, String> {
    let _ = events.send(Event::Started { total: plan.len() });
    let mut clients: BTreeMap<String, (Arc<TargetClient>, Arc<Semaphore>)> = BTreeMap::new();
    for pc in &plan {
        if !clients.contains_key(&pc.target.name) {
            let client =
                TargetClient::new(pc.target.clone(), opts.client.clone(), secrets.clone())?;
            let limit = pc.target.concurrency.unwrap_or(opts.per_target).max(1);
            clients.insert(
                pc.target.name.clone(),
                (Arc::new(client), Arc::new(Semaphore::new(limit))),
            );
        }
    }
    let global = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (idx, pc) in interleave(plan) {
        let (client, per_target) = clients[&pc.target.name].clone();
        let (global, schemas, events, cancel) = (
            global.clone(),
            schemas.clone(),
            events.clone(),
            cancel.clone(),
        );
        tasks.spawn(async move {
            let work = async {
                // Per-target first: a target at its limit waits without holding a global permit.
                let _t = per_target.acquire_owned().await.ok()?;
                let _g = global.acquire_owned().await.ok()?;
                let _ = events.send(Event::CaseStarted {
                    target: pc.target.name.clone(),
                    case: pc.case.full_id(),
                });
                let rec = Arc::new(run_case(&client, &pc, &schemas).await);
                let _ = events.send(Event::CaseFinished(rec.clone()));
                Some(rec)
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => (idx, None),
                r = work => (idx, r),
            }
        });
    }
    let mut done: Vec<(usize, Arc<CaseRecord>)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((idx, Some(rec))) => done.push((idx, rec)),
            Ok((_, None)) => {}
            Err(e) if e.is_panic() => {
                return Err(format!("internal error: a case task panicked: {e}"));
            }
            Err(_) => {}
        }
    }
    done.sort_by_key(|(i, _)| *i);
    Ok(RunResult {
        records: done.into_iter().map(|(_, r)| r).collect(),
        cancelled: cancel.is_cancelled(),
    })
}

/// Round-robin over targets, keeping each target's cases in plan order.
fn interleave(plan: Vec<PlannedCase>) -> Vec<(usize, PlannedCase)> {
    let mut queues: BTreeMap<String, std::collections::VecDeque<(usize, PlannedCase)>> =
        BTreeMap::new();
    let mut order = Vec::new();
    for (i, pc) in plan.into_iter().enumerate() {
        if !queues.contains_key(&pc.target.name) {
            order.push(pc.target.name.clone());
        }
        queues
            .entry(pc.target.name.clone())
            .or_default()
            .push_back((i, pc));
    }
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for name in &order {
            if let Some(x) = queues.get_mut(name).and_then(|q| q.pop_front()) {
                out.push(x);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// Run one case: its steps in order, captures flowing forward, stopping at the first non-pass.
pub async fn run_case(
    client: &TargetClient,
    pc: &PlannedCase,
    schemas: &SchemaStore,
) -> CaseRecord {
    let start = Instant::now();
    let mut record = CaseRecord {
        target: pc.target.clone(),
        case: pc.case.clone(),
        outcome: Outcome::Pass,
        reason: None,
        // Sized exactly: an empty Vec grows to 4 slots, which for large records stays wasted.
        steps: Vec::with_capacity(pc.case.steps.len()),
        duration: Duration::ZERO,
    };
    if let Some((outcome, reason)) = &pc.decided {
        record.outcome = *outcome;
        record.reason = Some(reason.clone());
        return record;
    }
    let mut captures: BTreeMap<String, Value> = BTreeMap::new();
    let many = pc.case.steps.len() > 1;
    for step in &pc.case.steps {
        let prepared = match prepare(step, &pc.target, &captures) {
            Ok(p) => p,
            Err(e) => {
                record.outcome = Outcome::Skip;
                record.reason = Some(e);
                break;
            }
        };
        let exchange = client.send(&prepared).await;
        let body = match &prepared.body {
            Body::Json(v) => Some(v),
            _ => None,
        };
        let mut verdict = judge::judge_step(&StepInput {
            step,
            request: body,
            request_path: &prepared.path,
            exchange: &exchange,
            schemas,
            target: &pc.target,
        });
        if verdict.outcome == Outcome::Pass {
            capture(step, &exchange, &mut captures, &mut verdict);
        }
        let outcome = verdict.outcome;
        let mut reason = verdict.reason.clone();
        // Retries must not hide flakiness: a result reached after retries says so.
        if exchange.attempt_log.len() > 1 {
            reason = reason.map(|r| format!("{r} (after {} attempts)", exchange.attempts));
        }
        record.steps.push(StepRecord {
            name: step.name.clone(),
            exchange,
            verdict,
        });
        if outcome != Outcome::Pass {
            record.outcome = outcome;
            record.reason = reason.map(|r| {
                if many {
                    format!("{}: {r}", step.name)
                } else {
                    r
                }
            });
            break;
        }
    }
    record.duration = start.elapsed();
    record
}

fn capture(
    step: &Step,
    ex: &Exchange,
    captures: &mut BTreeMap<String, Value>,
    verdict: &mut Verdict,
) {
    let Some(body) = ex.response.as_ref().and_then(|r| r.json.as_ref()) else {
        if !step.capture.is_empty() {
            *verdict = Verdict::from_checks(vec![CheckResult::fail(
                "capture",
                "nothing to capture from: the body is not JSON",
            )]);
        }
        return;
    };
    for (name, path) in &step.capture {
        match path.query(body).first() {
            Some(v) => {
                captures.insert(name.clone(), v.clone());
            }
            None => {
                let mut checks = std::mem::take(&mut verdict.checks);
                checks.push(
                    CheckResult::fail("capture", format!("`{name}`: the path matched nothing"))
                        .at(path.to_string()),
                );
                *verdict = Verdict::from_checks(checks);
                return;
            }
        }
    }
}

/// Render a step's templates for this target.
pub fn prepare(
    step: &Step,
    target: &Target,
    captures: &BTreeMap<String, Value>,
) -> Result<PreparedRequest, String> {
    let ctx = RenderContext {
        models: &target.models,
        captures,
    };
    let r = &step.request;
    let as_text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let path = as_text(r.path.render(&ctx).map_err(|e| e.to_string())?);
    let mut headers = Vec::new();
    for (k, v) in &r.headers {
        headers.push((
            k.clone(),
            as_text(v.render(&ctx).map_err(|e| e.to_string())?),
        ));
    }
    let body = if let Some(b) = &r.body {
        Body::Json(b.render(&ctx).map_err(|e| e.to_string())?)
    } else if let Some(raw) = &r.raw_body {
        Body::Raw(raw.clone())
    } else if !r.multipart.is_empty() {
        let mut parts = Vec::new();
        for (name, m) in &r.multipart {
            parts.push((
                name.clone(),
                match m {
                    MultipartValue::Text(t) => MultipartPart::Text(t.clone()),
                    MultipartValue::File { filename, content } => MultipartPart::File {
                        filename: filename.clone(),
                        bytes: as_text(content.render(&ctx).map_err(|e| e.to_string())?)
                            .into_bytes(),
                    },
                },
            ));
        }
        Body::Multipart(parts)
    } else {
        Body::None
    };
    Ok(PreparedRequest {
        method: r.method.clone(),
        path,
        headers,
        body,
        auth: r.auth,
        stream: r.stream,
    })
}
