//! `scimbridge watch`: `drift` (alert mode) or `apply` of what drifted (reconcile mode) on an
//! interval, with `/healthz`, `/readyz` and `/metrics` served meanwhile (`crate::watch`).
//!
//! What must hold: every run loads the config again (a merged change is picked up without a
//! restart) and opens a fresh session, so one run's failure is not the next one's; a run that
//! cannot tell is recorded, backed off and served as degraded, never the end of the process;
//! reconcile mode applies exactly what `apply --auto-approve` would, under the same refusals
//! (removals need `--allow-destroy`; a token for a console handover is never minted here, as
//! there is nobody to paste it), and manual steps stay pending; SIGTERM or Ctrl-C ends the
//! process at once, except during an apply's writes, which get [`GRACE`] to finish.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::session;
use super::{Exit, Printer};
use crate::apply::drift;
use crate::apply::operation::{self, ApplyResult, Options};
use crate::config::Selection;
use crate::plan::Op;
use crate::watch::{self, Observation, RunResult, Status};

/// How long an apply's writes may go on after SIGTERM before they are cut (Kubernetes waits
/// 30 s before it kills).
const GRACE: Duration = Duration::from_secs(20);

/// Arguments of `scimbridge watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: session::ConfigFiles,

    /// Time between runs, such as `15m`, `1h` or `30s`; each wait varies by ±10%, and doubles
    /// per failed run in a row (at most an hour).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = interval)]
    interval: Duration,

    /// `alert`: report drift (reads only). `reconcile`: apply what drifted, as
    /// `apply --auto-approve` would.
    #[arg(long, value_enum, default_value_t = Mode::Alert)]
    mode: Mode,

    /// Serve /healthz, /readyz and /metrics here (`0.0.0.0:9184` in a container; port 0
    /// picks a free one, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9184")]
    listen: SocketAddr,

    /// Reconcile mode: also apply destructive or disruptive actions (removals beyond the cap,
    /// deletes). Without it such a plan is left as drift for a person.
    #[arg(long)]
    allow_destroy: bool,

    /// Reconcile mode: how long to wait for Okta's pushes before the data-flow check, in
    /// seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    wait: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    Alert,
    Reconcile,
}

impl Mode {
    fn word(self) -> &'static str {
        match self {
            Mode::Alert => "alert",
            Mode::Reconcile => "reconcile",
        }
    }
}

fn interval(text: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(text).map_err(|e| {
        format!("{e}: write a duration with its unit, such as `15m`, `1h` or `30s`")
    })?;
    if interval < Duration::from_secs(1) {
        return Err("the interval is at least 1s".into());
    }
    Ok(interval)
}

/// How a run ended.
struct Ran {
    result: RunResult,
    observed: Option<Observation>,
    reason: Option<String>,
    /// The drift report the run found, for stdout.
    report: Option<String>,
}

impl Ran {
    fn told(result: RunResult, observed: Observation, reason: Option<String>) -> Self {
        Ran {
            result,
            observed: Some(observed),
            reason,
            report: None,
        }
    }
}

/// Prints a drift report unless it says what the last one printed said (the first line, with
/// the time of the read, aside): a watcher's log shows each change of drift once.
fn print_report(report: Option<String>, last: &mut Option<String>, printer: &Printer) {
    let Some(report) = report else {
        *last = None;
        return;
    };
    let findings = report
        .split_once('\n')
        .map_or("", |(_, rest)| rest)
        .to_owned();
    if last.as_ref() == Some(&findings) {
        printer.err("watch: the same drift as the run before (report above)");
    } else {
        printer.out(&report);
        *last = Some(findings);
    }
}

pub fn run(args: Args, transport: &session::Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let selection = args.config.select()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(watch_loop(&args, &selection, transport, printer))
}

