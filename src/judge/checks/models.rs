//! `models.*`: the models list and model objects, and whether the ids the target is configured
//! with are the ids the endpoint lists.

use serde_json::Value;

use super::{CheckDef, CheckInput};
use crate::judge::outcome::CheckResult;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "models.configured_ids_listed",
        description: "every model id in the target's model map appears in `GET /models` (a `models/`-prefixed listing is named)",
        run: configured_ids_listed,
    },
    CheckDef {
        name: "models.retrieve_matches",
        description: "`GET /models/{id}` returns the model whose `id` was asked for",
        run: retrieve_matches,
    },
    CheckDef {
        name: "models.unique_ids",
        description: "the models list has no duplicate or empty ids",
        run: unique_ids,
    },
];

fn listed_ids(i: &CheckInput<'_>) -> Option<Vec<String>> {
    Some(
        i.json?
            .get("data")?
            .as_array()?
            .iter()
            .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
            .collect(),
    )
}

fn configured_ids_listed(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "models.configured_ids_listed";
    let Some(ids) = listed_ids(i) else {
        return vec![CheckResult::fail(C, "no `data` array of models with ids").at("$.data")];
    };
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (role, id) in &i.target.models {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        if ids.iter().any(|x| x == id) {
            continue;
        }
        let prefixed = ids
            .iter()
            .find(|x| x.rsplit('/').next() == Some(id.as_str()));
        out.push(match prefixed {
            Some(p) => CheckResult::fail(C, format!("model `{id}` (role {role}) is listed as `{p}` (prefixed id; exact-match lookups fail)")).at("$.data[*].id"),
            None => CheckResult::fail(C, format!("model `{id}` (role {role}) is not in the models list ({} models listed)", ids.len())).at("$.data[*].id"),
        });
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            C,
            format!("{} configured id(s) listed", seen.len()),
        ));
    }
    out
}

fn retrieve_matches(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "models.retrieve_matches";
    let asked = i
        .request_path
        .trim_end_matches('/')
        .rsplit("models/")
        .next()
        .unwrap_or("");
    match i.json.and_then(|b| b.get("id")).and_then(Value::as_str) {
        Some(id) if id == asked => vec![CheckResult::pass(C, format!("id {id}"))],
        Some(id) => {
            vec![CheckResult::fail(C, format!("asked for `{asked}`, got `{id}`")).at("$.id")]
        }
        None => vec![CheckResult::fail(C, "response has no string `id`").at("$.id")],
    }
}

fn unique_ids(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "models.unique_ids";
    let Some(ids) = listed_ids(i) else {
        return vec![CheckResult::fail(C, "no `data` array of models with ids").at("$.data")];
    };
    let mut sorted = ids.clone();
    sorted.sort();
    let dup = sorted
        .windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| w[0].clone());
    match (dup, ids.iter().any(|x| x.is_empty())) {
        (Some(d), _) => {
            vec![CheckResult::fail(C, format!("model id `{d}` is listed twice")).at("$.data[*].id")]
        }
        (None, true) => vec![CheckResult::fail(C, "a model has an empty id").at("$.data[*].id")],
        (None, false) => vec![CheckResult::pass(C, format!("{} unique ids", ids.len()))],
    }
}
