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
    purge();
}

/// jemalloc's `arena.<i>.purge` for every arena (`i` = 4096, MALLCTL_ARENAS_ALL): whether it
/// did. It takes no value in or out, and only releases pages no allocation uses.
#[cfg(unix)]
fn purge() -> bool {
    control::<(), ()>("arena.4096.purge", None).is_some()
}

#[cfg(not(unix))]
pub fn give_back_free_memory() {}

/// While one lives, jemalloc keeps the pages of freed blocks instead of giving them back over
/// its decay time (`dirty_decay_ms`, which gives back a share every few milliseconds, and at
/// once in the arena for large blocks), so that the blocks allocated next reuse them: in every
/// arena, those that exist and those created meanwhile (the arena of a thread that allocates
/// for the first time). For loading: parsing a large suite file part after part frees and
/// allocates the same buffers (the parser's events, a few hundred KiB a part); given back as
/// they went, the next parts faulted fresh pages in. Loading then gives back everything free
/// at its end ([`give_back_free_memory`]). When the last one is dropped, every arena's own
/// setting is back, and an arena created meanwhile gets the one it would have had.
#[cfg(unix)]
pub struct PagesKept(());

/// What the first [`PagesKept`] changed: the decay time of the arenas to come, and of each
/// arena that existed, before.
#[cfg(unix)]
struct Kept {
    holders: usize,
    default: Option<isize>,
    arenas: Vec<(u32, isize)>,
}

#[cfg(unix)]
static KEPT: std::sync::Mutex<Kept> = std::sync::Mutex::new(Kept {
    holders: 0,
    default: None,
    arenas: Vec::new(),
});

#[cfg(unix)]
impl PagesKept {
    pub fn new() -> Self {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        if kept.holders == 0 {
            // The arena for large blocks is created with the first such block.
            drop(std::hint::black_box(vec![0u8; 128 * 1024]));
            kept.default = control("arenas.dirty_decay_ms", Some(&mut -1isize));
            kept.arenas = (0..arenas())
                .filter_map(|i| decay_ms(i, -1).map(|before| (i, before)))
                .collect();
        }
        kept.holders += 1;
        PagesKept(())
    }
}

#[cfg(unix)]
impl Default for PagesKept {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(unix)]
impl Drop for PagesKept {
    fn drop(&mut self) {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        kept.holders -= 1;
        if kept.holders > 0 {
            return;
        }
        let arenas_before = std::mem::take(&mut kept.arenas);
        if let Some(mut default) = kept.default.take() {
            let _ = control::<isize, _>("arenas.dirty_decay_ms", Some(&mut default));
            // The arenas created meanwhile were given "kept" as theirs.
            for i in 0..arenas() {
                if !arenas_before.iter().any(|&(j, _)| j == i) {
                    let _ = decay_ms(i, default);
                }
            }
        }
        for (i, before) in arenas_before {
            let _ = decay_ms(i, before);
        }
    }
}

/// How many arenas jemalloc has (some maybe not created yet: their controls fail).
#[cfg(unix)]
fn arenas() -> u32 {
    control::<u32, ()>("arenas.narenas", None).unwrap_or(0)
}

#[cfg(not(unix))]
#[derive(Default)]
pub struct PagesKept;

#[cfg(not(unix))]
impl PagesKept {
    pub fn new() -> Self {
        PagesKept
    }
}

/// Set arena `i`'s dirty-page decay time to `ms` (-1: never, 0: at once); the time before.
#[cfg(unix)]
fn decay_ms(i: u32, mut ms: isize) -> Option<isize> {
    control(&format!("arena.{i}.dirty_decay_ms"), Some(&mut ms))
}

/// The types jemalloc's controls read and write here: plain numbers, any bytes of which are a
/// value (`unsigned`, `size_t`, `ssize_t`), or nothing.
#[cfg(unix)]
trait Plain: Default + Copy {}
#[cfg(unix)]
impl Plain for () {}
#[cfg(unix)]
impl Plain for u32 {}
#[cfg(unix)]
impl Plain for usize {}
#[cfg(unix)]
impl Plain for isize {}

