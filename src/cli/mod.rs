//! The command line: argument parsing, logging set-up and exit codes.
//!
//! Commands are thin: each resolves its settings and calls the library. All text leaves through
//! [`printer::Printer`]; exit codes are defined once, in [`Exit`].

mod apply;
mod demo;
mod drift;
mod import;
mod plan;
mod printer;
mod progress;
mod sandbox;
mod schema;
mod session;
mod validate;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use printer::Printer;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success; no changes
  1  error
  2  changes present, manual steps included (plan --detailed-exitcode); drift found (drift)
  3  apply converged except for manual steps still pending";

/// Okta → Workspace ONE Access SCIM provisioning as reviewed, repeatable configuration.
#[derive(Debug, Parser)]
#[command(name = "scimbridge", version, about, after_help = EXIT_CODES_HELP)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// No progress line on stderr (it is drawn only on a terminal, after a second of work).
    #[arg(short, long, global = true)]
    quiet: bool,

    #[command(flatten)]
    transport: session::Transport,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and lint a config file; no network.
    Validate(validate::Args),
    /// Read both services and print what apply would change; sends reads only.
    Plan(plan::Args),
    /// Apply the plan: change what differs, then verify convergence and the data flow.
    Apply(apply::Args),
    /// Write the config of an integration built by hand (reads only); without selectors, list
    /// the candidates. Exit 0 when it plans no change, 2 when it still plans some.
    Import(import::Args),
    /// Report config, token and data-flow drift for a scheduled job; reads only.
    /// Exit 0 no drift, 2 drift, 1 could not tell.
    Drift(drift::Args),
    /// Run `drift` (alert mode) or apply what drifted (reconcile mode) on an interval, serving
    /// /healthz, /readyz and /metrics; reads the config again for every run; ends cleanly on
    /// SIGTERM.
    Watch(watch::Args),
    /// The whole flow against the sandbox: plan, apply, the console step, users in WS1, no-op plan.
    Demo(demo::Args),
    /// Print the config's JSON Schema.
    Schema(schema::Args),
    /// Run both emulators on 127.0.0.1 until interrupted; print URLs and `export` lines.
    Sandbox(sandbox::Args),
}

/// The process exit codes, stated once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success; for `plan --detailed-exitcode`, no changes.
    Ok = 0,
    /// Any error.
    Error = 1,
    /// Changes present (manual steps included).
    Changes = 2,
    /// `apply` converged except for manual steps still pending.
    ManualPending = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout and usage errors to stderr itself.
            let _ = err.print();
            return if err.use_stderr() {
                Exit::Error
            } else {
                Exit::Ok
            }
            .into();
        }
    };
    init_logging(cli.verbose);
    scrub_panics();
    let printer = Printer::from_env(cli.quiet);
    // Not while apply may ask for approval: the line would cover the question.
    let label = match &cli.command {
        Command::Plan(_) => Some("plan"),
        Command::Drift(_) => Some("drift"),
        Command::Import(_) => Some("import"),
        Command::Apply(args) if args.auto_approve => Some("apply"),
        _ => None,
    };
    let progress = progress::Progress::start(label.filter(|_| printer.progress()));
    let result = match cli.command {
        Command::Validate(args) => validate::run(args, &printer),
        Command::Plan(args) => plan::run(args, &cli.transport, &printer),
        Command::Apply(args) => apply::run(args, &cli.transport, &printer),
        Command::Drift(args) => drift::run(args, &cli.transport, &printer),
        Command::Import(args) => import::run(args, &cli.transport, &printer),
        Command::Watch(args) => watch::run(args, &cli.transport, &printer),
        Command::Demo(args) => demo::run(args, &printer),
        Command::Schema(args) => schema::run(args, &printer),
        Command::Sandbox(args) => sandbox::run(args, &printer),
    };
    drop(progress);
    match result {
        Ok(exit) => exit.into(),
        Err(err) if err.is::<session::Reported>() => {
            printer.err(&format!("error: {err}"));
            Exit::Error.into()
        }
        Err(err) => {
            printer.error(&err);
            Exit::Error.into()
        }
    }
}

/// A panic's message and location go through the scrubber like everything else printed: a
/// bug must not be the way a secret reaches a terminal or a CI log.
fn scrub_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let text = format!("scimbridge panicked{at}: {message}\nthis is a bug: please report it\n");
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            crate::secret::scrub(&text).as_bytes(),
        );
    }));
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = crate::env::rust_log()
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(printer::LogWriter)
        .with_ansi(false)
        .try_init();
}
