//! `tools.*`: function calling, non-streamed and streamed. Each call must be well-formed
//! (`type: function`, a non-empty unique id, a declared name, `arguments` a JSON *string* that
//! parses to an object valid against the declared `parameters`), `tool_choice` and
//! `parallel_tool_calls` must be honoured, `finish_reason` must match, and streamed calls must
//! follow OpenAI's delta protocol. Whether the model picked sensible arguments is never judged:
//! only that they fit the schema the request declared.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{CheckDef, CheckInput, at_choice};
use crate::execute::stream::{Choice, Json, JsonType, ToolDelta};
use crate::judge::outcome::{CheckResult, CheckStatus};
use crate::util::json::type_name;
use crate::util::text::excerpt;

pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "tools.calls",
        description: "every `tool_calls[]` item has `type: function`, a non-empty id unique in the message (T2: `\"\"`), a declared function name, and `arguments` as a JSON string (T3: an object, or `\"\"` for a parameterless tool) parsing to an object valid against the declared `parameters` (required present, types right, no undeclared keys unless the schema allows them); no call at all is its own reason",
        run: calls,
    },
    CheckDef {
        name: "tools.finish_reason",
        description: "`finish_reason: tool_calls` beside tool calls for tool_choice auto/required (T1: `stop`; OpenAI's gpt-4o is reported to do this too, QUIRKS §0); a named tool_choice may end with `stop` as OpenAI does; `tool_calls` without calls fails",
        run: finish_reason,
    },
    CheckDef {
        name: "tools.choice_honoured",
        description: "`tool_choice` honoured (T4): `required` calls a tool, a named function calls exactly that function, `none` calls nothing",
        run: choice_honoured,
    },
    CheckDef {
        name: "tools.parallel",
        description: "with `parallel_tool_calls: false` at most one call per message; otherwise (a case asking for two) at least two calls with distinct ids",
        run: parallel,
    },
    CheckDef {
        name: "tools.final_answer",
        description: "after a tool result (the round trip) a normal answer: string content, no further tool calls, finish_reason `stop` or `length`",
        run: final_answer,
    },
    CheckDef {
        name: "tools.stream_deltas",
        description: "streamed tool calls: an integer `index` on every delta (S1), `id`/`type`/`function.name` on the first delta of each index only (S2: name repeated, id missing; T2: empty id), string argument fragments concatenating to a JSON object valid against the declared parameters (T3), finish_reason as for non-streamed calls (T1) and tool_choice honoured (T4)",
        run: stream_deltas,
    },
];

/// How many schema violations one call reports: enough to show the pattern, never megabytes.
const MAX_VIOLATIONS: usize = 5;

/// The request's `tool_choice`, with OpenAI's default (`auto` when tools are declared).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    None,
    Auto,
    Required,
    Named(String),
}

impl Mode {
    fn of(request: Option<&Value>) -> Mode {
        let has_tools = request
            .and_then(|r| r.get("tools"))
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty());
        match request.and_then(|r| r.get("tool_choice")) {
            Some(Value::String(s)) if s == "none" => Mode::None,
            Some(Value::String(s)) if s == "required" => Mode::Required,
            Some(Value::Object(o)) => match o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
            {
                Some(name) => Mode::Named(name.to_string()),
                // `allowed_tools` and other newer forms: the model still chooses.
                None => Mode::Auto,
            },
            Some(_) => Mode::Auto,
            None if has_tools => Mode::Auto,
            None => Mode::None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Mode::None => "tool_choice \"none\"".into(),
            Mode::Auto => "tool_choice \"auto\"".into(),
            Mode::Required => "tool_choice \"required\"".into(),
            Mode::Named(f) => format!("tool_choice naming `{f}`"),
        }
    }

    /// The reason for a model that answered in text where a call was asked for.
    fn no_call_reason(&self, content: Option<&Value>) -> String {
        let said = match content {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                format!("the model answered with text {:?}", excerpt(s, 60))
            }
            _ => "the message has neither tool calls nor text".into(),
        };
        match self {
            Mode::Auto => format!(
                "no tool call: {said} (tool_choice \"auto\" leaves the choice to the model, so this case could not evidence a tool call)"
            ),
            _ => format!(
                "no tool call: {said} ({} was not enforced, QUIRKS T4)",
                self.describe()
            ),
        }
    }
}

