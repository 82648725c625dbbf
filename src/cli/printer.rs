//! The one output door: machine output to stdout, diagnostics and progress to stderr.
//!
//! Nothing else in the crate prints; a hygiene test checks that `println!`/`eprintln!` appear
//! only here.

use std::io::{IsTerminal, Write};

/// Writes everything the user sees.
#[derive(Debug, Clone)]
pub struct Printer {
    color: bool,
}

impl Printer {
    /// Colour only on a terminal, never with `NO_COLOR` set.
    pub fn from_env() -> Self {
        let color = std::io::stdout().is_terminal() && !crate::env::no_color();
        Self { color }
    }

    /// A printer that never colours (tests, files).
    pub fn plain() -> Self {
        Self { color: false }
    }

    /// Whether output may carry ANSI colour.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Machine or primary output, to stdout.
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stdout.write_all(b"\n");
        }
    }

    /// Diagnostics and progress, to stderr.
    pub fn err(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stderr.write_all(b"\n");
        }
    }

    /// An error with its whole cause chain, printed once, at the edge.
    pub fn error(&self, err: &anyhow::Error) {
        let mut text = format!("error: {err}");
        for cause in err.chain().skip(1) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        self.err(&text);
    }
}
