fn main() -> std::process::ExitCode {
    tune_malloc();
    llm_parity::cli::main()
}

/// glibc's malloc keeps what its heaps grew to, and a run's memory comes and goes in large
/// pieces (a suite file's text and parser buffers while it compiles again, report buffers)
/// between many small long-lived ones (each finished case's entry): without these two settings
/// a 10,000-case run's peak RSS was over twice its heap (docs/performance.md, "Scale").
///
/// - Two arenas: glibc gives threads that allocate at the same time an arena each (up to 8 per
///   core) and keeps each at its peak.
/// - A fixed mmap threshold (glibc's default, 128 KiB): glibc otherwise raises the threshold to
///   the size of each large block freed (up to 32 MiB), after which such blocks are carved from
///   the heap and leave holes between long-lived entries that are never given back; mapped,
///   they are returned whole when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt sets one of malloc's tuning parameters; it is called first thing, before
    // any other thread exists or allocates.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
