//! `tools.*` against scripted responses: each check passes on the conformant shape and fails,
//! with a reason naming the deviation (QUIRKS T1–T4, S1, S2), on the deviating one; plus the
//! shipped suites against the built-in reference endpoint.

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// A chat.completion whose message carries `calls` (each `(id, name, arguments)`).
fn tool_completion(calls: &[(&str, &str, Value)], finish: &str) -> Value {
    let mut body = chat_completion("");
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}})
        })
        .collect();
    body["choices"][0]["message"] =
        json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": calls});
    body["choices"][0]["finish_reason"] = json!(finish);
    body
}

fn weather(id: &str) -> (&str, &'static str, Value) {
    (id, "get_weather", json!("{\"city\":\"Paris\"}"))
}

async fn case_against(case: &str, template: ResponseTemplate) -> (String, String) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(template)
        .mount(&server)
        .await;
    let out = run_case(&format!("{}/v1", server.uri()), case, &["chat=m"]).await;
    out.outcome("adhoc", case)
}

async fn tools_case(case: &str, body: Value) -> (String, String) {
    case_against(case, ResponseTemplate::new(200).set_body_json(body)).await
}

#[tokio::test]
async fn calls_pass_on_conformant_and_name_empty_id_t2() {
    let ok = tool_completion(&[weather("call_abc")], "tool_calls");
    assert_outcome(tools_case("tools/auto", ok.clone()).await, "pass", "");
    assert_outcome(tools_case("tools/required", ok).await, "pass", "");
    assert_outcome(
        tools_case(
            "tools/required",
            tool_completion(&[weather("")], "tool_calls"),
        )
        .await,
        "fail",
        "T2",
    );
}

#[tokio::test]
async fn calls_fail_on_arguments_object_or_empty_string_t3() {
    let obj = tool_completion(
        &[("call_1", "get_weather", json!({"city": "Paris"}))],
        "tool_calls",
    );
    assert_outcome(
        tools_case("tools/required", obj).await,
        "fail",
        "`arguments` is a JSON object",
    );
    // A parameterless tool must get "{}", not "".
    let ok = tool_completion(&[("call_1", "roll_die", json!("{}"))], "stop");
    assert_outcome(tools_case("tools/parameterless", ok).await, "pass", "");
    let empty = tool_completion(&[("call_1", "roll_die", json!(""))], "stop");
    assert_outcome(
        tools_case("tools/parameterless", empty).await,
        "fail",
        "QUIRKS T3",
    );
}

#[tokio::test]
async fn calls_validate_arguments_against_declared_parameters() {
    let missing = tool_completion(
        &[("call_1", "get_weather", json!("{\"unit\":\"celsius\"}"))],
        "tool_calls",
    );
    assert_outcome(
        tools_case("tools/required", missing).await,
        "fail",
        "\"city\" is a required property",
    );
    let bad_enum = tool_completion(
        &[(
            "call_1",
            "get_weather",
            json!("{\"city\":\"Paris\",\"unit\":\"kelvin\"}"),
        )],
        "tool_calls",
    );
    assert_outcome(
        tools_case("tools/required", bad_enum).await,
        "fail",
        "do not match the declared parameters at `/unit`",
    );
    let extra = tool_completion(
        &[(
            "call_1",
            "get_weather",
            json!("{\"city\":\"Paris\",\"country\":\"FR\"}"),
        )],
        "tool_calls",
    );
    assert_outcome(
        tools_case("tools/required", extra).await,
        "fail",
        "'country' was unexpected",
    );
    let not_json = tool_completion(
        &[("call_1", "get_weather", json!("{city: Paris"))],
        "tool_calls",
    );
    assert_outcome(
        tools_case("tools/required", not_json).await,
        "fail",
        "not valid JSON",
    );
    let undeclared = tool_completion(&[("call_1", "get_forecast", json!("{}"))], "tool_calls");
    assert_outcome(
        tools_case("tools/required", undeclared).await,
        "fail",
        "calls `get_forecast`, which the request did not declare",
    );
}

#[tokio::test]
async fn text_instead_of_a_call_is_its_own_reason() {
    // auto: the model may answer in text, but the case could not evidence a call.
    assert_outcome(
        tools_case("tools/auto", chat_completion("It is sunny in Paris.")).await,
        "fail",
        "no tool call: the model answered with text",
    );
}