/// The functions the request declared: name → `parameters` (None when omitted).
fn declared(request: Option<&Value>) -> BTreeMap<String, Option<Value>> {
    request
        .and_then(|r| r.get("tools"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let f = t.get("function")?;
            let name = f.get("name")?.as_str()?.to_string();
            Some((name, f.get("parameters").filter(|p| !p.is_null()).cloned()))
        })
        .collect()
}

fn parallel_allowed(request: Option<&Value>) -> bool {
    request
        .and_then(|r| r.get("parallel_tool_calls"))
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

fn choices<'a>(check: &str, i: &'a CheckInput<'_>) -> Result<&'a Vec<Value>, CheckResult> {
    match i
        .json
        .and_then(|b| b.get("choices"))
        .and_then(Value::as_array)
    {
        Some(c) if !c.is_empty() => Ok(c),
        Some(_) => Err(CheckResult::fail(check, "`choices` is empty").at("$.choices")),
        None => Err(CheckResult::fail(check, "response has no `choices` array").at("$.choices")),
    }
}

/// A choice's `message.tool_calls`: `Ok(vec![])` when absent, null or empty.
fn tool_calls<'a>(check: &str, choice: &'a Value, n: usize) -> Result<&'a [Value], CheckResult> {
    match choice.pointer("/message/tool_calls") {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(CheckResult::fail(
            check,
            format!("`tool_calls` is {}, expected an array", type_name(other)),
        )
        .at(at_choice(n, ".message.tool_calls"))),
    }
}

fn no_failures(out: &[CheckResult]) -> bool {
    out.iter().all(|r| r.status != CheckStatus::Fail)
}

// ---------------------------------------------------------------------------------------------
// Non-streamed checks.

fn calls(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "tools.calls";
    let cs = match choices(C, i) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let mode = Mode::of(i.request);
    let tools = declared(i.request);
    let mut out = Vec::new();
    let mut total = 0;
    for (n, choice) in cs.iter().enumerate() {
        let list = match tool_calls(C, choice, n) {
            Ok(l) => l,
            Err(e) => {
                out.push(e);
                continue;
            }
        };
        if list.is_empty() {
            if mode != Mode::None {
                out.push(
                    CheckResult::fail(C, mode.no_call_reason(choice.pointer("/message/content")))
                        .at(at_choice(n, ".message")),
                );
            }
            continue;
        }
        total += list.len();
        let mut seen: Vec<&str> = Vec::new();
        for (k, call) in list.iter().enumerate() {
            let at = at_choice(n, &format!(".message.tool_calls[{k}]"));
            out.extend(call_shape(C, call, &at, &tools, &mut seen));
            if call
                .pointer("/extra_content/google/thought_signature")
                .is_some_and(Value::is_string)
            {
                out.push(
                    CheckResult::pass(C, "a Gemini thought signature (`extra_content.google.thought_signature`): a documented extension, not a malformed call; the next turn must send it back on this call, which clients that keep only id, name and arguments do not (QUIRKS T7)")
                        .at(format!("{at}.extra_content")),
                );
            }
        }
    }
    if no_failures(&out) {
        out.push(CheckResult::pass(
            C,
            format!("{total} well-formed tool call(s)"),
        ));
    }
    out
}

