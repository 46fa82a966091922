//! `--shard I/N`: a deterministic 1/N of the planned cases, for spreading a run over CI runners.
//!
//! Balanced by suite and overall: each suite's cases are put in a stable order (the SHA-256 of
//! their `suite/case` id) and dealt round-robin to the shards, least loaded first (ties broken by
//! the suite id's hash) — so every shard gets its fair share (±1) of every suite and of the whole
//! run, and small suites do not all start on shard 1. Every target's copy of a case (and every repeat) lands in the
//! same shard, so differences between targets stay within one report. The assignment depends
//! only on the selected case ids: the same flags on every runner give disjoint shards whose
//! union is the whole run.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::PlannedCase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

/// A `--shard` value that is not `I/N` with 1 ≤ I ≤ N.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("expected I/N with 1 ≤ I ≤ N, e.g. 2/3 (got `{0}`)")]
pub struct ShardError(String);

/// `I/N` with 1 ≤ I ≤ N (clap value parser: the error is shown as the flag's).
pub fn parse(s: &str) -> Result<Shard, ShardError> {
    let bad = || ShardError(s.to_string());
    let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
    let (index, count) = (
        i.trim().parse::<u32>().map_err(|_| bad())?,
        n.trim().parse::<u32>().map_err(|_| bad())?,
    );
    if index == 0 || count == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn hash(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// The shard (0-based) of every `(suite, case)` among `ids`.
pub fn assign(ids: &BTreeSet<(String, String)>, count: u32) -> BTreeMap<(String, String), u32> {
    let mut by_suite: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (suite, case) in ids {
        by_suite.entry(suite).or_default().push(case);
    }
    let mut out = BTreeMap::new();
    // Cases dealt so far per shard: each suite's cases go round-robin over the shards from the
    // least loaded one up, so the whole run stays balanced too (±1), not just each suite.
    let mut load = vec![0usize; count as usize];
    for (suite, mut cases) in by_suite {
        cases.sort_by_key(|c| (hash(&format!("{suite}/{c}")), *c));
        // Among equally loaded shards, the suite id's hash decides, so small suites do not all
        // start on shard 1.
        let h = hash(suite);
        let spin = u64::from_be_bytes(h[..8].try_into().expect("8 bytes")) % u64::from(count);
        let mut order: Vec<u32> = (0..count).collect();
        order.sort_by_key(|&s| {
            (
                load[s as usize],
                (u64::from(s) + u64::from(count) - spin) % u64::from(count),
            )
        });
        for (pos, case) in cases.into_iter().enumerate() {
            let shard = order[pos % order.len()];
            load[shard as usize] += 1;
            out.insert((suite.to_string(), case.to_string()), shard);
        }
    }
    out
}

/// Keep the planned cases of `shard`, in plan order.
pub fn select(planned: Vec<PlannedCase>, shard: Shard) -> Vec<PlannedCase> {
    let ids: BTreeSet<(String, String)> = planned
        .iter()
        .map(|p| (p.case.suite.to_string(), p.case.id.to_string()))
        .collect();
    let assigned = assign(&ids, shard.count);
    planned
        .into_iter()
        .filter(|p| {
            assigned.get(&(p.case.suite.to_string(), p.case.id.to_string()))
                == Some(&(shard.index - 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(parse(" 1 / 1 "), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/3", ""] {
            assert_eq!(parse(bad), Err(ShardError(bad.to_string())), "{bad}");
        }
    }

    #[test]
    fn disjoint_complete_balanced_and_stable() {
        let mut ids = BTreeSet::new();
        for (suite, n) in [("chat", 13), ("tools", 7), ("errors", 5), ("models", 1)] {
            for i in 0..n {
                ids.insert((suite.to_string(), format!("case-{i}")));
            }
        }
        let a = assign(&ids, 3);
        assert_eq!(a.len(), ids.len(), "every case in exactly one shard");
        assert_eq!(a, assign(&ids, 3), "deterministic");
        for suite in ["chat", "tools", "errors"] {
            let per: Vec<usize> = (0..3)
                .map(|s| {
                    a.iter()
                        .filter(|((x, _), v)| x == suite && **v == s)
                        .count()
                })
                .collect();
            let (lo, hi) = (per.iter().min().unwrap(), per.iter().max().unwrap());
            assert!(hi - lo <= 1, "{suite} unbalanced: {per:?}");
        }
        // And overall: 26 cases over 3 shards are 9, 9 and 8.
        let mut total: Vec<usize> = (0..3)
            .map(|s| a.values().filter(|v| **v == s).count())
            .collect();
        total.sort();
        assert_eq!(total, [8, 9, 9]);
        // One shard holds everything.
        assert!(assign(&ids, 1).values().all(|v| *v == 0));
    }
}
