//! The one output door: machine output to stdout, diagnostics and progress to stderr.
//!
//! Nothing else in the crate prints; a hygiene test checks that `println!`/`eprintln!` appear
//! only here. Everything written here, log lines included ([`LogWriter`]), goes through
//! [`secret::scrub`] first, so no credential we hold is printed, whoever put it in the text.

use std::io::{IsTerminal, Write};

use crate::secret;

/// How output is dressed: colour on stdout, a progress line on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub color: bool,
    pub progress: bool,
}

/// The one place colour and progress are decided. Colour: never with `NO_COLOR`, always with
/// `CLICOLOR_FORCE` (not "0"), else only on a terminal that is not `TERM=dumb` and without
/// `CLICOLOR=0`. Progress: only when stderr is a terminal that can redraw a line (not
/// `TERM=dumb`) and `--quiet` is not given; never in a pipe or a CI log.
pub fn decide(
    vars: crate::env::TerminalVars,
    stdout_terminal: bool,
    stderr_terminal: bool,
    quiet: bool,
) -> Decision {
    let color = !vars.no_color
        && (vars.clicolor_force || (stdout_terminal && !vars.term_dumb && !vars.clicolor_off));
    let progress = stderr_terminal && !vars.term_dumb && !quiet;
    Decision { color, progress }
}

/// Writes everything the user sees.
#[derive(Debug, Clone)]
pub struct Printer {
    color: bool,
    progress: bool,
}

impl Printer {
    /// Colour and progress as [`decide`] rules for this process.
    pub fn from_env(quiet: bool) -> Self {
        let d = decide(
            crate::env::terminal_vars(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
            quiet,
        );
        Self {
            color: d.color,
            progress: d.progress,
        }
    }

    /// Whether a progress line may be drawn on stderr.
    pub fn progress(&self) -> bool {
        self.progress
    }

    /// A printer that never colours (tests, files).
    pub fn plain() -> Self {
        Self {
            color: false,
            progress: false,
        }
    }

    /// Whether output may carry ANSI colour.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Machine or primary output, to stdout.
    pub fn out(&self, text: &str) {
        let text = secret::scrub(text);
        super::progress::suspend(|| {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = stdout.write_all(b"\n");
            }
        });
    }

    /// Diagnostics and progress, to stderr.
    pub fn err(&self, text: &str) {
        let text = secret::scrub(text);
        super::progress::suspend(|| {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = stderr.write_all(b"\n");
            }
        });
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
        super::progress::suspend(|| {
            let _ = std::io::stderr()
                .lock()
                .write_all(secret::scrub(&text).as_bytes());
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{Decision, decide};
    use crate::env::TerminalVars;

    #[test]
    fn colour_and_progress_follow_the_terminal_and_the_conventions() {
        let none = TerminalVars::default();
        let d = |vars, out, err, quiet| decide(vars, out, err, quiet);
        let both = Decision {
            color: true,
            progress: true,
        };
        let neither = Decision {
            color: false,
            progress: false,
        };
        assert_eq!(d(none, true, true, false), both, "a terminal");
        assert_eq!(d(none, false, false, false), neither, "piped");
        assert_eq!(
            d(none, false, true, false),
            Decision {
                color: false,
                progress: true
            },
            "stdout piped, stderr a terminal"
        );
        assert!(!d(none, true, true, true).progress, "--quiet");
        assert!(d(none, true, true, true).color, "--quiet keeps colour");
        let no_color = TerminalVars {
            no_color: true,
            clicolor_force: true,
            ..none
        };
        assert!(!d(no_color, true, true, false).color, "NO_COLOR wins");
        let force = TerminalVars {
            clicolor_force: true,
            ..none
        };
        assert!(
            d(force, false, false, false).color,
            "CLICOLOR_FORCE in a pipe"
        );
        assert!(
            !d(force, false, false, false).progress,
            "never progress in a pipe"
        );
        let dumb = TerminalVars {
            term_dumb: true,
            ..none
        };
        assert_eq!(d(dumb, true, true, false), neither, "TERM=dumb");
        let off = TerminalVars {
            clicolor_off: true,
            ..none
        };
        assert!(!d(off, true, true, false).color, "CLICOLOR=0");
        assert!(
            d(off, true, true, false).progress,
            "CLICOLOR=0 is about colour"
        );
    }
}
