//! The memory allocator, and giving freed memory back to the system.
//!
//! jemalloc on Unix (Linux, macOS, the BSDs); elsewhere (Windows) Rust's system allocator
//! stays. Against glibc's malloc, on 2,000 distinct cases at 0 ms: −6.7 % instructions, −30 % CPU
//! (glibc's arena locks, which two threads allocating at once contend for, are most of the
//! difference), +1.5 MiB peak RSS (docs/performance.md, "The allocator"). The options below are
//! checked in the library's tests and, in the executable, by `tests/it/cli.rs`.

#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts (at the first allocation, before `main`); a user's
/// `_RJEM_MALLOC_CONF` is read after them and wins.
///
/// - `narenas:2`: two arenas, not four per core. Threads that allocate at the same time share
///   them (each thread still has its own small cache), and each arena keeps pages of its own.
/// - `dirty_decay_ms:300`: pages freed are given back after ~0.3 s, not 10 s. A run's memory
///   comes and goes in pieces (a suite file's parse, a window of cases compiled, report
///   buffers) between many small long-lived ones; with the default a 100,000-case run peaked at
///   76 MiB instead of 69.
/// - `oversize_threshold:131072`: a block of 128 KiB or more (a response body, a stream's
///   events, a JSON value's nodes growing) comes from jemalloc's arena for large blocks, which
///   gives freed pages back at once — what glibc did for blocks it mapped (the same 128 KiB).
///   Above 8 MiB, the default, the buffers a body grows through stayed resident: one 7.5 MiB
///   stream of one-character chunks peaked at 71 MiB, over its budget of 69 (docs/reliability.md,
///   "Memory"); with 128 KiB, 46 MiB.
#[cfg(unix)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: Conf = Conf(c"narenas:2,dirty_decay_ms:300,oversize_threshold:131072".as_ptr());

/// A C string pointer that can be a `static`: `malloc_conf` is a `const char *`.
#[cfg(unix)]
#[repr(transparent)]
struct Conf(*const std::ffi::c_char);

// SAFETY: the pointer is to a string literal, which lives as long as the program and is never
// written.
#[cfg(unix)]
unsafe impl Sync for Conf {}

/// Return the pages the allocator holds free to the system at once, rather than after the decay
/// time. Called once loading is done: parsing the suite files took many times their size for a
/// short while, on several threads, and the run that follows would otherwise start with that
/// high-water mark resident.
#[cfg(unix)]
pub fn give_back_free_memory() {
    // Nothing to do if it fails: the pages go back after the decay time anyway.
    let _ = purge();
}

/// jemalloc's `arena.<i>.purge` for every arena (`i` = 4096, MALLCTL_ARENAS_ALL): 0 or an errno.
#[cfg(unix)]
fn purge() -> std::ffi::c_int {
    use std::ptr::null_mut;
    // SAFETY: the control takes no value in or out (all pointers null, length 0). It only
    // releases pages no allocation uses.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
            0,
        )
    }
}

#[cfg(not(unix))]
pub fn give_back_free_memory() {}

#[cfg(all(test, unix))]
mod tests {
    use std::ffi::CStr;
    use std::ptr::null_mut;

    /// One of jemalloc's controls: what it reads into a T, given `new` (or nothing) to write.
    fn control<T: Default, N>(name: &CStr, new: Option<&mut N>) -> T {
        let mut value = T::default();
        let mut len = std::mem::size_of::<T>();
        let (newp, newlen) = match new {
            Some(n) => ((n as *mut N).cast(), std::mem::size_of::<N>()),
            None => (null_mut(), 0),
        };
        // SAFETY: `value` is a T and `len` its size; `newp` points to `newlen` bytes or is null.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&raw mut value).cast(),
                &mut len,
                newp,
                newlen,
            )
        };
        assert_eq!(rc, 0, "mallctl({name:?}) failed: {rc}");
        value
    }

    #[test]
    fn jemalloc_is_the_allocator_and_started_with_our_options() {
        // A block from the global allocator belongs to one of jemalloc's arenas (`arenas.lookup`
        // fails for a pointer jemalloc did not hand out).
        let v = vec![0u8; 1000];
        let mut ptr = v.as_ptr();
        let _arena: u32 = control(c"arenas.lookup", Some(&mut ptr));
        // Unless the user (here, whoever runs the tests) overrides them.
        if std::env::var_os("_RJEM_MALLOC_CONF").is_none() {
            assert_eq!(control::<u32, ()>(c"opt.narenas", None), 2);
            assert_eq!(control::<isize, ()>(c"opt.dirty_decay_ms", None), 300);
            assert_eq!(
                control::<usize, ()>(c"opt.oversize_threshold", None),
                128 * 1024
            );
        }
    }

    #[test]
    fn giving_back_memory_keeps_what_is_in_use() {
        let kept: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 64 * 1024]).collect();
        drop((0..64).map(|_| vec![1u8; 64 * 1024]).collect::<Vec<_>>());
        assert_eq!(super::purge(), 0);
        assert!(
            kept.iter()
                .enumerate()
                .all(|(i, b)| b.iter().all(|&x| x == i as u8))
        );
    }
}
