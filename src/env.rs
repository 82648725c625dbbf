//! Every environment variable scimbridge reads directly, in one place.
//!
//! Secret references (`${env:NAME}`) are resolved through [`var`]; the rest are named here so a
//! hygiene test can check that `std::env` is used nowhere else. Libraries read a few of their
//! own: reqwest the proxy variables (`HTTPS_PROXY`, `NO_PROXY`…), and on Linux
//! rustls-native-certs `SSL_CERT_FILE`/`SSL_CERT_DIR` as the OS store's location.

use std::path::PathBuf;

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

/// The variables that decide colour and progress (`cli::printer::decide`): `CLICOLOR_FORCE`,
/// `CLICOLOR` and `TERM` (bixense.com/clicolors), besides [`no_color`].
pub fn terminal_vars() -> TerminalVars {
    TerminalVars {
        no_color: no_color(),
        clicolor_force: var("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0"),
        clicolor_off: var("CLICOLOR").is_some_and(|v| v == "0"),
        term_dumb: var("TERM").is_some_and(|v| v == "dumb"),
    }
}

/// What [`terminal_vars`] read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TerminalVars {
    pub no_color: bool,
    pub clicolor_force: bool,
    pub clicolor_off: bool,
    pub term_dumb: bool,
}

/// `SSL_CERT_FILE`: a PEM bundle of CA certificates to trust (OpenSSL's name); unset or empty
/// is `None`.
pub fn ssl_cert_file() -> Option<PathBuf> {
    std::env::var_os("SSL_CERT_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `SSL_CERT_DIR`: directories of PEM files, separated as in `PATH` (OpenSSL's name).
pub fn ssl_cert_dirs() -> Vec<PathBuf> {
    std::env::var_os("SSL_CERT_DIR")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}
