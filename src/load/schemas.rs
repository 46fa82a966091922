//! The JSON Schemas responses are validated against: the shipped ones (embedded in the binary,
//! so the tool validates the same way wherever it runs) plus any `*.json` in `--schemas DIR`.
//! Each is compiled once and shared by every case: a shipped one when it is first used (a run
//! uses a few of them, and compiling all of them took about a fifth of loading a 1,000-case
//! suite), one from `--schemas-dir` while the project loads, so its problems are reported with
//! the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::diag::{Diagnostic, Diagnostics};
use crate::util::fs::{MIB, read_bounded_string};

/// The largest schema file read from `--schemas-dir` (the OpenAPI document's own schemas are a
/// few kilobytes each).
const SCHEMA_FILE_LIMIT: u64 = 16 * MIB;

/// The shipped schemas, by id (the file stem under `schemas/`).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "chat.completion",
        include_str!("../../schemas/chat.completion.json"),
    ),
    (
        "chat.completion.chunk",
        include_str!("../../schemas/chat.completion.chunk.json"),
    ),
    ("error", include_str!("../../schemas/error.json")),
    ("model.list", include_str!("../../schemas/model.list.json")),
    ("model", include_str!("../../schemas/model.json")),
    (
        "embedding.list",
        include_str!("../../schemas/embedding.list.json"),
    ),
    (
        "image.response",
        include_str!("../../schemas/image.response.json"),
    ),
    ("file", include_str!("../../schemas/file.json")),
    ("file.list", include_str!("../../schemas/file.list.json")),
    (
        "file.deleted",
        include_str!("../../schemas/file.deleted.json"),
    ),
    ("batch", include_str!("../../schemas/batch.json")),
    ("batch.list", include_str!("../../schemas/batch.list.json")),
    ("response", include_str!("../../schemas/response.json")),
    (
        "response.stream_event",
        include_str!("../../schemas/response.stream_event.json"),
    ),
    (
        "response.deleted",
        include_str!("../../schemas/response.deleted.json"),
    ),
];

/// The file stems under `schemas/` that are llm-parity's own file contracts (report, baseline,
/// runbook), not response schemas: skipped when `--schemas-dir` points at such a folder.
pub const CONTRACTS: &[&str] = &["report.schema", "baseline.schema", "runbook.schema"];

/// One schema violation, with the JSON Pointer of the offending instance value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    pub instance_path: String,
    pub message: String,
    /// For a `required` violation: the missing property's name.
    pub missing_property: Option<String>,
    /// A required property that the schema allows to be null is absent. Every OpenAI SDK reads
    /// an absent nullable field as null, so callers report this as a warning, not a deviation.
    pub absent_nullable: bool,
    /// An optional property is present as null where the schema does not allow null (Mistral's
    /// `"tool_calls": null`). The SDKs type optional fields as nullable (`Optional[…]`,
    /// `?:` read with `?.`, `.nullish()`), so callers report this as a warning too.
    pub null_optional: bool,
}

pub struct SchemaStore {
    schemas: BTreeMap<String, Schema>,
}

/// A schema of the store, compiled when first used if it is a shipped one.
struct Schema {
    /// The shipped text, compiled by the first case that needs it; `None` for a schema from
    /// `--schemas-dir`, compiled while loading.
    shipped: Option<&'static str>,
    validator: OnceLock<jsonschema::Validator>,
}

impl Schema {
    fn validator(&self) -> &jsonschema::Validator {
        self.validator.get_or_init(|| {
            let text = self.shipped.unwrap_or_default();
            serde_json::from_str(text)
                .ok()
                .and_then(|v| jsonschema::validator_for(&v).ok())
                .expect("every shipped schema compiles (load::schemas tests)")
        })
    }
}

impl std::fmt::Debug for SchemaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.schemas.keys()).finish()
    }
}

impl SchemaStore {
    pub fn ids(&self) -> Vec<String> {
        self.schemas.keys().cloned().collect()
    }

