//! Typed access to request fields, producing OpenAI-worded 400s (`invalid_type`,
//! `integer_below_min_value`, …) that name the offending parameter.

use serde_json::{Map, Value};

use crate::errors::ApiError;

/// The field `key` of `map`, treating an explicit `null` like an absent field (OpenAI
/// accepts `null` for every optional parameter).
pub(crate) fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// An optional boolean.
pub(crate) fn opt_bool(v: Option<&Value>, param: &str) -> Result<Option<bool>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::invalid_type(param, "a boolean", other)),
    }
}

/// An optional string.
pub(crate) fn opt_str<'a>(v: Option<&'a Value>, param: &str) -> Result<Option<&'a str>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::invalid_type(param, "a string", other)),
    }
}

/// A required string.
pub(crate) fn req_str<'a>(v: Option<&'a Value>, param: &str) -> Result<&'a str, ApiError> {
    opt_str(v, param)?.ok_or_else(|| ApiError::missing(param))
}

/// An optional object.
pub(crate) fn opt_object<'a>(
    v: Option<&'a Value>,
    param: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(ApiError::invalid_type(param, "an object", other)),
    }
}

/// An optional integer within `[min, max]`.
pub(crate) fn opt_int(
    v: Option<&Value>,
    param: &str,
    min: i64,
    max: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    let n = match v.as_i64() {
        Some(n) => n,
        // A u64 beyond i64 is certainly above any maximum we enforce.
        None if v.is_u64() => i64::MAX,
        None => return Err(ApiError::invalid_type(param, "an integer", v)),
    };
    if n < min {
        return Err(ApiError::bad_request(
            format!(
                "Invalid '{param}': integer below minimum value. Expected a value >= {min}, but got {n} instead."
            ),
            Some(param),
            Some("integer_below_min_value"),
        ));
    }
    if let Some(max) = max {
        if n > max {
            return Err(ApiError::bad_request(
                format!(
                    "Invalid '{param}': integer above maximum value. Expected a value <= {max}, but got {n} instead."
                ),
                Some(param),
                Some("integer_above_max_value"),
            ));
        }
    }
    Ok(Some(n))
}

/// An optional number within `[min, max]`.
pub(crate) fn opt_number(
    v: Option<&Value>,
    param: &str,
    min: f64,
    max: f64,
) -> Result<Option<f64>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    let Some(x) = v.as_f64() else {
        return Err(ApiError::invalid_type(param, "a number", v));
    };
    if x < min {
        return Err(ApiError::bad_request(
            format!(
                "Invalid '{param}': decimal below minimum value. Expected a value >= {min}, but got {x} instead."
            ),
            Some(param),
            Some("decimal_below_min_value"),
        ));
    }
    if x > max {
        return Err(ApiError::bad_request(
            format!(
                "Invalid '{param}': decimal above maximum value. Expected a value <= {max}, but got {x} instead."
            ),
            Some(param),
            Some("decimal_above_max_value"),
        ));
    }
    Ok(Some(x))
}

/// `metadata`: at most 16 string values, keys ≤ 64 and values ≤ 512 characters.
pub(crate) fn metadata(v: Option<&Value>, param: &str) -> Result<(), ApiError> {
    let Some(map) = opt_object(v, param)? else {
        return Ok(());
    };
    if map.len() > 16 {
        return Err(ApiError::bad_request(
            format!(
                "Invalid '{param}': too many properties. Expected an object with at most 16 properties, but got an object with {} properties instead.",
                map.len()
            ),
            Some(param),
            Some("object_above_max_properties"),
        ));
    }
    for (k, v) in map {
        let path = format!("{param}.{k}");
        let s = opt_str(Some(v), &path)?.unwrap_or_default();
        if k.chars().count() > 64 || s.chars().count() > 512 {
            return Err(ApiError::invalid_value(
                &path,
                format!("Invalid '{path}': string too long."),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_are_range_checked() {
        let e = opt_int(Some(&json!(0)), "n", 1, Some(128)).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("n"));
        assert_eq!(e.code, Some("integer_below_min_value"));
        let e = opt_int(Some(&json!("2")), "n", 1, None).unwrap_err();
        assert_eq!(e.code, Some("invalid_type"));
        assert_eq!(
            e.message,
            "Invalid type for 'n': expected an integer, but got a string instead."
        );
        assert_eq!(opt_int(Some(&json!(3)), "n", 1, None).unwrap(), Some(3));
    }

    #[test]
    fn metadata_values_must_be_strings() {
        assert!(metadata(Some(&json!({"a": "b"})), "metadata").is_ok());
        let e = metadata(Some(&json!({"a": 1})), "metadata").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("metadata.a"), "{e:?}");
    }
}
