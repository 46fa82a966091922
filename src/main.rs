fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    llm_parity::cli::main()
}

/// glibc's malloc gives threads that allocate at the same time an arena each (up to 8 per core)
/// and keeps what each arena grew to. A run's runtime threads each build report entries and
/// compile suite files again (`load::suite::Steps`), so a 10,000-case run's peak RSS was up
/// to twice its heap; two arenas keep it near the heap (docs/performance.md, "Scale").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt sets one of malloc's tuning parameters; it is called first thing, before
    // any other thread exists or allocates.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