/// Type, id, name and arguments of one non-streamed call.
fn call_shape<'a>(
    check: &str,
    call: &'a Value,
    at: &str,
    tools: &BTreeMap<String, Option<Value>>,
    seen: &mut Vec<&'a str>,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    match call.get("type") {
        Some(Value::String(t)) if t == "function" => {}
        None => out.push(
            CheckResult::fail(check, "`type` is missing (expected \"function\")")
                .at(format!("{at}.type")),
        ),
        Some(other) => out.push(
            CheckResult::fail(check, format!("`type` is {other}, expected \"function\""))
                .at(format!("{at}.type")),
        ),
    }
    match call.get("id") {
        Some(Value::String(id)) if id.trim().is_empty() => out.push(
            CheckResult::fail(
                check,
                "tool call `id` is an empty string (QUIRKS T2: tool results are matched by id, so clients drop or reject them)",
            )
            .at(format!("{at}.id")),
        ),
        Some(Value::String(id)) => {
            if seen.contains(&id.as_str()) {
                out.push(
                    CheckResult::fail(
                        check,
                        format!("tool call id {id:?} is used twice in one message"),
                    )
                    .at(format!("{at}.id")),
                );
            }
            seen.push(id);
        }
        other => out.push(
            CheckResult::fail(
                check,
                format!(
                    "tool call `id` is {}, expected a non-empty string",
                    shown(other)
                ),
            )
            .at(format!("{at}.id")),
        ),
    }
    let Some(f) = call.get("function").and_then(Value::as_object) else {
        out.push(
            CheckResult::fail(check, "`function` is missing or not an object")
                .at(format!("{at}.function")),
        );
        return out;
    };
    let schema = match f.get("name") {
        Some(Value::String(name)) => match tools.get(name) {
            Some(schema) => Some(schema.as_ref()),
            None => {
                out.push(undeclared(check, name, tools).at(format!("{at}.function.name")));
                None
            }
        },
        other => {
            out.push(
                CheckResult::fail(
                    check,
                    format!("`function.name` is {}, expected a string", shown(other)),
                )
                .at(format!("{at}.function.name")),
            );
            None
        }
    };
    out.extend(arguments(
        check,
        f.get("arguments"),
        schema,
        &format!("{at}.function.arguments"),
    ));
    out
}

fn undeclared(check: &str, name: &str, tools: &BTreeMap<String, Option<Value>>) -> CheckResult {
    let names: Vec<&str> = tools.keys().map(String::as_str).collect();
    CheckResult::fail(
        check,
        format!(
            "calls `{name}`, which the request did not declare (declared: {})",
            names.join(", ")
        ),
    )
}

/// `arguments`: a JSON string parsing to an object valid against the declared `parameters`.
/// `schema` is `None` when the function is unknown (the name is reported elsewhere), and
/// `Some(None)` for a function declared without parameters.
pub(super) fn arguments(
    check: &str,
    args: Option<&Value>,
    schema: Option<Option<&Value>>,
    at: &str,
) -> Vec<CheckResult> {
    let fail = |m: String| vec![CheckResult::fail(check, m).at(at)];
    let text = match args {
        Some(Value::String(s)) => s,
        Some(v @ Value::Object(_)) => {
            return fail(format!(
                "`arguments` is a JSON object ({}), not a JSON string (QUIRKS T3: clients reading a string see nothing and run the tool with empty arguments)",
                excerpt(&v.to_string(), 60)
            ));
        }
        other => {
            return fail(format!(
                "`arguments` is {}, expected a JSON string",
                shown(other)
            ));
        }
    };
    if text.trim().is_empty() {
        return fail(format!(
            "`arguments` is {text:?} (QUIRKS T3: a call without arguments must send \"{{}}\"; JSON parsing fails on an empty string)"
        ));
    }
    let parsed: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        // RFC 8259 sets no limit on numbers; serde_json cannot hold one beyond f64. Our
        // parser's limit, not a deviation.
        Err(e) if e.to_string().contains("number out of range") => {
            return vec![CheckResult::warn(check, format!("`arguments` holds a number beyond double precision ({e}); valid JSON, not checked against the schema")).at(at)];
        }
        Err(e) => {
            return fail(format!(
                "`arguments` is not valid JSON ({e}): {:?}",
                excerpt(text, 80)
            ));
        }
    };
    if !parsed.is_object() {
        return fail(format!(
            "`arguments` parses to {}, expected an object",
            type_name(&parsed)
        ));
    }
    let Some(schema) = schema else {
        return Vec::new();
    };
    // No `parameters` means the function takes no arguments.
    let empty = json!({"type": "object", "properties": {}});
    let closed = closed_schema(schema.unwrap_or(&empty));
    match schema_violations(&closed, &parsed) {
        Ok(v) => v
            .into_iter()
            .map(|(path, msg)| {
                CheckResult::fail(
                    check,
                    format!(
                        "arguments do not match the declared parameters at `{}`: {msg}",
                        if path.is_empty() { "/" } else { &path }
                    ),
                )
                .at(at)
            })
            .collect(),
        Err(e) => fail(format!(
            "the declared `parameters` schema does not compile (suite error): {e}"
        )),
    }
}

