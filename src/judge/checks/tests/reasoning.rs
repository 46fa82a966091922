//! `reasoning.*` and `extensions.cached_content`.

use serde_json::json;

use super::kit::{Row, ask, completion_with, json, plus, said, table};

fn usage(p: u64, c: u64, t: u64, r: Option<u64>) -> serde_json::Value {
    let mut u = json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": t});
    if let Some(r) = r {
        u["completion_tokens_details"] = json!({"reasoning_tokens": r});
    }
    u
}

#[test]
fn reasoning_usage_and_effort() {
    let effort = |e: &str| plus(ask("think"), json!({"reasoning_effort": e}));
    let budget = |b: i64| {
        plus(
            ask("think"),
            json!({"google": {"thinking_config": {"thinking_budget": b}}}),
        )
    };
    let answer = |u| json(200, completion_with(said("4"), "stop", u));
    let rows = vec![
        Row::new(
            "usage: reasoning inside completion",
            &["reasoning.usage"],
            effort("high"),
            answer(usage(5, 30, 35, Some(20))),
        ),
        Row::new(
            "usage: reasoning on top of completion (U1)",
            &["reasoning.usage"],
            effort("high"),
            answer(usage(5, 10, 35, Some(20))),
        ),
        Row::new(
            "usage: does not add up",
            &["reasoning.usage"],
            effort("high"),
            answer(usage(5, 10, 99, None)),
        ),
        Row::new(
            "usage: reasoning_tokens a string",
            &["reasoning.usage"],
            effort("high"),
            answer(
                json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "completion_tokens_details": {"reasoning_tokens": "2"}}),
            ),
        ),
        Row::new(
            "usage: missing",
            &["reasoning.usage"],
            effort("high"),
            json(200, {
                let mut b = completion_with(said("4"), "stop", json!(null));
                b.as_object_mut().unwrap().remove("usage");
                b
            }),
        ),
        Row::new(
            "effort none: no reasoning",
            &["reasoning.effort_honoured"],
            effort("none"),
            answer(usage(5, 3, 8, Some(0))),
        ),
        Row::new(
            "effort none: reasoning spent",
            &["reasoning.effort_honoured"],
            effort("none"),
            answer(usage(5, 30, 35, Some(20))),
        ),
        Row::new(
            "effort high: reasoning spent",
            &["reasoning.effort_honoured"],
            effort("high"),
            answer(usage(5, 30, 35, Some(20))),
        ),
        Row::new(
            "effort high: nothing spent",
            &["reasoning.effort_honoured"],
            effort("high"),
            answer(usage(5, 3, 8, Some(0))),
        ),
        Row::new(
            "effort high: not reported",
            &["reasoning.effort_honoured"],
            effort("high"),
            answer(usage(5, 3, 8, None)),
        ),
        Row::new(
            "budget 0: reasoning spent",
            &["reasoning.effort_honoured"],
            budget(0),
            answer(usage(5, 30, 35, Some(20))),
        ),
        Row::new(
            "budget 10: overflowed",
            &["reasoning.effort_honoured"],
            budget(10),
            answer(usage(5, 30, 35, Some(20))),
        ),
        Row::new(
            "no control at all (suite error)",
            &["reasoning.effort_honoured"],
            ask("hi"),
            answer(usage(5, 3, 8, None)),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn reasoning_thoughts() {
    let include = plus(
        ask("think"),
        json!({"google": {"thinking_config": {"include_thoughts": true}}}),
    );
    let msg = |extra: serde_json::Value| {
        let mut m = said("4");
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json(200, completion_with(m, "stop", usage(5, 30, 35, Some(20))))
    };
    let rows = vec![
        Row::new(
            "no thoughts (OpenAI)",
            &["reasoning.thoughts"],
            ask("think"),
            msg(json!({})),
        ),
        Row::new(
            "reasoning_content (DeepSeek)",
            &["reasoning.thoughts"],
            ask("think"),
            msg(json!({"reasoning_content": "hmm"})),
        ),
        Row::new(
            "reasoning and reasoning_details",
            &["reasoning.thoughts"],
            ask("think"),
            msg(
                json!({"reasoning": "hmm", "reasoning_details": [{"type": "reasoning.text", "text": "hmm"}]}),
            ),
        ),
        Row::new(
            "reasoning_details as a string",
            &["reasoning.thoughts"],
            ask("think"),
            msg(json!({"reasoning_details": "hmm"})),
        ),
        Row::new(
            "an inline <think> block",
            &["reasoning.thoughts"],
            ask("think"),
            msg(json!({"content": "<think>2+2</think>4"})),
        ),
        Row::new(
            "an inline <thought> block, include_thoughts asked",
            &["reasoning.thoughts"],
            include.clone(),
            msg(json!({"content": "<thought>2+2</thought>4"})),
        ),
        Row::new(
            "include_thoughts asked, reasoning spent, nothing visible",
            &["reasoning.thoughts"],
            include,
            msg(json!({})),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}

#[test]
fn cached_content() {
    let cached = plus(
        ask("hi"),
        json!({"google": {"cached_content": "cachedContents/1"}}),
    );
    let with_cached = |c: serde_json::Value| {
        json(
            200,
            completion_with(
                said("hi"),
                "stop",
                json!({"prompt_tokens": 50, "completion_tokens": 3, "total_tokens": 53, "prompt_tokens_details": {"cached_tokens": c}}),
            ),
        )
    };
    let rows = vec![
        Row::new(
            "cache used",
            &["extensions.cached_content"],
            cached.clone(),
            with_cached(json!(40)),
        ),
        Row::new(
            "cache not used",
            &["extensions.cached_content"],
            cached.clone(),
            with_cached(json!(0)),
        ),
        Row::new(
            "more cached than prompt (U3)",
            &["extensions.cached_content"],
            cached.clone(),
            with_cached(json!(60)),
        ),
        Row::new(
            "not reported",
            &["extensions.cached_content"],
            cached.clone(),
            with_cached(json!(null)),
        ),
        Row::new(
            "a string",
            &["extensions.cached_content"],
            cached,
            with_cached(json!("40")),
        ),
        Row::new(
            "the request sets no cache (suite error)",
            &["extensions.cached_content"],
            ask("hi"),
            with_cached(json!(40)),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}
