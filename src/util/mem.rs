//! Giving freed memory back to the system.

/// Return the pages malloc holds free to the system (glibc keeps them, in every arena, at the
/// size it grew to). Called once loading is done: parsing the suite files took many times
/// their size for a short while, on several threads, and the run that follows would otherwise
/// carry that high-water mark as resident memory to its end.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn give_back_free_memory() {
    // SAFETY: malloc_trim only releases free memory of malloc's own heaps; it takes malloc's
    // locks like any allocation does and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_back_free_memory() {}