/// Validate `instance` against `schema` (compiled from the request): `(JSON Pointer, message)`
/// per violation, at most [`MAX_VIOLATIONS`]; `Err` when the schema does not compile.
pub(super) fn schema_violations(
    schema: &Value,
    instance: &Value,
) -> Result<Vec<(String, String)>, String> {
    let validator = jsonschema::validator_for(schema).map_err(|e| excerpt(&e.to_string(), 200))?;
    Ok(validator
        .iter_errors(instance)
        .take(MAX_VIOLATIONS)
        .map(|e| (e.instance_path().to_string(), excerpt(&e.to_string(), 160)))
        .collect())
}

/// The schema with `additionalProperties: false` added to every object schema that lists
/// `properties` and says nothing about extra keys: the issue asks for "no undeclared keys
/// unless allowed", while plain JSON Schema allows them by default. Levels combining schemas
/// (`allOf`/`anyOf`/`oneOf`/`$ref`) are left open: closing them would reject valid values.
fn closed_schema(schema: &Value) -> Value {
    let Value::Object(s) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in s {
        let v = match k.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                match v {
                    Value::Object(m) => Value::Object(
                        m.iter()
                            .map(|(name, sub)| (name.clone(), closed_schema(sub)))
                            .collect(),
                    ),
                    other => other.clone(),
                }
            }
            "items"
            | "additionalProperties"
            | "additionalItems"
            | "contains"
            | "not"
            | "if"
            | "then"
            | "else"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "propertyNames" => match v {
                Value::Array(a) => Value::Array(a.iter().map(closed_schema).collect()),
                other => closed_schema(other),
            },
            "prefixItems" | "allOf" | "anyOf" | "oneOf" => match v {
                Value::Array(a) => Value::Array(a.iter().map(closed_schema).collect()),
                other => other.clone(),
            },
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    let open_about_extras = [
        "additionalProperties",
        "patternProperties",
        "unevaluatedProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "$ref",
    ]
    .iter()
    .any(|k| s.contains_key(*k));
    if s.get("properties").is_some_and(Value::is_object) && !open_about_extras {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None => "missing".into(),
        Some(v) => format!("{} ({})", type_name(v), excerpt(&v.to_string(), 40)),
    }
}

/// The finish_reason rule shared by streamed and non-streamed calls. `None` when it holds.
fn finish_reason_problem(mode: &Mode, has_calls: bool, fr: Option<&str>) -> Option<String> {
    match (has_calls, fr) {
        (_, None) => Some("finish_reason is missing or null".into()),
        (true, Some("tool_calls")) => None,
        // OpenAI itself ends a named tool_choice with `stop` (QUIRKS §0).
        (true, Some("stop")) if matches!(mode, Mode::Named(_)) => None,
        (true, Some("stop")) => Some(format!(
            "finish_reason is \"stop\" although the message carries tool calls; {} expects \"tool_calls\" (QUIRKS T1: agent loops waiting for \"tool_calls\" stop after the first call; caveat, QUIRKS §0: gpt-4o itself is reported to do this sometimes)",
            mode.describe()
        )),
        (true, Some(other)) => Some(format!(
            "finish_reason is {other:?} beside tool calls, expected \"tool_calls\""
        )),
        (false, Some("tool_calls")) => {
            Some("finish_reason is \"tool_calls\" but there are no tool calls".into())
        }
        (false, Some(_)) => None,
    }
}