    /// Every violation (capped, so a hostile body cannot produce megabytes of reasons).
    pub fn validate(&self, id: &str, instance: &Value) -> Option<Vec<SchemaViolation>> {
        let mut out = self.violations(id, instance)?;
        for v in &mut out {
            if let Some(p) = &v.missing_property {
                v.absent_nullable = self.absent_means_null(id, instance, &v.instance_path, p);
            } else if instance
                .pointer(&v.instance_path)
                .is_some_and(Value::is_null)
            {
                v.null_optional = self.null_means_absent(id, instance, &v.instance_path);
            }
        }
        Some(out)
    }

    fn violations(&self, id: &str, instance: &Value) -> Option<Vec<SchemaViolation>> {
        let v = self.schemas.get(id)?.validator();
        Some(
            v.iter_errors(instance)
                .take(20)
                .map(|e| SchemaViolation {
                    instance_path: e.instance_path().to_string(),
                    message: e.to_string(),
                    missing_property: match e.kind() {
                        jsonschema::error::ValidationErrorKind::Required { property } => {
                            property.as_str().map(str::to_string)
                        }
                        _ => None,
                    },
                    absent_nullable: false,
                    null_optional: false,
                })
                .collect(),
        )
    }

    /// Whether inserting `property: null` into the object at `parent` satisfies the schema
    /// for that property — i.e. the property is required but nullable. (The schema path goes
    /// through `$ref`s, so asking the validator is simpler and exact.)
    fn absent_means_null(&self, id: &str, instance: &Value, parent: &str, property: &str) -> bool {
        let mut patched = instance.clone();
        let Some(Value::Object(obj)) = patched.pointer_mut(parent) else {
            return false;
        };
        obj.insert(property.to_string(), Value::Null);
        let child = format!(
            "{parent}/{}",
            property.replace('~', "~0").replace('/', "~1")
        );
        self.violations(id, &patched).is_some_and(|vs| {
            !vs.iter().any(|v| {
                v.instance_path == child
                    || (v.instance_path == parent
                        && v.missing_property.as_deref() == Some(property))
            })
        })
    }

    /// Whether removing the null at `pointer` (a member of an object) satisfies the schema for
    /// it — i.e. the property is optional and only its null value violates the schema.
    fn null_means_absent(&self, id: &str, instance: &Value, pointer: &str) -> bool {
        let Some((parent, key)) = pointer.rsplit_once('/') else {
            return false;
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        let mut patched = instance.clone();
        let Some(Value::Object(obj)) = patched.pointer_mut(parent) else {
            return false;
        };
        if obj.remove(&key).is_none() {
            return false;
        }
        self.violations(id, &patched).is_some_and(|vs| {
            !vs.iter().any(|v| {
                v.instance_path == pointer
                    || (v.instance_path == parent && v.missing_property.as_deref() == Some(&key))
            })
        })
    }

    /// Compile the shipped schemas and the ones in `extra_dir`.
    pub fn load(extra_dir: Option<&Path>) -> Result<Arc<SchemaStore>, Diagnostics> {
        SchemaSources::read(extra_dir).compile()
    }
}

/// The schemas' texts, read but not compiled: their ids are all a suite needs to be loaded, so
/// the compilation (the larger part) can run beside the suites'.
pub struct SchemaSources {
    sources: Vec<(String, Text)>,
    /// Problems reading `--schemas-dir`, reported with the compilation's.
    diags: Diagnostics,
}

/// A schema's text: shipped in the binary, or read from a file of `--schemas-dir`.
enum Text {
    Shipped(&'static str),
    Read(PathBuf, String),
}

impl SchemaSources {
    /// The shipped schemas and the `*.json` files in `extra_dir` (one of the same id as a
    /// shipped schema replaces it).
    pub fn read(extra_dir: Option<&Path>) -> SchemaSources {
        let mut diags = Diagnostics::default();
        let mut sources: Vec<(String, Text)> = BUILTIN
            .iter()
            .map(|(id, text)| (id.to_string(), Text::Shipped(text)))
            .collect();
        if let Some(dir) = extra_dir {
            match std::fs::read_dir(dir) {
                Ok(entries) => {
                    let mut files: Vec<_> =
                        entries.filter_map(Result::ok).map(|e| e.path()).collect();
                    files.sort();
                    for p in files {
                        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                            continue;
                        };
                        let Some(id) = name.strip_suffix(".json") else {
                            continue;
                        };
                        if CONTRACTS.contains(&id) {
                            continue; // the report, baseline and runbook contracts
                        }
                        match read_bounded_string(&p, SCHEMA_FILE_LIMIT) {
                            Ok(text) => sources.push((id.to_string(), Text::Read(p.clone(), text))),
                            Err(e) => diags.push(Diagnostic::new(
                                &p,
                                format!("failed to read schema: {}", e.kind),
                            )),
                        }
                    }
                }
                Err(e) => diags.push(Diagnostic::new(
                    dir,
                    format!("failed to read schema directory: {e}"),
                )),
            }
        }
        SchemaSources { sources, diags }
    }

