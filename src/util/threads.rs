//! Work shared out over a few threads, results in order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every item on up to `threads` threads (the calling one among them), the
/// results in the items' order. Each thread takes the next item not yet taken, so a large item
/// does not hold up the others. `then` sees each result in the items' order as soon as every
/// result before it is known (on whichever thread completed that), so that what is decided in
/// order — which suite files keep their compiled cases — is decided while the rest still load,
/// not after all of them.
pub fn in_order<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
    mut then: impl FnMut(&mut R) + Send,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items
            .iter()
            .map(|item| {
                let mut r = f(item);
                then(&mut r);
                r
            })
            .collect();
    }
    struct InOrder<R, F> {
        results: Vec<Option<R>>,
        /// The first result `then` has not seen.
        seen: usize,
        then: F,
    }
    let next = AtomicUsize::new(0);
    let in_order = Mutex::new(InOrder {
        results: items.iter().map(|_| None).collect(),
        seen: 0,
        then,
    });
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return;
            };
            let r = f(item);
            let mut o = in_order.lock().unwrap_or_else(|e| e.into_inner());
            o.results[i] = Some(r);
            let InOrder {
                results,
                seen,
                then,
            } = &mut *o;
            while let Some(Some(r)) = results.get_mut(*seen) {
                then(r);
                *seen += 1;
            }
        }
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        work();
        for t in others {
            t.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    });
    let o = in_order.into_inner().unwrap_or_else(|e| e.into_inner());
    o.results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_gives_the_results_in_the_items_order_on_any_number_of_threads() {
        let items: Vec<usize> = (0..37).collect();
        let expected: Vec<usize> = items.iter().map(|i| i * 3).collect();
        for threads in [0, 1, 2, 3, 8, 100] {
            let mut seen = Vec::new();
            let got = in_order(&items, threads, |i| i * 3, |r| seen.push(*r));
            assert_eq!(got, expected, "{threads}");
            assert_eq!(seen, expected, "`then` in order, {threads}");
        }
        assert!(in_order(&[] as &[usize], 4, |i| *i, |_| {}).is_empty());
    }
}
