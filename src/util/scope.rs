//! Thread-local flags set for the length of a call: how a caller asks its callees' `Serialize`
//! impls, which take no argument of ours, to write differently for it alone.

use std::cell::Cell;
use std::thread::LocalKey;

/// `f`, with `flag` set on this thread while it runs; the flag is restored to what it was when
/// `f` returns or panics.
pub fn with_flag<R>(flag: &'static LocalKey<Cell<bool>>, f: impl FnOnce() -> R) -> R {
    struct Restore(&'static LocalKey<Cell<bool>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            self.0.set(self.1);
        }
    }
    let _restore = Restore(flag, flag.replace(true));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static FLAG: Cell<bool> = const { Cell::new(false) };
    }

    #[test]
    fn the_flag_is_set_inside_and_restored_after_a_return_a_panic_and_a_nested_call() {
        assert!(!FLAG.get());
        assert!(with_flag(&FLAG, || FLAG.get()));
        assert!(!FLAG.get());
        // Nested: still set after the inner call returns, until the outer one does.
        assert!(with_flag(&FLAG, || {
            with_flag(&FLAG, || ());
            FLAG.get()
        }));
        assert!(!FLAG.get());
        let panicked = std::panic::catch_unwind(|| with_flag(&FLAG, || panic!("inside")));
        assert!(panicked.is_err());
        assert!(!FLAG.get());
    }
}