fn finish_reason(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "tools.finish_reason";
    let cs = match choices(C, i) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let mode = Mode::of(i.request);
    let mut out = Vec::new();
    for (n, choice) in cs.iter().enumerate() {
        let has_calls = tool_calls(C, choice, n).is_ok_and(|l| !l.is_empty());
        let fr = choice.get("finish_reason").and_then(Value::as_str);
        if let Some(p) = finish_reason_problem(&mode, has_calls, fr) {
            out.push(
                CheckResult::fail(C, p)
                    .at(at_choice(n, ".finish_reason"))
                    .actual(fr.unwrap_or("null")),
            );
        }
    }
    if out.is_empty() {
        let frs: Vec<&str> = cs
            .iter()
            .filter_map(|c| c.get("finish_reason").and_then(Value::as_str))
            .collect();
        out.push(CheckResult::pass(
            C,
            format!("finish_reason {} for {}", frs.join(", "), mode.describe()),
        ));
    }
    out
}

/// The names a list of calls invoked.
fn called_names(list: &[Value]) -> Vec<&str> {
    list.iter()
        .filter_map(|c| c.pointer("/function/name").and_then(Value::as_str))
        .collect()
}

fn choice_honoured(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "tools.choice_honoured";
    let cs = match choices(C, i) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let mode = Mode::of(i.request);
    let mut out = Vec::new();
    for (n, choice) in cs.iter().enumerate() {
        let list = match tool_calls(C, choice, n) {
            Ok(l) => l,
            Err(e) => {
                out.push(e);
                continue;
            }
        };
        if let Some(p) = choice_problem(&mode, &called_names(list), list.is_empty(), || {
            choice.pointer("/message/content")
        }) {
            out.push(CheckResult::fail(C, p).at(at_choice(n, ".message")));
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            C,
            format!("{} honoured", mode.describe()),
        ));
    }
    out
}

