//! `tools`, `tool_choice` and `parallel_tool_calls`: validation, and the decision which
//! functions a reply calls, with arguments generated from each function's `parameters`.

use serde_json::{Map, Value};

use crate::content::{Message, Role};
use crate::errors::ApiError;
use crate::schema_gen;
use crate::util::alnum_id;
use crate::validate::{field, opt_bool, opt_object, opt_str, req_str};

/// One declared function.
#[derive(Debug, Clone)]
pub(crate) struct Tool {
    pub name: String,
    /// The `parameters` JSON Schema (`None` for a parameterless function).
    pub parameters: Option<Value>,
}

/// The request's `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolChoice {
    None,
    Auto,
    Required,
    Named(String),
}

/// The validated tool settings of a request.
#[derive(Debug, Clone)]
pub(crate) struct ToolSettings {
    pub tools: Vec<Tool>,
    pub choice: ToolChoice,
    pub parallel: bool,
}

/// One generated call.
#[derive(Debug, Clone)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the JSON string sent on the wire.
    pub arguments: String,
}

/// How a request shapes its function tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Chat Completions: `{type: function, function: {name, parameters}}`, and a named
    /// `tool_choice` `{type: function, function: {name}}`.
    Chat,
    /// The Responses API: flat `{type: function, name, parameters}` and `{type: function, name}`.
    Responses,
}

/// Validates `tools`, `tool_choice` and `parallel_tool_calls` of a chat completion.
pub(crate) fn parse(req: &Map<String, Value>) -> Result<ToolSettings, ApiError> {
    parse_shaped(req, Shape::Chat)
}

/// Validates `tools`, `tool_choice` and `parallel_tool_calls` in the given shape.
pub(crate) fn parse_shaped(
    req: &Map<String, Value>,
    shape: Shape,
) -> Result<ToolSettings, ApiError> {
    let mut tools = Vec::new();
    if let Some(v) = field(req, "tools") {
        let items = v
            .as_array()
            .ok_or_else(|| ApiError::invalid_type("tools", "an array of objects", v))?;
        for (i, item) in items.iter().enumerate() {
            tools.push(parse_tool(item, &format!("tools[{i}]"), shape)?);
        }
    }
    let parallel =
        opt_bool(field(req, "parallel_tool_calls"), "parallel_tool_calls")?.unwrap_or(true);
    let choice = match field(req, "tool_choice") {
        None if tools.is_empty() => ToolChoice::None,
        None => ToolChoice::Auto,
        Some(Value::String(s)) => match s.as_str() {
            "none" => ToolChoice::None,
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            other => {
                return Err(ApiError::invalid_enum(
                    "tool_choice",
                    other,
                    &["none", "auto", "required"],
                ))
            }
        },
        Some(Value::Object(o)) => {
            let ty = req_str(field(o, "type"), "tool_choice.type")?;
            if ty != "function" {
                return Err(ApiError::invalid_enum(
                    "tool_choice.type",
                    ty,
                    &["function"],
                ));
            }
            let name = match shape {
                Shape::Chat => {
                    let f = opt_object(field(o, "function"), "tool_choice.function")?
                        .ok_or_else(|| ApiError::missing("tool_choice.function"))?;
                    req_str(field(f, "name"), "tool_choice.function.name")?
                }
                Shape::Responses => req_str(field(o, "name"), "tool_choice.name")?,
            };
            if !tools.iter().any(|t| t.name == name) {
                return Err(ApiError::invalid_value(
                    "tool_choice",
                    format!("Invalid value for 'tool_choice': function '{name}' is not one of the functions declared in 'tools'."),
                ));
            }
            ToolChoice::Named(name.to_string())
        }
        Some(other) => {
            return Err(ApiError::invalid_type(
                "tool_choice",
                "a string or an object",
                other,
            ))
        }
    };
    if tools.is_empty() && matches!(choice, ToolChoice::Required | ToolChoice::Named(_)) {
        return Err(ApiError::invalid_value(
            "tool_choice",
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        ));
    }
    Ok(ToolSettings {
        tools,
        choice,
        parallel,
    })
}

fn parse_tool(item: &Value, path: &str, shape: Shape) -> Result<Tool, ApiError> {
    let t = item
        .as_object()
        .ok_or_else(|| ApiError::invalid_type(path, "an object", item))?;
    let type_path = format!("{path}.type");
    let ty = req_str(field(t, "type"), &type_path)?;
    if ty != "function" {
        return Err(ApiError::invalid_enum(&type_path, ty, &["function"]));
    }
    // The function's fields: nested under `function` in chat, beside `type` in Responses (where
    // chat's nested shape is answered with the missing flat `name`, as OpenAI does).
    let (f, fp) = match shape {
        Shape::Chat => {
            let fp = format!("{path}.function");
            let f = opt_object(field(t, "function"), &fp)?.ok_or_else(|| ApiError::missing(&fp))?;
            (f, fp)
        }
        Shape::Responses => (t, path.to_string()),
    };
    let name_path = format!("{fp}.name");
    let name = req_str(field(f, "name"), &name_path)?;
    check_name(name, &name_path)?;
    opt_str(field(f, "description"), &format!("{fp}.description"))?;
    opt_bool(field(f, "strict"), &format!("{fp}.strict"))?;
    let parameters = opt_object(field(f, "parameters"), &format!("{fp}.parameters"))?
        .map(|p| Value::Object(p.clone()));
    Ok(Tool {
        name: name.to_string(),
        parameters,
    })
}

