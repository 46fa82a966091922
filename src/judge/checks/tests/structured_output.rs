//! `structured_output.*`.

use serde_json::json;

use super::kit::{Row, ask, completion, json, plus, said, table};

#[test]
fn structured_output() {
    let schema = plus(
        ask("a person"),
        json!({"response_format": {"type": "json_schema", "json_schema": {"name": "p", "strict": true, "schema": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"], "additionalProperties": false}}}}),
    );
    let object = plus(
        ask("a person"),
        json!({"response_format": {"type": "json_object"}}),
    );
    let c = |content: serde_json::Value| {
        json(
            200,
            completion(json!({"role": "assistant", "content": content})),
        )
    };
    let js = &["structured_output.json_schema"];
    let jo = &["structured_output.json_object"];
    let rows = vec![
        Row::new(
            "schema: valid",
            js,
            schema.clone(),
            c(json!("{\"name\":\"Ada\",\"age\":36}")),
        ),
        Row::new(
            "schema: prose (O2)",
            js,
            schema.clone(),
            json(200, completion(said("Ada is 36."))),
        ),
        Row::new(
            "schema: fenced",
            js,
            schema.clone(),
            c(json!("```json\n{\"name\":\"Ada\",\"age\":36}\n```")),
        ),
        Row::new(
            "schema: a parsed object (O4)",
            js,
            schema.clone(),
            c(json!({"name": "Ada", "age": 36})),
        ),
        Row::new(
            "schema: truncated",
            js,
            schema.clone(),
            c(json!("{\"name\":\"Ada\",")),
        ),
        Row::new(
            "schema: violations",
            js,
            schema.clone(),
            c(json!("{\"name\":1,\"extra\":true}")),
        ),
        Row::new("object: valid", jo, object.clone(), c(json!("{\"a\":1}"))),
        Row::new("object: an array", jo, object.clone(), c(json!("[1]"))),
        Row::new(
            "object: prose",
            jo,
            object,
            json(200, completion(said("sure"))),
        ),
    ];
    insta::assert_snapshot!(table(&rows));
}