/// Whether the calls made honour `mode`. Shared with the streamed check.
fn choice_problem<'a>(
    mode: &Mode,
    names: &[&str],
    no_calls: bool,
    content: impl Fn() -> Option<&'a Value>,
) -> Option<String> {
    match mode {
        Mode::None if !no_calls => Some(format!(
            "tool_choice \"none\" was ignored: the model called {} (QUIRKS T4)",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Mode::Required | Mode::Named(_) if no_calls => Some(mode.no_call_reason(content())),
        Mode::Named(want) => names.iter().find(|n| *n != want).map(|other| {
            format!("tool_choice names `{want}` but the model called `{other}` (QUIRKS T4)")
        }),
        _ => None,
    }
}

fn parallel(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "tools.parallel";
    let cs = match choices(C, i) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let allowed = parallel_allowed(i.request);
    let mut out = Vec::new();
    for (n, choice) in cs.iter().enumerate() {
        let list = match tool_calls(C, choice, n) {
            Ok(l) => l,
            Err(e) => {
                out.push(e);
                continue;
            }
        };
        let at = at_choice(n, ".message.tool_calls");
        if !allowed {
            if list.len() > 1 {
                out.push(
                    CheckResult::fail(
                        C,
                        format!(
                            "{} tool calls although `parallel_tool_calls` is false (the parameter was ignored)",
                            list.len()
                        ),
                    )
                    .at(at)
                    .expected("at most 1")
                    .actual(list.len().to_string()),
                );
            }
            continue;
        }
        match list.len() {
            0 => out.push(
                CheckResult::fail(
                    C,
                    Mode::of(i.request).no_call_reason(choice.pointer("/message/content")),
                )
                .at(at_choice(n, ".message")),
            ),
            1 => out.push(
                CheckResult::fail(
                    C,
                    "one tool call: the model made no parallel calls (the case asks for two in one turn)",
                )
                .at(at)
                .expected("at least 2")
                .actual("1"),
            ),
            _ => {
                let mut ids: Vec<&str> = list
                    .iter()
                    .filter_map(|c| c.get("id").and_then(Value::as_str))
                    .collect();
                ids.sort_unstable();
                let before = ids.len();
                ids.dedup();
                if ids.iter().any(|id| id.trim().is_empty()) {
                    out.push(
                        CheckResult::fail(
                            C,
                            "parallel calls carry empty ids (QUIRKS T2: tool results cannot be matched to their calls)",
                        )
                        .at(at),
                    );
                } else if ids.len() != before || before != list.len() {
                    out.push(
                        CheckResult::fail(
                            C,
                            "parallel calls do not carry distinct ids (tool results cannot be matched to calls)",
                        )
                        .at(at),
                    );
                }
            }
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            C,
            if allowed {
                "parallel calls with distinct ids"
            } else {
                "at most one call with parallel_tool_calls: false"
            },
        ));
    }
    out
}

fn final_answer(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "tools.final_answer";
    let cs = match choices(C, i) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    for (n, choice) in cs.iter().enumerate() {
        if let Ok(list) = tool_calls(C, choice, n)
            && !list.is_empty()
        {
            out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "the model called {} again instead of answering from the tool result",
                        called_names(list).join(", ")
                    ),
                )
                .at(at_choice(n, ".message.tool_calls")),
            );
            continue;
        }
        match choice.pointer("/message/content") {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) => out.push(
                CheckResult::fail(C, "the answer after the tool result is empty")
                    .at(at_choice(n, ".message.content")),
            ),
            other => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "message.content is {}, expected the answer as a string",
                        shown(other)
                    ),
                )
                .at(at_choice(n, ".message.content")),
            ),
        }
        match choice.get("finish_reason").and_then(Value::as_str) {
            Some("stop" | "length") => {}
            other => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "finish_reason is {}, expected \"stop\" or \"length\"",
                        other.map_or("missing".into(), |s| format!("{s:?}"))
                    ),
                )
                .at(at_choice(n, ".finish_reason")),
            ),
        }
    }
    if out.is_empty() {
        out.push(CheckResult::pass(
            C,
            "a normal answer after the tool result",
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Streamed tool-call deltas.

/// Reports a deviation once per kind, so a long stream gives one clear reason, not hundreds.
struct Once {
    out: Vec<CheckResult>,
    kinds: Vec<&'static str>,
}

impl Once {
    fn fail(&mut self, kind: &'static str, message: String, at: String) {
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
            self.out
                .push(CheckResult::fail("tools.stream_deltas", message).at(at));
        }
    }
}

/// The streamed calls as the executor's chat-stream model assigned their deltas (one rule for
/// a delta without `index`, shared with the reassembled message, snapshots and the report).
fn stream_deltas(i: &CheckInput<'_>) -> Vec<CheckResult> {
    const C: &str = "tools.stream_deltas";
    let Some(s) = &i.response.stream else {
        return vec![CheckResult::fail(
            C,
            format!(
                "the response is not an event stream (Content-Type {})",
                i.response.content_type().unwrap_or("missing")
            ),
        )];
    };
    let mode = Mode::of(i.request);
    let tools = declared(i.request);
    let mut once = Once {
        out: Vec::new(),
        kinds: Vec::new(),
    };
    // The shape of every delta, in stream order: an integer index on each; id, type and name
    // on the first delta of a call, on no later one.
    for e in s.entries() {
        let Some(items) = e.tool_calls().filter(|t| !t.is_null()) else {
            // `"tool_calls": null` is how several servers spell "none in this delta".
            continue;
        };
        if items.kind() != JsonType::Array {
            once.fail(
                "not-array",
                format!(
                    "`delta.tool_calls` is {}, expected an array",
                    items.type_name()
                ),
                format!(
                    "event #{} $.choices[{}].delta.tool_calls",
                    e.event().n(),
                    e.position()
                ),
            );
            continue;
        }
        for d in e.tool_deltas() {
            delta_shape(&mut once, &d);
        }
    }
    let mut calls: Vec<_> = s.tool_calls().collect();
    calls.sort_by_key(|c| (c.choice(), c.index()));
    let mut out = once.out;
    if calls.is_empty() && mode != Mode::None {
        // The text of the first choice that sent any.
        let text = s.choices().find_map(|c| text_head(&c)).map(Value::String);
        out.push(CheckResult::fail(C, mode.no_call_reason(text.as_ref())).at("stream"));
    }
    for call in &calls {
        let index = call.index();
        let first = call.first();
        let at = first.at();
        match first.id().filter(|v| !v.is_null()) {
            None => out.push(
                CheckResult::fail(
                    C,
                    format!(
                        "streamed tool call {index} never carries an `id` (QUIRKS S2: the id is missing in the stream, so the tool result cannot reference the call)"
                    ),
                )
                .at(format!("{at}.id")),
            ),
            Some(id) => match id.as_str() {
                Some(s) if s.trim().is_empty() => out.push(
                    CheckResult::fail(
                        C,
                        "streamed tool call `id` is an empty string (QUIRKS T2: tool results are matched by id)",
                    )
                    .at(format!("{at}.id")),
                ),
                Some(_) => {}
                None => out.push(
                    CheckResult::fail(
                        C,
                        format!("streamed tool call `id` is {id}, expected a string"),
                    )
                    .at(format!("{at}.id")),
                ),
            },
        }
        let name = first.name().and_then(|n| n.as_str());
        let schema = match &name {
            Some(name) => match tools.get(name.as_ref()) {
                Some(s) => Some(s.as_ref()),
                None => {
                    out.push(undeclared(C, name, &tools).at(format!("{at}.function.name")));
                    None
                }
            },
            None => None,
        };
        // The first fragment that is not a string (an object: T3) is what is judged.
        if let Some(bad) = call.deltas().find(|d| {
            d.arguments()
                .is_some_and(|a| !a.is_null() && a.as_str().is_none())
        }) {
            let v = bad.arguments().map(|a| a.value());
            out.extend(arguments(
                C,
                v.as_ref(),
                None,
                &format!("{}.function.arguments", bad.at()),
            ));
            continue;
        }
        for r in arguments(
            C,
            Some(&Value::String(call.arguments())),
            schema,
            &format!("{at}.function.arguments"),
        ) {
            out.push(CheckResult {
                message: format!(
                    "tool call {index}: concatenated argument fragments: {}",
                    r.message
                ),
                ..r
            });
        }
    }
    // Per choice that finished or called: finish_reason and tool_choice, as for non-streamed
    // responses.
    for choice in s.choices() {
        let ci = choice.index();
        let names: Vec<String> = choice
            .tool_calls()
            .filter_map(|c| {
                c.first()
                    .name()
                    .and_then(|n| n.as_str())
                    .map(|n| n.into_owned())
            })
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let has_calls = choice.tool_calls().next().is_some();
        let finish = choice
            .entries()
            .filter_map(|e| e.finish_reason().and_then(|f| f.as_str()))
            .last();
        if !has_calls && finish.is_none() {
            continue;
        }
        let text = Value::String(text_head(&choice).unwrap_or_default());
        if has_calls && let Some(p) = choice_problem(&mode, &names, false, || Some(&text)) {
            out.push(CheckResult::fail(C, p).at(format!("choice {ci}")));
        }
        if let Some(p) = finish_reason_problem(&mode, has_calls, finish.as_deref()) {
            out.push(CheckResult::fail(C, p).at(format!("choice {ci}: finish_reason")));
        }
    }
    if no_failures(&out) {
        out.push(CheckResult::pass(
            C,
            format!("{} streamed tool call(s), deltas well-formed", calls.len()),
        ));
    }
    out
}

/// The start of a choice's streamed text (`None` when no content fragment was a string): a
/// reason quotes a few dozen characters, so megabytes of content are not copied for it.
fn text_head(choice: &Choice<'_>) -> Option<String> {
    const HEAD: usize = 4096;
    let mut out: Option<String> = None;
    for piece in choice
        .entries()
        .filter_map(|e| e.content().and_then(|x| x.as_str()))
    {
        let text = out.get_or_insert_with(String::new);
        let mut end = HEAD.saturating_sub(text.len()).min(piece.len());
        while !piece.is_char_boundary(end) {
            end -= 1;
        }
        text.push_str(&piece[..end]);
    }
    out
}

/// One delta's shape: its index, and id/type/name on its call's first delta only.
fn delta_shape(once: &mut Once, d: &ToolDelta<'_>) {
    let at = d.at();
    match d.index() {
        Some(x) if x.as_u64().is_some() => {}
        None => once.fail(
            "index",
            "a tool-call delta has no `index` (QUIRKS S1: openai-python raises TypeError joining fragments; openai-node drops every call; Go clients merge calls)".into(),
            format!("{at}.index"),
        ),
        Some(x) => once.fail(
            "index",
            format!(
                "a tool-call delta's `index` is {}, expected an integer",
                shown_json(x)
            ),
            format!("{at}.index"),
        ),
    }
    let index = d.call().index();
    if d.is_first() {
        match d.kind().filter(|t| !t.is_null()) {
            Some(t) if t.as_str().as_deref() == Some("function") => {}
            None => once.fail(
                "type",
                format!(
                    "the first delta of tool call {index} has no `type` (QUIRKS S2; OpenAI sends \"function\" there)"
                ),
                format!("{at}.type"),
            ),
            Some(other) => once.fail(
                "type",
                format!("tool call `type` is {other}, expected \"function\""),
                format!("{at}.type"),
            ),
        }
        if d.name().and_then(|n| n.as_str()).is_none() {
            once.fail(
                "name",
                format!("the first delta of tool call {index} has no string `function.name`"),
                format!("{at}.function.name"),
            );
        }
        return;
    }
    let present = |v: Option<Json<'_>>| v.is_some_and(|v| !v.is_null());
    for (kind, field, v, path) in [
        ("repeat-id", "id", d.id(), ".id"),
        ("repeat-type", "type", d.kind(), ".type"),
        ("repeat-name", "function.name", d.name(), ".function.name"),
    ] {
        if present(v) {
            once.fail(
                kind,
                format!(
                    "`{field}` is repeated on a later delta of tool call {index} (QUIRKS S2: OpenAI sends it on the first delta only; clients concatenate names or open a new call per id)"
                ),
                format!("{at}{path}"),
            );
        }
    }
}

fn shown_json(v: Json<'_>) -> String {
    format!("{} ({})", v.type_name(), excerpt(v.text(), 40))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_schema_rejects_undeclared_keys_unless_allowed() {
        let s = json!({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}});
        let c = closed_schema(&s);
        assert_eq!(c["additionalProperties"], json!(false));
        assert_eq!(c["properties"]["a"]["additionalProperties"], json!(false));
        let open = json!({"type": "object", "properties": {}, "additionalProperties": true});
        assert_eq!(closed_schema(&open), open);
        let v = schema_violations(&c, &json!({"a": {"b": "x", "z": 1}})).unwrap();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].0, "/a");
    }

    #[test]
    fn arguments_name_t3() {
        let r = arguments("t", Some(&json!({"a": 1})), Some(None), "$");
        assert!(r[0].message.contains("T3"), "{r:?}");
        let r = arguments("t", Some(&json!("")), Some(None), "$");
        assert!(r[0].message.contains("T3"), "{r:?}");
        assert!(arguments("t", Some(&json!("{}")), Some(None), "$").is_empty());
        let r = arguments("t", Some(&json!("{\"x\":1}")), Some(None), "$");
        assert_eq!(r.len(), 1, "{r:?}");
    }

    #[test]
    fn finish_reason_rule() {
        let named = Mode::Named("f".into());
        assert!(finish_reason_problem(&named, true, Some("stop")).is_none());
        assert!(
            finish_reason_problem(&Mode::Auto, true, Some("stop"))
                .unwrap()
                .contains("T1")
        );
        assert!(finish_reason_problem(&Mode::Required, true, Some("tool_calls")).is_none());
        assert!(finish_reason_problem(&Mode::None, false, Some("tool_calls")).is_some());
    }
}