/// A function (or schema) name must match `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn check_name(name: &str, path: &str) -> Result<(), ApiError> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name.is_empty() || name.len() > 64 || !valid_chars {
        return Err(ApiError::invalid_value(
            path,
            format!("Invalid '{path}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{{1,64}}$'."),
        ));
    }
    Ok(())
}

/// The calls a choice makes, or `None` when it answers in text.
///
/// `none` never calls; a named choice calls exactly that function; `required` always calls;
/// `auto` calls while the conversation ends with a user turn and answers in text once a tool
/// result came back (the round trip). With parallel calls allowed and at least two tools
/// declared, `auto`/`required` call the first two functions; otherwise the first.
pub(crate) fn plan_calls(
    settings: &ToolSettings,
    messages: &[Message],
    request_hash: &[u8],
    choice_index: usize,
) -> Option<Vec<ToolCall>> {
    let chosen: Vec<&Tool> = match &settings.choice {
        ToolChoice::None => return None,
        ToolChoice::Named(name) => settings
            .tools
            .iter()
            .filter(|t| &t.name == name)
            .take(1)
            .collect(),
        ToolChoice::Auto if messages.last().map(|m| m.role) != Some(Role::User) => return None,
        ToolChoice::Auto | ToolChoice::Required => {
            let count = if settings.parallel { 2 } else { 1 };
            settings.tools.iter().take(count).collect()
        }
    };
    if chosen.is_empty() {
        return None;
    }
    let calls = chosen
        .iter()
        .enumerate()
        .map(|(k, tool)| ToolCall {
            id: format!(
                "call_{}",
                alnum_id(
                    &[request_hash, &choice_index.to_le_bytes(), &k.to_le_bytes()],
                    24
                )
            ),
            name: tool.name.clone(),
            arguments: match &tool.parameters {
                Some(schema) => schema_gen::generate(schema).to_string(),
                None => "{}".to_string(),
            },
        })
        .collect();
    Some(calls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Vec<Message> {
        let msgs = json!([{"role": "user", "content": "weather?"}]);
        crate::content::parse_messages(Some(&msgs)).unwrap()
    }

    fn settings(body: Value) -> ToolSettings {
        parse(body.as_object().unwrap()).unwrap()
    }

    fn two_tools() -> Value {
        json!([
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
                "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
            {"type": "function", "function": {"name": "get_time"}}
        ])
    }

    #[test]
    fn parallel_calls_first_two_functions() {
        let s = settings(json!({"tools": two_tools()}));
        let calls = plan_calls(&s, &user(), b"h", 0).unwrap();
        assert_eq!(calls.len(), 2);
        assert_ne!(calls[0].id, calls[1].id);
        assert_eq!(calls[0].id.len(), 29);
        assert_eq!(calls[1].arguments, "{}");
        let s = settings(json!({"tools": two_tools(), "parallel_tool_calls": false}));
        assert_eq!(plan_calls(&s, &user(), b"h", 0).unwrap().len(), 1);
    }

    #[test]
    fn named_and_none_choices() {
        let s = settings(
            json!({"tools": two_tools(), "tool_choice": {"type": "function", "function": {"name": "get_time"}}}),
        );
        let calls = plan_calls(&s, &user(), b"h", 0).unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].name, "get_time");
        let s = settings(json!({"tools": two_tools(), "tool_choice": "none"}));
        assert!(plan_calls(&s, &user(), b"h", 0).is_none());
    }

    #[test]
    fn validation_names_the_field() {
        let bad = json!({"tools": [{"type": "retrieval"}]});
        assert_eq!(
            parse(bad.as_object().unwrap())
                .unwrap_err()
                .param
                .as_deref(),
            Some("tools[0].type")
        );
        let bad = json!({"tools": [{"type": "function", "function": {"name": "has space"}}]});
        assert_eq!(
            parse(bad.as_object().unwrap())
                .unwrap_err()
                .param
                .as_deref(),
            Some("tools[0].function.name")
        );
        let bad = json!({"tools": two_tools(), "tool_choice": {"type": "function", "function": {"name": "nope"}}});
        assert_eq!(
            parse(bad.as_object().unwrap())
                .unwrap_err()
                .param
                .as_deref(),
            Some("tool_choice")
        );
    }
}
