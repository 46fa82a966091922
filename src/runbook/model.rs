//! The runbook model: `runbook.json` and the one input of the Markdown and terminal renderers.
//! Built from the redacted run report, then redacted once more as a whole (the rollback block
//! and configuration come from the targets, not from the report).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::judge::Outcome;
use crate::report::model::Difference;
use crate::report::model::Tool;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    pub schema_version: u32,
    pub tool: Tool,
    pub started_at: String,
    pub duration_ms: u64,
    /// Interrupted: the sections hold only the cases that finished.
    #[serde(default)]
    pub partial: bool,
    /// `--uses` as given, or `all areas`.
    pub uses: String,
    pub from: SideConfig,
    pub to: SideConfig,
    pub configuration: ConfigurationSection,
    pub chat: ChatSection,
    pub usage: UsageSection,
    pub bad_model: BadModelSection,
    pub areas: Vec<AreaSection>,
    pub latency: LatencySection,
    /// Section 7, the decision (`verdict` in runbook.json).
    #[serde(rename = "verdict")]
    pub decision: DecisionSection,
    pub rollback: Rollback,
    /// What llm-parity cannot verify: printed unticked.
    pub manual_checks: Vec<String>,
}

/// A section's status (`verdict` in runbook.json and runbook.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionStatus {
    Pass,
    /// Measured, never gating (latency).
    Info,
    /// Nothing could be run (no case, or skipped on both sides).
    NotRun,
    /// Deviations the app does not depend on, or warnings.
    Caveat,
    /// A used feature fails or regresses on NEW.
    NoGo,
}

impl SectionStatus {
    pub fn label(self) -> &'static str {
        match self {
            SectionStatus::Pass => "✓ pass",
            SectionStatus::Info => "ℹ info",
            SectionStatus::NotRun => "· not run",
            SectionStatus::Caveat => "⚠ caveat",
            SectionStatus::NoGo => "✗ no-go",
        }
    }
}

/// The runbook's decision (and exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Go,
    GoWithCaveats,
    NoGo,
}

impl DecisionSection {
    /// The sections (areas, or core sections such as `plain_chat`) with a blocker, in first-seen
    /// order.
    pub fn blocking_steps(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for b in &self.blockers {
            if !out.contains(&b.section.as_str()) {
                out.push(&b.section);
            }
        }
        out
    }
}

impl Decision {
    pub fn label(self) -> &'static str {
        match self {
            Decision::Go => "GO",
            Decision::GoWithCaveats => "GO WITH CAVEATS",
            Decision::NoGo => "NO-GO",
        }
    }
    pub fn exit_code(self) -> u8 {
        match self {
            Decision::Go => crate::exit::OK,
            Decision::GoWithCaveats => crate::exit::CAVEATS,
            Decision::NoGo => crate::exit::FAILED,
        }
    }
}

