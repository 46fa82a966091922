//! The stream folded into the `chat.completion` a client's accumulator builds from it: what
//! `streaming.reassembled` validates and `stream` snapshots record.

use serde_json::{Map, Value, json};

use super::json::Json;
use super::model::{ChatStream, Choice};

/// A chat stream folded into one completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Reassembled {
    /// `object: chat.completion`, the identity members from the first chunk carrying each,
    /// the choices in index order, and the last usage object sent.
    pub completion: Value,
    /// Fragments that could not be folded: (what, event number).
    pub notes: Vec<(String, u64)>,
    /// Each choice index with the number of chunk entries that carried it.
    pub chunks_per_choice: Vec<(u64, usize)>,
}

/// The members a client takes from the first chunk carrying them.
const IDENTITY: [&str; 5] = [
    "id",
    "created",
    "model",
    "system_fingerprint",
    "service_tier",
];

impl ChatStream {
    /// The fold: strings concatenate, the role is taken once, tool calls are the model's
    /// calls (one rule for a missing `index`), logprobs append, the last finish_reason stands.
    pub fn reassembled(&self) -> Reassembled {
        let mut notes = Vec::new();
        let mut choices = Vec::new();
        let mut chunks_per_choice = Vec::new();
        for choice in self.choices() {
            choices.push(fold_choice(&choice, &mut notes));
            chunks_per_choice.push((choice.index(), choice.len()));
        }
        let mut completion = json!({ "object": "chat.completion", "choices": choices });
        // A stream without an id reassembles into a completion without one, as in clients.
        for k in IDENTITY {
            if let Some(v) = self
                .chunks()
                .find_map(|c| c.get(k).filter(|v| !v.is_null()))
            {
                completion[k] = v.value();
            }
        }
        // Usage as a client keeps it: the last one sent (servers that report running totals
        // send one per chunk; the last is the whole).
        if let Some(u) = self.last_usage() {
            completion["usage"] = u.value();
        }
        Reassembled {
            completion,
            notes,
            chunks_per_choice,
        }
    }
}

/// One choice's deltas folded the way SDK accumulators do.
fn fold_choice(choice: &Choice<'_>, notes: &mut Vec<(String, u64)>) -> Value {
    let idx = choice.index();
    let mut role: Option<Value> = None;
    // content, refusal, reasoning (`reasoning_content` or `reasoning`, as providers name it).
    let mut text: [Option<String>; 3] = [None, None, None];
    let mut logprobs: Option<Vec<Value>> = None;
    let mut finish = Value::Null;
    // The deprecated `functions` API: `name` from the first fragment, `arguments` concatenated.
    let mut function_call: Option<Map<String, Value>> = None;
    for e in choice.entries() {
        if role.is_none() {
            role = e.role().filter(|r| !r.is_null()).map(|r| r.value());
        }
        let fields: [(&str, usize, Option<Json<'_>>); 4] = [
            ("content", 0, e.content()),
            ("refusal", 1, e.refusal()),
            ("reasoning_content", 2, e.reasoning_content()),
            ("reasoning", 2, e.reasoning()),
        ];
        for (key, slot, v) in fields {
            let Some(v) = v.filter(|v| !v.is_null()) else {
                continue;
            };
            match v.as_str() {
                Some(s) => text[slot].get_or_insert_with(String::new).push_str(&s),
                None => notes.push((
                    format!(
                        "choice {idx}: a `{key}` fragment is {}, not a string, so it cannot be concatenated",
                        v.type_name()
                    ),
                    e.event().n(),
                )),
            }
        }
        if let Some(lp) = e.logprobs().filter(|l| !l.is_null())
            && let Value::Object(mut lp) = lp.value()
            && let Some(Value::Array(content)) = lp.remove("content")
        {
            logprobs.get_or_insert_with(Vec::new).extend(content);
        }
        if let Some(f) = e.finish() {
            finish = f.value();
        }
        if let Some(Value::Object(part)) = e.function_call().map(|f| f.value()) {
            let call = function_call.get_or_insert_with(Map::new);
            if let Some(name) = part.get("name").filter(|n| !n.is_null()) {
                call.entry("name").or_insert_with(|| name.clone());
            }
            if let Some(Value::String(a)) = part.get("arguments") {
                let args = call
                    .entry("arguments")
                    .or_insert_with(|| Value::String(String::new()));
                if let Value::String(all) = args {
                    all.push_str(a);
                }
            }
        }
    }
    let calls: Vec<Value> = choice.tool_calls().map(|c| fold_call(&c)).collect();
    let [content, refusal, reasoning] = text;
    let mut message = json!({
        "role": role.unwrap_or(Value::Null),
        "content": content.map(Value::String).unwrap_or(Value::Null),
    });
    if let Some(r) = refusal {
        message["refusal"] = Value::String(r);
    }
    if let Some(r) = reasoning {
        message["reasoning_content"] = Value::String(r);
    }
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    if let Some(call) = function_call {
        message["function_call"] = Value::Object(call);
    }
    json!({
        "index": idx,
        "message": message,
        "finish_reason": finish,
        "logprobs": logprobs.map(|c| json!({ "content": c, "refusal": null })).unwrap_or(Value::Null),
    })
}

/// One call: `id` and `type` from the first delta carrying them, `function.name` likewise,
/// the argument fragments concatenated. `function` exists when a delta sent one.
fn fold_call(call: &super::model::Call<'_>) -> Value {
    let mut out = Map::new();
    for (k, v) in [
        ("id", call.first_of(|d| d.id())),
        ("type", call.first_of(|d| d.kind())),
    ] {
        if let Some(v) = v {
            out.insert(k.into(), v.value());
        }
    }
    if call.deltas().any(|d| d.function().is_some()) {
        let mut f = Map::new();
        if let Some(name) = call.first_of(|d| d.name()) {
            f.insert("name".into(), name.value());
        }
        if call
            .deltas()
            .any(|d| d.arguments().is_some_and(|a| a.as_str().is_some()))
        {
            f.insert("arguments".into(), Value::String(call.arguments()));
        }
        out.insert("function".into(), Value::Object(f));
    }
    Value::Object(out)
}
