//! What the benchmarks share: reading the process's peak memory.

/// Peak resident memory of this process (`VmHWM` in `/proc/self/status`), in KiB; 0 where
/// the platform does not report it.
pub fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