/// One side of the migration as configured (never a key value).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SideConfig {
    pub target: String,
    pub base_url: String,
    /// How the key is supplied: `env` (a variable), `command`, `built-in` or `none`.
    pub auth: String,
    /// The variable holding the key (its value is never read into any output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// A named credential header instead of `Authorization: Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    /// The token command, when the key is short-lived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_command: Option<String>,
    /// Every configured role → model id.
    pub models: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Price>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationSection {
    #[serde(rename = "verdict")]
    pub status: SectionStatus,
    /// Roles the used cases need, with each side's model id (`null`: none configured).
    pub roles: Vec<RoleModels>,
    /// Ids listed by NEW's `GET /models` (empty when it could not be read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "new_catalog")]
    pub new_catalogue: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleModels {
    pub role: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A case's result on one side, briefly.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaseBrief {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChatSection {
    #[serde(rename = "verdict")]
    pub status: SectionStatus,
    pub old: Option<CaseBrief>,
    pub new: Option<CaseBrief>,
    /// The JSON paths an app reads, with their type on each side.
    pub shape: Vec<ShapePath>,
    /// Paths whose type differs, one line each.
    pub differences: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShapePath {
    pub path: String,
    /// `string`, `integer`, `number`, `boolean`, `null`, `object`, `array` or `absent`.
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsageSection {
    #[serde(rename = "verdict")]
    pub status: SectionStatus,
    /// `chat/usage` on each side (usage present, non-negative, total = prompt + completion).
    pub old_case: Option<CaseBrief>,
    pub new_case: Option<CaseBrief>,
    pub old: UsageTotals,
    pub new: UsageTotals,
    /// NEW's estimated cost over OLD's, when both have pricing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Token usage summed over the runbook's successful responses on one side.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsageTotals {
    /// 2xx responses of calls documented to report usage (chat completions, embeddings,
    /// streams with `include_usage`).
    pub responses: usize,
    /// 2xx responses that reported `usage`.
    pub with_usage: usize,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// From the target's `pricing`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BadModelSection {
    #[serde(rename = "verdict")]
    pub status: SectionStatus,
    pub old: Option<ErrorShape>,
    pub new: Option<ErrorShape>,
}

/// A bad-model answer as received, and how an OpenAI SDK client would surface it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ErrorShape {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub status: Option<u16>,
    /// The body verbatim (redacted): JSON when it parsed, otherwise text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The body is an object with a string `error.message`.
    pub sdk_message_readable: bool,
    /// What the SDK raises and with which message.
    pub sdk_view: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AreaSection {
    pub area: String,
    #[serde(rename = "verdict")]
    pub status: SectionStatus,
    /// The parity view: each used feature's outcome on both sides.
    pub features: Vec<FeatureParity>,
    /// Cases whose outcome differs, with their response-shape diffs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureParity {
    pub feature: String,
    pub old: Option<Outcome>,
    pub new: Option<Outcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LatencySection {
    #[serde(rename = "verdict")]
    pub status: SectionStatus,
    pub metrics: Vec<LatencyCompare>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LatencyCompare {
    /// `ttft` or `total`.
    pub metric: String,
    pub old_p50_ms: Option<f64>,
    pub new_p50_ms: Option<f64>,
    /// NEW − OLD.
    pub delta_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DecisionSection {
    pub decision: Decision,
    /// Used features that fail or regress on NEW.
    pub blockers: Vec<Item>,
    /// Deviations the app does not depend on, and warnings, each with its workaround.
    pub caveats: Vec<Item>,
    /// Used cases that ran on neither side (skipped), for the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<Item>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// The section the item comes from (`configuration`, `plain_chat`, `usage`, `bad_model`, or
    /// an area).
    #[serde(rename = "step")]
    pub section: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workaround: Option<String>,
}

/// OLD's configuration, ready to paste back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub target: String,
    pub base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    pub models: BTreeMap<String, String>,
    /// Shell `export` lines (OpenAI SDK variable names; the key by reference, never by value).
    pub env_block: String,
    /// A `targets:` entry for a targets file.
    pub targets_snippet: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::ShapeDiff;
    use serde_json::json;

    /// `schemas/runbook.schema.json`'s violations of the model as serialized.
    fn schema_errors(rb: &Runbook) -> Vec<String> {
        let schema: Value =
            serde_json::from_str(include_str!("../../schemas/runbook.schema.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("runbook schema compiles");
        let value = serde_json::to_value(rb).unwrap();
        validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    fn item(section: &str, full: bool) -> Item {
        Item {
            section: section.into(),
            feature: full.then(|| "chat.basic".into()),
            case: full.then(|| "chat/basic".into()),
            what: "fail on NEW (OLD: pass)".into(),
            workaround: full.then(|| "retry".into()),
        }
    }

    fn side(full: bool) -> SideConfig {
        SideConfig {
            target: "old".into(),
            base_url: "http://127.0.0.1:1/v1".into(),
            auth: if full { "command" } else { "none" }.into(),
            api_key_env: full.then(|| "OLD_KEY".into()),
            auth_header: full.then(|| "x-api-key".into()),
            auth_command: full.then(|| "get-token".into()),
            models: BTreeMap::from([("chat".into(), "m".into())]),
            pricing: full.then_some(Price {
                input_per_mtok: 0.15,
                output_per_mtok: 0.6,
            }),
        }
    }

    /// Every optional field set and every list filled (`full`), or every `Option` `None` and
    /// every list empty: the integration runs never produce some of these.
    fn runbook(full: bool) -> Runbook {
        let brief = |outcome| CaseBrief {
            outcome,
            reason: full.then(|| "why".into()),
            http_status: full.then_some(400),
            warnings: if full { vec!["w".into()] } else { vec![] },
        };
        let error_shape = ErrorShape {
            outcome: Outcome::Fail,
            reason: full.then(|| "why".into()),
            status: full.then_some(404),
            body: full.then(|| json!([{"error": {"code": 404}}])),
            sdk_message_readable: false,
            sdk_view: "NotFoundError (HTTP 404)".into(),
        };
        let totals = UsageTotals {
            responses: 2,
            with_usage: 1,
            prompt_tokens: 10,
            completion_tokens: 5,
            estimated_cost: full.then_some(0.000_004_5),
        };
        let items = |step| if full { vec![item(step, true)] } else { vec![] };
        Runbook {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "llm-parity".into(),
                version: "0.1.0".into(),
            },
            started_at: "2025-01-01T00:00:00Z".into(),
            duration_ms: 12,
            partial: full,
            uses: "all areas".into(),
            from: side(full),
            to: side(full),
            configuration: ConfigurationSection {
                status: SectionStatus::Caveat,
                roles: vec![RoleModels {
                    role: "chat".into(),
                    old: Some("m".into()),
                    new: None,
                }],
                new_catalogue: if full { vec!["m".into()] } else { vec![] },
                warnings: vec![],
            },
            chat: ChatSection {
                status: SectionStatus::Pass,
                old: full.then(|| brief(Outcome::Pass)),
                new: full.then(|| brief(Outcome::Error)),
                shape: vec![ShapePath {
                    path: "choices[0].message.content".into(),
                    old: "string".into(),
                    new: "absent".into(),
                }],
                differences: vec![
                    "`choices[0].message.content`: string on OLD, absent on NEW".into(),
                ],
            },
            usage: UsageSection {
                status: SectionStatus::NotRun,
                old_case: full.then(|| brief(Outcome::Skip)),
                new_case: Some(brief(Outcome::Pass)),
                old: totals.clone(),
                new: totals,
                cost_ratio: full.then_some(3.238),
                notes: if full { vec!["n".into()] } else { vec![] },
            },
            bad_model: BadModelSection {
                status: SectionStatus::NoGo,
                old: full.then(|| error_shape.clone()),
                new: Some(error_shape),
            },
            areas: vec![AreaSection {
                area: "chat".into(),
                status: SectionStatus::NoGo,
                features: vec![FeatureParity {
                    feature: "chat.n".into(),
                    old: Some(Outcome::Pass),
                    new: full.then_some(Outcome::Unsupported),
                }],
                differences: if full {
                    vec![Difference {
                        feature: "chat.n".into(),
                        suite: "chat".into(),
                        case: "n-two".into(),
                        outcomes: BTreeMap::from([
                            ("old".into(), Outcome::Pass),
                            ("new".into(), Outcome::Unsupported),
                        ]),
                        reasons: BTreeMap::new(),
                        shape_diffs: vec![ShapeDiff {
                            pass: "old".into(),
                            other: "new".into(),
                            subject: "response body".into(),
                            diff: "--- old\n+++ new\n".into(),
                            summary: None,
                        }],
                    }]
                } else {
                    vec![]
                },
            }],
            latency: LatencySection {
                status: SectionStatus::Info,
                metrics: vec![LatencyCompare {
                    metric: "ttft".into(),
                    old_p50_ms: Some(8.2),
                    new_p50_ms: full.then_some(6.0),
                    delta_ms: full.then_some(-2.2),
                }],
            },
            decision: DecisionSection {
                decision: if full {
                    Decision::GoWithCaveats
                } else {
                    Decision::Go
                },
                blockers: items("chat"),
                caveats: vec![item("configuration", false)],
                not_run: items("usage"),
            },
            rollback: Rollback {
                target: "old".into(),
                base_url: "http://127.0.0.1:1/v1".into(),
                api_key_env: full.then(|| "OLD_KEY".into()),
                models: BTreeMap::from([("chat".into(), "m".into())]),
                env_block: "export OPENAI_BASE_URL='http://127.0.0.1:1/v1'\n".into(),
                targets_snippet: "targets:\n".into(),
            },
            manual_checks: vec!["check".into()],
        }
    }

    /// The published schema keeps up with the model: every field serde writes (optional ones
    /// included) is declared, and every field it requires is always written.
    #[test]
    fn every_field_is_in_the_published_schema() {
        for full in [true, false] {
            let rb = runbook(full);
            assert_eq!(schema_errors(&rb), Vec::<String>::new(), "full: {full}");
            // And the JSON reads back as the same model.
            let back: Runbook = serde_json::from_value(serde_json::to_value(&rb).unwrap()).unwrap();
            assert_eq!(back, rb);
        }
        // Every skip_serializing_if field is really written in the full one and absent in the
        // other, so both shapes were checked.
        let (full, bare) = (
            serde_json::to_value(runbook(true)).unwrap(),
            serde_json::to_value(runbook(false)).unwrap(),
        );
        for pointer in [
            "/from/api_key_env",
            "/from/auth_header",
            "/from/auth_command",
            "/from/pricing",
            "/configuration/new_catalog",
            "/usage/new_case/reason",
            "/usage/new_case/http_status",
            "/usage/new_case/warnings",
            "/usage/cost_ratio",
            "/usage/notes",
            "/usage/old/estimated_cost",
            "/bad_model/new/reason",
            "/bad_model/new/body",
            "/areas/0/differences",
            "/verdict/not_run",
            "/verdict/blockers/0/feature",
            "/verdict/blockers/0/case",
            "/verdict/blockers/0/workaround",
            "/rollback/api_key_env",
        ] {
            assert!(full.pointer(pointer).is_some(), "{pointer} in the full one");
            assert!(
                bare.pointer(pointer).is_none(),
                "{pointer} absent in the bare one"
            );
        }
    }

    /// Each enum's serde spelling is the schema's, and so is the schema version.
    #[test]
    fn enum_spellings_match_the_schema() {
        let schema: Value =
            serde_json::from_str(include_str!("../../schemas/runbook.schema.json")).unwrap();
        fn spelled<T: Serialize>(values: &[T]) -> Value {
            serde_json::to_value(values).unwrap()
        }
        use SectionStatus as V;
        assert_eq!(
            schema["$defs"]["step_verdict"]["enum"],
            spelled(&[V::Pass, V::Info, V::NotRun, V::Caveat, V::NoGo])
        );
        assert_eq!(
            schema["properties"]["verdict"]["properties"]["decision"]["enum"],
            spelled(&[Decision::Go, Decision::GoWithCaveats, Decision::NoGo])
        );
        assert_eq!(schema["$defs"]["outcome"]["enum"], spelled(&Outcome::ALL));
        assert_eq!(
            schema["properties"]["schema_version"]["const"],
            SCHEMA_VERSION
        );
    }
}
