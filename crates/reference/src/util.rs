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
}
