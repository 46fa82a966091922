//! `models.*`.

use serde_json::json;

use super::kit::{Row, json, table};

fn list(ids: &[&str]) -> crate::execute::exchange::Response {
    json(
        200,
        json!({"object": "list", "data": ids.iter().map(|i| json!({"id": i, "object": "model", "created": 1_700_000_000, "owned_by": "o"})).collect::<Vec<_>>()}),
    )
}

#[test]
fn models() {
    let all = &["models.configured_ids_listed", "models.unique_ids"];
    let rows = vec![
        Row::new(
            "the configured model listed",
            all,
            json!(null),
            list(&["m", "n"]),
        )
        .path("/models"),
        Row::new(
            "listed with a prefix",
            all,
            json!(null),
            list(&["models/m"]),
        )
        .path("/models"),
        Row::new(
            "not listed, a duplicate",
            all,
            json!(null),
            list(&["n", "n"]),
        )
        .path("/models"),
        Row::new("an empty id", all, json!(null), list(&["m", ""])).path("/models"),
        Row::new(
            "no data",
            all,
            json!(null),
            json(200, json!({"object": "list"})),
        )
        .path("/models"),
        Row::new(
            "retrieve: the model asked for",
            &["models.retrieve_matches"],
            json!(null),
            json(200, json!({"id": "m", "object": "model"})),
        )
        .path("/models/m"),
        Row::new(
            "retrieve: another model",
            &["models.retrieve_matches"],
            json!(null),
            json(200, json!({"id": "models/m", "object": "model"})),
        )
        .path("/models/m"),
    ];
    insta::assert_snapshot!(table(&rows));
}
