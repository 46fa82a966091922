//! Small deterministic helpers: hashing, ids and clocks.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// SHA-256 over the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefix each part so ("ab","c") and ("a","bc") hash differently.
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let out = hasher.finalize();
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&out);
    bytes
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// `len` characters of `[A-Za-z0-9]` derived from a hash of `parts` (OpenAI-style ids such
/// as `call_…` and `file-…` use this alphabet).
pub(crate) fn alnum_id(parts: &[&[u8]], len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut block = 0u64;
    while out.len() < len {
        let digest = sha256(&[&block.to_le_bytes(), &sha256(parts)]);
        for b in digest {
            if out.len() == len {
                break;
            }
            out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
        }
        block += 1;
    }
    out
}

/// The current unix time in seconds.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One page of a list endpoint (`limit`, `after`, and for files `order` and `purpose`), as
/// OpenAI's list objects are: `data`, `has_more`, and `first_id`/`last_id` when the page has
/// items. `items` come oldest first; the default order is newest first.
pub(crate) fn page(
    mut items: Vec<serde_json::Value>,
    query: Option<&str>,
    default_limit: usize,
) -> Result<serde_json::Value, crate::errors::ApiError> {
    use crate::errors::ApiError;
    let params: Vec<(&str, &str)> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let limit = match get("limit") {
        None => default_limit,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_value(
                    "limit",
                    format!("Invalid 'limit': expected an integer from 1 to 10000, got '{l}'."),
                )
            })?,
    };
    match get("order") {
        None | Some("desc") => items.reverse(),
        Some("asc") => {}
        Some(other) => return Err(ApiError::invalid_enum("order", other, &["asc", "desc"])),
    }
    if let Some(p) = get("purpose") {
        items.retain(|i| i["purpose"] == p);
    }
    if let Some(after) = get("after") {
        let at = items.iter().position(|i| i["id"] == after).ok_or_else(|| {
            ApiError::object_not_found(format!("No such object: {after}"), Some("after"))
        })?;
        items.drain(..=at);
    }
    let has_more = items.len() > limit;
    items.truncate(limit);
    let mut list = serde_json::json!({ "object": "list", "data": items, "has_more": has_more });
    if let (Some(first), Some(last)) = (
        list["data"].get(0).cloned(),
        list["data"].as_array().and_then(|d| d.last()).cloned(),
    ) {
        list["first_id"] = first["id"].clone();
        list["last_id"] = last["id"].clone();
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alnum_ids_are_deterministic_and_sized() {
        let a = alnum_id(&[b"x"], 24);
        assert_eq!(a.len(), 24);
        assert_eq!(a, alnum_id(&[b"x"], 24));
        assert_ne!(a, alnum_id(&[b"y"], 24));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(alnum_id(&[b"x"], 40).len(), 40);
    }

    #[test]
    fn hex_encodes() {
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }

    #[test]
    fn pages_are_newest_first_and_follow_limit_and_after() {
        let items: Vec<serde_json::Value> = (1..=5)
            .map(|n| serde_json::json!({ "id": format!("f{n}"), "purpose": if n % 2 == 0 { "batch" } else { "user_data" } }))
            .collect();
        let ids = |v: &serde_json::Value| -> Vec<String> {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect()
        };
        let p = page(items.clone(), Some("limit=2"), 20).unwrap();
        assert_eq!(ids(&p), ["f5", "f4"]);
        assert_eq!(
            (
                p["has_more"].clone(),
                p["first_id"].clone(),
                p["last_id"].clone()
            ),
            (true.into(), "f5".into(), "f4".into())
        );
        let p = page(items.clone(), Some("after=f4&limit=2"), 20).unwrap();
        assert_eq!(ids(&p), ["f3", "f2"]);
        let p = page(items.clone(), Some("order=asc&purpose=batch"), 20).unwrap();
        assert_eq!(ids(&p), ["f2", "f4"]);
        assert_eq!(p["has_more"], false);
        let empty = page(vec![], None, 20).unwrap();
        assert!(empty.get("first_id").is_none());
        assert!(page(items.clone(), Some("limit=0"), 20).is_err());
        assert!(page(items.clone(), Some("order=sideways"), 20).is_err());
        assert!(page(items, Some("after=nope"), 20).is_err());
    }
}