#[tokio::test]
async fn finish_reason_stop_with_auto_is_t1_but_fine_for_named() {
    let stop = tool_completion(&[weather("call_1")], "stop");
    let got = tools_case("tools/auto", stop.clone()).await;
    assert_outcome(got.clone(), "fail", "QUIRKS T1");
    assert!(
        got.1.contains("gpt-4o"),
        "the §0 caveat is shown: {}",
        got.1
    );
    assert_outcome(tools_case("tools/named", stop).await, "pass", "");
    assert_outcome(
        tools_case(
            "tools/named",
            tool_completion(&[weather("call_1")], "tool_calls"),
        )
        .await,
        "pass",
        "",
    );
}

#[tokio::test]
async fn tool_choice_ignored_is_t4() {
    let text = chat_completion("Oslo is usually cold.");
    assert_outcome(
        tools_case("tools/required", text.clone()).await,
        "fail",
        "tool_choice \"required\" was not enforced, QUIRKS T4",
    );
    assert_outcome(
        tools_case("tools/named", text).await,
        "fail",
        "tool_choice naming `get_weather` was not enforced",
    );
    let other = tool_completion(
        &[(
            "call_1",
            "get_time",
            json!("{\"timezone\":\"Europe/Rome\"}"),
        )],
        "stop",
    );
    assert_outcome(
        tools_case("tools/named", other).await,
        "fail",
        "names `get_weather` but the model called `get_time`",
    );
    assert_outcome(
        tools_case(
            "tools/none",
            chat_completion("I cannot check live weather."),
        )
        .await,
        "pass",
        "",
    );
    assert_outcome(
        tools_case(
            "tools/none",
            tool_completion(&[weather("call_1")], "tool_calls"),
        )
        .await,
        "fail",
        "tool_choice \"none\" was ignored",
    );
}

#[tokio::test]
async fn parallel_calls_and_parallel_off() {
    let time = (
        "call_2",
        "get_time",
        json!("{\"timezone\":\"Europe/Paris\"}"),
    );
    let two = tool_completion(&[weather("call_1"), time.clone()], "tool_calls");
    assert_outcome(tools_case("tools/parallel", two.clone()).await, "pass", "");
    assert_outcome(
        tools_case(
            "tools/parallel",
            tool_completion(&[weather("call_1")], "tool_calls"),
        )
        .await,
        "fail",
        "no parallel calls",
    );
    let same_id = tool_completion(
        &[weather("call_1"), ("call_1", time.1, time.2.clone())],
        "tool_calls",
    );
    assert_outcome(
        tools_case("tools/parallel", same_id).await,
        "fail",
        "distinct ids",
    );
    assert_outcome(
        tools_case("tools/parallel-off", two).await,
        "fail",
        "`parallel_tool_calls` is false",
    );
    assert_outcome(
        tools_case(
            "tools/parallel-off",
            tool_completion(&[weather("call_1")], "tool_calls"),
        )
        .await,
        "pass",
        "",
    );
    // Gemini's refusal of parallel calls (QUIRKS T5) is a clear refusal: unsupported.
    let refused = json!([{"error": {"code": 400, "message": "Parallel tool calls are not supported.", "status": "INVALID_ARGUMENT"}}]);
    assert_outcome(
        case_against(
            "tools/parallel-off",
            ResponseTemplate::new(400).set_body_json(refused),
        )
        .await,
        "unsupported",
        "Parallel tool calls are not supported",
    );
}

/// The round trip: step 1 gets a call, step 2 (which carries the tool result) gets `answer`.
async fn round_trip(answer: Value) -> (String, String) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("\"tool_call_id\":\"call_rt1\""))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(tool_completion(&[weather("call_rt1")], "stop")),
        )
        .with_priority(5)
        .mount(&server)
        .await;
    let out = run_case(
        &format!("{}/v1", server.uri()),
        "tools/round-trip",
        &["chat=m"],
    )
    .await;
    out.outcome("adhoc", "tools/round-trip")
}

#[tokio::test]
async fn round_trip_needs_a_final_answer() {
    assert_outcome(
        round_trip(chat_completion("It is 18 °C and sunny in Paris.")).await,
        "pass",
        "",
    );
    assert_outcome(
        round_trip(tool_completion(&[weather("call_rt2")], "tool_calls")).await,
        "fail",
        "called get_weather again instead of answering",
    );
    let mut cut = chat_completion("It is");
    cut["choices"][0]["finish_reason"] = json!("tool_calls");
    assert_outcome(
        round_trip(cut).await,
        "fail",
        "expected \"stop\" or \"length\"",
    );
}

// ---------------------------------------------------------------------------------------------
// Streamed deltas.

