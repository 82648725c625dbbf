//! The one output door: machine output to stdout, diagnostics and progress to stderr.
//!
//! Nothing else in the crate prints; a hygiene test checks that `println!`/`eprintln!` appear
//! only here. Everything written here, log lines included ([`LogWriter`]), goes through
//! [`secret::scrub`] first, so no credential we hold is printed, whoever put it in the text.

use std::io::{IsTerminal, Write};

use crate::secret;

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
        let text = secret::scrub(text);
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stdout.write_all(b"\n");
        }
    }

    /// Diagnostics and progress, to stderr.
    pub fn err(&self, text: &str) {
        let text = secret::scrub(text);
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

/// The tracing subscriber's writer: each formatted event is gathered, scrubbed and written to
/// stderr in one piece, so our own log lines and those of reqwest, hyper and rustls at any
/// `RUST_LOG` level are covered.
pub struct LogWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogEvent;

    fn make_writer(&'a self) -> LogEvent {
        LogEvent(Vec::new())
    }
}

/// One event being formatted; written out when the subscriber drops it.
pub struct LogEvent(Vec<u8>);

impl Write for LogEvent {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogEvent {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::stderr()
            .lock()
            .write_all(secret::scrub(&text).as_bytes());
    }
}
