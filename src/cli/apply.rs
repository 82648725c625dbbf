//! `scimbridge apply`: show the plan, confirm, then hand the plan to the apply operation
//! ([`crate::apply::operation`]) and render its report: text for people, versioned JSON for
//! tools. The operation decides; this file only asks, renders and maps the result to an exit
//! code.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use super::session;
use super::{Exit, Printer};
use crate::apply::executor::Outcome;
use crate::apply::operation::{self, ApplyReport, ApplyResult, Options};
use crate::apply::saved::SavedPlan;
use crate::plan::render;
use crate::plan::{AdminIntent, Op, Plan};
use crate::state::note::Handover;

/// Arguments of `scimbridge apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved by `scimbridge plan --out`: applied exactly, or refused before any write
    /// when the config, the tenants, anything it read or the token's state changed since.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,

    /// The config file (with a saved plan: the one it was made from, by default).
    #[arg(short, long, value_name = "FILE", required_unless_present = "plan")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub overlays: session::Overlays,

    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// Allow destructive or disruptive actions (deletes, `exact` removals beyond the cap).
    #[arg(long)]
    pub allow_destroy: bool,

    /// Where a bearer token for a manual console handover is written: a new file, mode 0600.
    #[arg(long, value_name = "FILE")]
    pub token_out: Option<PathBuf>,

    /// You pasted the pending token into Okta's console step: record the handover as confirmed.
    /// Needed where Okta shows nothing that tells which token it holds (a rotation).
    #[arg(long, conflicts_with_all = ["reissue_token", "plan"])]
    pub confirm_handover: bool,

    /// Mint a fresh token for the console handover (the pending one's file is lost, or the
    /// current token is suspected leaked); needs --token-out for the new one.
    #[arg(long, conflicts_with = "plan")]
    pub reissue_token: bool,

    /// How long to wait for Okta's pushes before the data-flow check, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,

    /// Output format: `text` for people, `json` for tools (the apply report, versioned).
    #[arg(long, value_enum, default_value_t = ApplyFormat::Text)]
    pub format: ApplyFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    Text,
    Json,
}

pub fn run(args: Args, transport: &session::Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(apply(&args, transport, printer))
}

async fn apply(
    args: &Args,
    transport: &session::Transport,
    printer: &Printer,
) -> anyhow::Result<Exit> {
    let text = args.format == ApplyFormat::Text;
    let (session, before, plan) = match &args.plan {
        Some(file) => {
            // A reviewed plan: applied as it is, or refused before any write.
            let saved = SavedPlan::load(file)?;
            let config = match &args.config {
                Some(config) => args.overlays.select(config)?,
                None if args.overlays.any() => {
                    bail!(
                        "-e and --overlay go with -c; without -c, the saved plan's own files are read"
                    )
                }
                None => saved.selection(),
            };
            let session = session::open(&config, transport, printer)?;
            let live = session.read().await?;
            saved.check(&session, &live).await?;
            if text {
                printer.out(&format!(
                    "Applying the saved plan {}: nothing it read has changed since it was made.",
                    file.display()
                ));
            }
            (session, live, saved.plan)
        }
        None => {
            let config = args.overlays.select(
                args.config
                    .as_ref()
                    .expect("clap requires -c without a plan"),
            )?;
            let intent = AdminIntent {
                confirm_handover: args.confirm_handover,
                reissue_token: args.reissue_token,
            };
            session::open_and_plan(&config, transport, intent, printer).await?
        }
    };
    if text {
        printer.out(&render::text(&plan, printer.color()));
    }
    let pending = plan
        .token
        .newest
        .as_ref()
        .is_some_and(|t| t.handover == Handover::Pending);
    if args.confirm_handover && !pending {
        bail!(
            "--confirm-handover: no console handover is pending, so there is nothing to confirm ({})",
            plan.token.summary()
        );
    }
    let options = Options {
        allow_destroy: args.allow_destroy,
        token_out: args.token_out.clone(),
        wait: Duration::from_secs(args.wait),
    };
    let token_file = if operation::runnable(&plan) {
        let reserved = operation::preflight(&plan, &options)?;
        if !args.auto_approve && !confirm(&plan, printer)? {
            printer.err("Apply cancelled; nothing was changed.");
            return Ok(Exit::Error);
        }
        if text {
            printer.out(&format!("Applying {} actions…", plan.actions.len()));
        }
        reserved
    } else {
        None
    };
    let report = operation::run(&session, &before, plan, token_file, &options).await?;
    printer.out(&if text {
        render_text(&report)
    } else {
        let mut json = serde_json::to_string_pretty(&report).context("cannot render the report")?;
        json.push('\n');
        json
    });
    Ok(match report.result {
        ApplyResult::Converged => Exit::Ok,
        ApplyResult::ManualPending => Exit::ManualPending,
        ApplyResult::Failed => Exit::Error,
    })
}

