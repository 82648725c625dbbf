//! Every environment variable scimbridge reads directly, in one place.
//!
//! Secret references (`${env:NAME}`) are resolved through [`var`]; the rest are named here so a
//! hygiene test can check that `std::env` is used nowhere else.

/// Reads an environment variable; `None` when unset or not UTF-8.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `RUST_LOG`, the log filter.
pub fn rust_log() -> Option<String> {
    var("RUST_LOG")
}

/// `NO_COLOR` set to anything non-empty turns colour off (no-color.org).
pub fn no_color() -> bool {
    var("NO_COLOR").is_some_and(|v| !v.is_empty())
}