    /// The ids the compiled store will have, sorted ([`SchemaStore::ids`] when it compiles).
    pub fn ids(&self) -> Vec<String> {
        let ids: BTreeSet<&str> = self.sources.iter().map(|(id, _)| id.as_str()).collect();
        ids.into_iter().map(str::to_string).collect()
    }

    /// Compile every schema read from `--schemas-dir` (the shipped ones are compiled when first
    /// used); all problems (reading and compiling) come back together.
    pub fn compile(self) -> Result<Arc<SchemaStore>, Diagnostics> {
        let SchemaSources { sources, mut diags } = self;
        let mut schemas = BTreeMap::new();
        for (id, text) in sources {
            let (path, text) = match text {
                Text::Shipped(text) => {
                    let shipped = Schema {
                        shipped: Some(text),
                        validator: OnceLock::new(),
                    };
                    schemas.insert(id, shipped);
                    continue;
                }
                Text::Read(path, text) => (path, text),
            };
            let value: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    let src: Arc<str> = text.as_str().into();
                    diags.push(
                        Diagnostic::new(&path, format!("schema is not valid JSON: {e}"))
                            .at(e.line(), e.column())
                            .with_source(&src),
                    );
                    continue;
                }
            };
            match jsonschema::validator_for(&value) {
                Ok(v) => {
                    let read = Schema {
                        shipped: None,
                        validator: OnceLock::from(v),
                    };
                    schemas.insert(id, read);
                }
                Err(e) => diags.push(Diagnostic::new(&path, format!("invalid JSON Schema: {e}"))),
            }
        }
        if diags.is_empty() {
            Ok(Arc::new(SchemaStore { schemas }))
        } else {
            Err(diags)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped schemas are compiled when first used: each one compiles, and validates.
    #[test]
    fn every_shipped_schema_compiles_when_first_used() {
        let store = SchemaStore::load(None).expect("the shipped schemas load");
        for (id, _) in BUILTIN {
            let schema = &store.schemas[*id];
            assert!(schema.validator.get().is_none(), "{id} not compiled yet");
            let violations = store.validate(id, &Value::Null).unwrap();
            assert!(!violations.is_empty(), "{id}: null is not a valid instance");
            assert!(schema.validator.get().is_some(), "{id} compiled once used");
        }
    }

    /// `--schemas-dir schemas` loads the response schemas and leaves the contracts out.
    #[test]
    fn the_schemas_folder_as_extra_dir_skips_the_contracts() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        for c in CONTRACTS {
            assert!(
                dir.join(format!("{c}.json")).is_file(),
                "{c}.json is shipped"
            );
        }
        let sources = SchemaSources::read(Some(&dir));
        let ids = sources.ids();
        let store = sources.compile().expect("the shipped folder loads");
        let mut builtin: Vec<String> = BUILTIN.iter().map(|(id, _)| id.to_string()).collect();
        builtin.sort();
        assert_eq!(store.ids(), builtin);
        // The ids suites are loaded against before the compilation are the store's.
        assert_eq!(ids, builtin);
    }
}