fn chunk(delta: Value, finish: Value) -> Value {
    json!({
        "id": "chatcmpl-s1", "object": "chat.completion.chunk", "created": 1_735_689_600,
        "model": "m", "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    })
}

fn sse(chunks: &[Value]) -> String {
    let mut s: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s
}

/// OpenAI's shape: opener, a header delta per call, argument fragments, terminal chunk.
fn conformant_stream(finish: &str) -> Vec<Value> {
    vec![
        chunk(
            json!({"role": "assistant", "content": null, "refusal": null}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_s1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!(finish)),
    ]
}

async fn stream_case(case: &str, chunks: &[Value]) -> (String, String) {
    case_against(
        case,
        ResponseTemplate::new(200).set_body_raw(sse(chunks), "text/event-stream"),
    )
    .await
}

#[tokio::test]
async fn stream_deltas_pass_on_openai_shape() {
    assert_outcome(
        stream_case("tools/stream-named", &conformant_stream("stop")).await,
        "pass",
        "",
    );
}

#[tokio::test]
async fn stream_delta_without_index_is_s1() {
    let mut chunks = conformant_stream("stop");
    for c in &mut chunks[1..4] {
        c["choices"][0]["delta"]["tool_calls"][0]
            .as_object_mut()
            .unwrap()
            .remove("index");
    }
    assert_outcome(
        stream_case("tools/stream-named", &chunks).await,
        "fail",
        "QUIRKS S1",
    );
}

#[tokio::test]
async fn stream_name_repeated_or_id_missing_is_s2() {
    let mut repeated = conformant_stream("stop");
    for c in &mut repeated[2..4] {
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] = json!("get_weather");
    }
    assert_outcome(
        stream_case("tools/stream-named", &repeated).await,
        "fail",
        "`function.name` is repeated on a later delta",
    );
    let mut no_id = conformant_stream("stop");
    no_id[1]["choices"][0]["delta"]["tool_calls"][0]
        .as_object_mut()
        .unwrap()
        .remove("id");
    assert_outcome(
        stream_case("tools/stream-named", &no_id).await,
        "fail",
        "never carries an `id` (QUIRKS S2",
    );
}

#[tokio::test]
async fn stream_fragments_must_join_to_valid_arguments() {
    let mut broken = conformant_stream("stop");
    broken[3]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] = json!("\"Par");
    assert_outcome(
        stream_case("tools/stream-named", &broken).await,
        "fail",
        "concatenated argument fragments: `arguments` is not valid JSON",
    );
}

#[tokio::test]
async fn stream_text_or_stop_with_required_fail() {
    // stream-parallel uses tool_choice required: `stop` beside calls is T1 there.
    let mut two = conformant_stream("tool_calls");
    two.insert(
        4,
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_s2", "type": "function", "function": {"name": "get_time", "arguments": "{\"timezone\":\"UTC\"}"}}]}),
            Value::Null,
        ),
    );
    assert_outcome(stream_case("tools/stream-parallel", &two).await, "pass", "");
    let last = two.len() - 1;
    two[last]["choices"][0]["finish_reason"] = json!("stop");
    assert_outcome(
        stream_case("tools/stream-parallel", &two).await,
        "fail",
        "QUIRKS T1",
    );
    let text = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Sunny."}), Value::Null),
        chunk(json!({}), json!("stop")),
    ];
    assert_outcome(
        stream_case("tools/stream-named", &text).await,
        "fail",
        "no tool call: the model answered with text \"Sunny.\"",
    );
}

#[tokio::test]
async fn shipped_suites_pass_on_the_reference_endpoint() {
    let out = run_cli(
        &["run", "--suite", "tools", "--suite", "structured_output"],
        &[],
    )
    .await;
    let report = out.report();
    let results = report["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        assert_eq!(
            r["outcome"], "pass",
            "{}/{}: {}",
            r["suite"], r["case"], r["reason"]
        );
    }
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[tokio::test]
async fn gemini_compat_emulation_is_caught() {
    let out = run_cli(
        &[
            "run",
            "--suite",
            "tools",
            "--target",
            "reference:gemini-compat",
        ],
        &[],
    )
    .await;
    let t = "reference:gemini-compat";
    assert_outcome(out.outcome(t, "tools/auto"), "fail", "T1");
    assert_outcome(out.outcome(t, "tools/named"), "fail", "T2");
    assert_outcome(out.outcome(t, "tools/stream-named"), "fail", "S1");
    assert_outcome(out.outcome(t, "tools/none"), "pass", "");
}