/// jemalloc's control `name`: what it reads (a `T`), given `new` (or nothing) to write;
/// `None` if it fails or reads something of another size.
#[cfg(unix)]
fn control<T: Plain, N>(name: &str, new: Option<&mut N>) -> Option<T> {
    let name = std::ffi::CString::new(name).ok()?;
    let mut value = T::default();
    let size = std::mem::size_of::<T>();
    let mut len = size;
    let (newp, newlen) = match new {
        Some(n) => ((n as *mut N).cast(), std::mem::size_of::<N>()),
        None => (std::ptr::null_mut(), 0),
    };
    let (oldp, oldlenp) = if size == 0 {
        (std::ptr::null_mut(), std::ptr::null_mut())
    } else {
        ((&raw mut value).cast(), &raw mut len)
    };
    // SAFETY: `value` is a T of `len` bytes (or both pointers are null for a T of no size), and
    // `newp` points to `newlen` bytes or is null; any bytes jemalloc writes into a `Plain` T
    // are a T.
    let rc = unsafe { tikv_jemalloc_sys::mallctl(name.as_ptr(), oldp, oldlenp, newp, newlen) };
    (rc == 0 && len == size).then_some(value)
}

#[cfg(all(test, unix))]
mod tests {
    /// One of jemalloc's controls: what it reads into a T, given `new` (or nothing) to write.
    fn control<T: super::Plain, N>(name: &str, new: Option<&mut N>) -> T {
        super::control(name, new).unwrap_or_else(|| panic!("mallctl({name:?}) failed"))
    }

    #[test]
    fn jemalloc_is_the_allocator_and_started_with_our_options() {
        // A block from the global allocator belongs to one of jemalloc's arenas (`arenas.lookup`
        // fails for a pointer jemalloc did not hand out).
        let v = vec![0u8; 1000];
        let mut ptr = v.as_ptr();
        let _arena: u32 = control("arenas.lookup", Some(&mut ptr));
        // Unless the user (here, whoever runs the tests) overrides them.
        if std::env::var_os("_RJEM_MALLOC_CONF").is_none() {
            assert_eq!(control::<u32, ()>("opt.narenas", None), 2);
            assert_eq!(control::<isize, ()>("opt.dirty_decay_ms", None), 300);
            assert_eq!(
                control::<usize, ()>("opt.oversize_threshold", None),
                128 * 1024
            );
        }
    }

    /// While loading keeps freed pages, every arena's decay is off, an arena created meanwhile
    /// included; when the last holder is gone (another test may be loading at the same time),
    /// each arena's own setting is back, the new arena has the default, and blocks still come
    /// and go.
    #[test]
    fn pages_are_kept_while_loading_and_the_settings_come_back() {
        let decay =
            |i: u32| super::control::<isize, ()>(&format!("arena.{i}.dirty_decay_ms"), None);
        let existing = || -> Vec<(u32, isize)> {
            (0..super::arenas())
                .filter_map(|i| decay(i).map(|ms| (i, ms)))
                .collect()
        };
        let outer = super::PagesKept::new();
        let inner = super::PagesKept::new();
        let (saved, default) = {
            let kept = super::KEPT.lock().unwrap();
            (kept.arenas.clone(), kept.default.unwrap())
        };
        assert!(saved.len() >= 2, "{saved:?}");
        assert!(existing().iter().all(|&(_, ms)| ms == -1));
        // An arena created while pages are kept keeps them too.
        let created: u32 = control("arenas.create", None::<&mut ()>);
        assert_eq!(decay(created), Some(-1));
        drop(inner);
        // Still held by `outer`.
        assert!(existing().iter().all(|&(_, ms)| ms == -1));
        drop(
            (0..8)
                .map(|i| vec![i as u8; 300 * 1024])
                .collect::<Vec<_>>(),
        );
        drop(outer);
        let kept = super::KEPT.lock().unwrap();
        if kept.holders == 0 {
            for &(i, ms) in &saved {
                assert_eq!(decay(i), Some(ms), "arena {i}");
            }
            assert_eq!(decay(created), Some(default));
            assert_eq!(control::<isize, ()>("arenas.dirty_decay_ms", None), default);
            assert!(saved.iter().all(|&(_, ms)| ms != -1), "{saved:?}");
        }
        drop(kept);
        let v = vec![7u8; 300 * 1024];
        assert!(v.iter().all(|&x| x == 7));
    }

    #[test]
    fn giving_back_memory_keeps_what_is_in_use() {
        let kept: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 64 * 1024]).collect();
        drop((0..64).map(|_| vec![1u8; 64 * 1024]).collect::<Vec<_>>());
        assert!(super::purge());
        assert!(
            kept.iter()
                .enumerate()
                .all(|(i, b)| b.iter().all(|&x| x == i as u8))
        );
    }
}