async fn watch_loop(
    args: &Args,
    selection: &Selection,
    transport: &session::Transport,
    printer: &Printer,
) -> anyhow::Result<Exit> {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = stop_tx.send(true);
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let status = Status::new(args.mode.word(), args.interval);
    let server = tokio::spawn(watch::serve(listener, status.clone()));
    printer.err(&format!(
        "watch: {} every {} (±10%) on -c {}; /healthz, /readyz and /metrics at http://{addr}",
        args.mode.word(),
        humantime::format_duration(args.interval),
        selection.shown(),
    ));
    let mut last_report = None;
    while !*stop.borrow() {
        let started = Instant::now();
        let mut ran = match one_run(args, selection, transport, printer, stop.clone()).await {
            Ok(Some(ran)) => ran,
            Ok(None) => break,
            Err(err) => {
                printer.error(&err);
                Ran {
                    result: RunResult::Error,
                    observed: None,
                    reason: Some(format!("{err:#}")),
                    report: None,
                }
            }
        };
        if ran.result != RunResult::Error {
            print_report(ran.report.take(), &mut last_report, printer);
        }
        let wait = {
            let mut status = watch::lock(&status);
            status.record(
                ran.result,
                started.elapsed(),
                ran.observed.as_ref(),
                ran.reason,
            );
            let wait = watch::next_wait(
                args.interval,
                status.consecutive_failures(),
                watch::random_fraction(),
            );
            status.next_run_in(wait);
            wait
        };
        printer.err(&format!(
            "watch: {} in {:.1} s; next run in {}",
            ran.result.word(),
            started.elapsed().as_secs_f64(),
            humantime::format_duration(Duration::from_secs(
                (wait.as_secs_f64().round() as u64).max(1)
            )),
        ));
        let mut stop = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
    server.abort();
    printer.err("watch: stopped");
    Ok(Exit::Ok)
}

/// One run: `None` when a stop cut it (reads only, or an apply past its grace).
async fn one_run(
    args: &Args,
    selection: &Selection,
    transport: &session::Transport,
    printer: &Printer,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<Ran>> {
    // Reading and planning write nothing: a stop cuts them at once.
    let looked = tokio::select! {
        looked = super::drift::look(selection, transport, printer) => looked?,
        _ = stop.wait_for(|s| *s) => return Ok(None),
    };
    let (session, live, report) = looked;
    let observed = Observation::of(&report);
    if !report.drift {
        return Ok(Some(Ran::told(RunResult::Clean, observed, None)));
    }
    let text = Some(drift::text(&report));
    let plan = report.plan;
    let told = |result, observed, reason| Ran {
        report: text.clone(),
        ..Ran::told(result, observed, reason)
    };
    if args.mode == Mode::Alert {
        return Ok(Some(told(RunResult::Drift, observed, None)));
    }
    if !operation::runnable(&plan) {
        let manual = plan.actions.iter().any(|a| matches!(a.op, Op::Manual));
        let result = if manual {
            RunResult::Pending
        } else {
            RunResult::Drift
        };
        return Ok(Some(told(result, observed, None)));
    }
    let options = Options {
        allow_destroy: args.allow_destroy,
        token_out: None,
        wait: Duration::from_secs(args.wait),
    };
    if let Err(err) = operation::preflight(&plan, &options) {
        let reason = format!("{err:#}");
        printer.err(&format!("watch: left for a person: {reason}"));
        return Ok(Some(told(RunResult::Blocked, observed, Some(reason))));
    }
    printer.err(&format!(
        "watch: reconciling {} action(s)",
        plan.actions.len()
    ));
    let apply = operation::run(&session, &live, plan, None, &options);
    tokio::pin!(apply);
    let report = tokio::select! {
        report = &mut apply => report?,
        _ = stop.wait_for(|s| *s) => {
            printer.err(&format!(
                "watch: stopping; the apply under way gets {} s to finish its writes",
                GRACE.as_secs()
            ));
            match tokio::time::timeout(GRACE, &mut apply).await {
                Ok(report) => report?,
                Err(_) => anyhow::bail!(
                    "stopped during an apply after {} s of grace; its lease lapses within {} minutes and the next run picks up where it ended",
                    GRACE.as_secs(),
                    crate::apply::lease::LEASE_FOR
                ),
            }
        }
    };
    let [done, failed, ..] = report.counts();
    let result = match report.result {
        ApplyResult::Converged => RunResult::Reconciled,
        ApplyResult::ManualPending => RunResult::Pending,
        ApplyResult::Failed => RunResult::Error,
    };
    let reason = (result == RunResult::Error).then(|| {
        format!(
            "{failed} action(s) failed, {} remain after the re-read",
            report.remaining.len()
        )
    });
    // What the pair looks like now: the evidence comes after the writes, not before.
    let mut after = match super::drift::look(selection, transport, printer).await {
        Ok((_, _, now)) => Observation::of(&now),
        Err(err) => {
            printer.error(&err.context("cannot re-read after reconciling"));
            observed
        }
    };
    after.applied = done as u64;
    Ok(Some(Ran {
        report: text,
        ..Ran::told(result, after, reason)
    }))
}
