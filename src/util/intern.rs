//! One copy of a value that many holders repeat (a feature id, a tag list, a response shape).

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

/// The `value` held in `set`, added if it is new.
pub fn intern<T>(set: &mut HashSet<Arc<T>>, value: &T) -> Arc<T>
where
    T: ?Sized + Eq + Hash,
    for<'a> Arc<T>: From<&'a T>,
{
    if let Some(v) = set.get(value) {
        return v.clone();
    }
    let v: Arc<T> = Arc::from(value);
    set.insert(v.clone());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy() {
        let mut set: HashSet<Arc<str>> = HashSet::new();
        let a = intern(&mut set, "200 chat.completion");
        let b = intern(&mut set, "200 chat.completion");
        let c = intern(&mut set, "400 error envelope");
        assert!(Arc::ptr_eq(&a, &b) && !Arc::ptr_eq(&a, &c));
        assert_eq!(set.len(), 2);
    }
}
