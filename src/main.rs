//! The `scimbridge` binary: everything is in the library (`scimbridge::cli`).

fn main() -> std::process::ExitCode {
    tune_allocator();
    scimbridge::cli::main()
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, so a read's
/// growing lists and page bodies end up inside the heap, where a copy on growth doubles them and
/// freed ones leave holes it cannot return: at 100,000 users that was a fifth of the peak
/// resident memory. A fixed threshold keeps large blocks mapped (grown in place by `mremap`,
/// given back when freed). benches/scale.rs shows the effect.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}