/// Asks on the terminal; refuses when there is none.
fn confirm(plan: &Plan, printer: &Printer) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("no terminal to confirm on: re-run with --auto-approve to apply without asking");
    }
    printer.err(&format!(
        "Apply these {} actions? Only `yes` is accepted:",
        plan.actions.len()
    ));
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(answer.trim() == "yes")
}

/// The report for people: each action's outcome, then the proof.
fn render_text(report: &ApplyReport) -> String {
    let mut out = String::new();
    if !report.outcomes.is_empty() {
        out.push_str(&outcomes(report));
        out.push('\n');
    }
    let after = &report.after;
    if report.remaining.is_empty() {
        let manual = report.manual.len();
        out.push_str(&format!(
            "Verified: re-read both services and re-planned: converged{}.\n",
            if manual > 0 {
                format!(
                    " except {manual} manual step(s) still pending ({} action(s) wait on them)",
                    report.waiting.len()
                )
            } else {
                String::new()
            }
        ));
    } else {
        out.push_str(&format!(
            "Verified: re-read both services and re-planned: NOT converged, {} action(s) remain:\n",
            report.remaining.len()
        ));
        for &i in &report.remaining {
            let action = &after.actions[i];
            out.push_str(&format!("  {} ({})\n", action.resource, action.at));
        }
    }
    let flow = &report.data_flow;
    match &flow.not_checked {
        Some(why) => out.push_str(&format!("Data flow: not checked yet: {why}.\n")),
        None => {
            if !flow.settled {
                out.push_str("Data flow: Okta is still pushing; checking what arrived so far.\n");
            }
            if flow.problems.is_empty() {
                out.push_str(&format!(
                    "Data flow: all {} user(s) assigned in Okta are in WS1's directory with the expected attributes.\n",
                    flow.users
                ));
            } else {
                out.push_str(&format!(
                    "Data flow: {} user(s) are not in WS1 as expected:\n",
                    flow.problems.len()
                ));
                for user in &flow.problems {
                    for problem in &user.problems {
                        out.push_str(&format!(
                            "  {} (userName {}): {problem}\n",
                            user.login, user.user_name
                        ));
                    }
                }
            }
        }
    }
    out
}

fn outcomes(report: &ApplyReport) -> String {
    let plan = &report.plan;
    let mut out = String::new();
    for o in &report.outcomes {
        let (i, action) = (o.index, &plan.actions[o.index]);
        let line = match &o.outcome {
            Outcome::Done => format!("  done     {i:>2} {}", action.resource),
            Outcome::ManualPending => {
                let mut line = format!(
                    "  manual   {i:>2} {}: yours to do (step {i} above)",
                    action.resource
                );
                let writes_token = matches!(
                    action.op,
                    Op::RecordPendingHandover { .. } | Op::ConnectOrHandOver { .. }
                );
                if writes_token && let Some(path) = &report.token_file {
                    line.push_str(&format!("; the token is in {path} (mode 0600)"));
                }
                line
            }
            Outcome::Failed { error } => format!("  failed   {i:>2} {}: {error}", action.resource),
            Outcome::Waiting { on } => format!(
                "  waiting  {i:>2} {}: runs once manual step {on} is done (next apply)",
                action.resource
            ),
            Outcome::Skipped { because } => format!(
                "  skipped  {i:>2} {}: needs {because}, which did not succeed",
                action.resource
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let [done, failed, skipped, manual, waiting] = report.counts();
    out.push_str(&format!(
        "Applied: {done} done, {failed} failed, {skipped} skipped, {manual} manual pending, {waiting} waiting on them."
    ));
    out
}
