//! `scimbridge apply`: show the plan, confirm, execute it, then prove the result: re-read and
//! re-plan (converged only if nothing but manual steps remains) and check that users flow.
//!
//! What must hold: nothing is written before every refusal has had its chance (errors in the
//! config, hazards without `--allow-destroy`, a manual token handover without a usable
//! `--token-out`, no confirmation); a run with nothing to do sends no write at all.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use super::session::{Session, Transport};
use super::{Exit, Printer};
use crate::apply::applier::Applier;
use crate::apply::executor::{self, Outcome, Report};
use crate::apply::verify;
use crate::plan::render;
use crate::plan::{HandoverVia, Kind, Op, Plan};
use crate::providers::okta::{AppId, UserId};

/// How many actions run at once; Okta's rate limits are respected by the HTTP layer's pacing.
const CONCURRENCY: usize = 8;

/// Arguments of `scimbridge apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file.
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,

    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// Allow destructive or disruptive actions (deletes, `exact` removals beyond the cap).
    #[arg(long)]
    pub allow_destroy: bool,

    /// Where a bearer token for a manual console handover is written: a new file, mode 0600.
    #[arg(long, value_name = "FILE")]
    pub token_out: Option<PathBuf>,

    /// How long to wait for Okta's pushes before the data-flow check, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

pub fn run(args: Args, transport: &Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(apply(&args, transport, printer))
}

/// The whole apply, inside a runtime (also used by `demo`).
pub async fn apply(args: &Args, transport: &Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let session = Session::open(&args.config, transport, printer)?;
    let live = session.read().await?;
    let plan = session.plan(&live, printer)?;
    printer.out(&render::text(&plan, printer.color()));
    if plan.actions.iter().all(|a| matches!(a.op, Op::Manual)) {
        // Nothing to run: only the checks.
        return verify_and_report(&session, &plan, None, args, printer).await;
    }
    preflight(&plan, args)?;
    if !args.auto_approve && !confirm(&plan, printer)? {
        printer.err("Apply cancelled; nothing was changed.");
        return Ok(Exit::Error);
    }
    let applier = Applier::new(
        session.services.clone(),
        session.resolved.scim_client_secret.clone(),
        args.token_out.clone(),
    );
    printer.out(&format!("Applying {} actions…", plan.actions.len()));
    let report = executor::execute(&plan, Arc::new(applier), CONCURRENCY).await;
    printer.out(&outcomes(&plan, &report, args.token_out.as_deref()));
    verify_and_report(&session, &plan, Some(&report), args, printer).await
}

/// Refusals that must come before any change.
fn preflight(plan: &Plan, args: &Args) -> anyhow::Result<()> {
    let hazards: Vec<String> = plan
        .hazardous()
        .map(|a| format!("  {} ({})", a.resource, a.at))
        .collect();
    if !hazards.is_empty() && !args.allow_destroy {
        bail!(
            "the plan has {} destructive or disruptive action(s); review them and re-run with --allow-destroy:\n{}",
            hazards.len(),
            hazards.join("\n")
        );
    }
    let by_hand = plan.actions.iter().any(|a| {
        matches!(
            a.op,
            Op::MintToken {
                handover: HandoverVia::Manual | HandoverVia::Probe,
                ..
            }
        )
    });
    if by_hand {
        let Some(path) = &args.token_out else {
            bail!(
                "the plan mints a bearer token that may have to be handed to Okta by hand: give --token-out FILE (a new file; scimbridge writes the token there, mode 0600, and nowhere else)"
            );
        };
        if path.symlink_metadata().is_ok() {
            bail!(
                "{} already exists: --token-out must name a new file (remove it or name another)",
                path.display()
            );
        }
    }
    Ok(())
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

fn outcomes(plan: &Plan, report: &Report, token_out: Option<&Path>) -> String {
    let mut out = String::new();
    for (i, (action, outcome)) in plan.actions.iter().zip(&report.outcomes).enumerate() {
        let line = match outcome {
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
                if writes_token
                    && let Some(path) = token_out
                    && path.exists()
                {
                    line.push_str(&format!("; the token is in {} (mode 0600)", path.display()));
                }
                line
            }
            Outcome::Failed { error } => format!("  failed   {i:>2} {}: {error}", action.resource),
            Outcome::Waiting { on } => format!(
                "  waiting  {i:>2} {}: runs once manual step {on} is done (next apply)",
                action.resource
            ),
            Outcome::Skipped { because } => {
                format!(
                    "  skipped  {i:>2} {}: needs {because}, which did not succeed",
                    action.resource
                )
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!(
        "Applied: {} done, {} failed, {} skipped, {} manual pending, {} waiting on them.",
        report.done(),
        report.failed(),
        report.skipped(),
        report.manual_pending(),
        report.waiting()
    ));
    out
}

/// Re-reads, re-plans and checks the data flow; decides the exit code.
async fn verify_and_report(
    session: &Session,
    applied: &Plan,
    report: Option<&Report>,
    args: &Args,
    printer: &Printer,
) -> anyhow::Result<Exit> {
    let live = session.read().await?;
    let after = session.plan(&live, printer)?;
    // Manual steps, and what builds on them, are the person's turn, not unfinished work.
    let on_hold = |a: &crate::plan::Action| {
        a.kind == Kind::Manual
            || a.depends_on
                .iter()
                .any(|&d| after.actions[d].kind == Kind::Manual)
    };
    let remaining: Vec<_> = after.actions.iter().filter(|a| !on_hold(a)).collect();
    let manual = after
        .actions
        .iter()
        .filter(|a| a.kind == Kind::Manual)
        .count();
    let held = after.actions.len() - remaining.len() - manual;
    let failed = report.is_some_and(|r| r.failed() + r.skipped() > 0);
    if remaining.is_empty() {
        printer.out(&format!(
            "Verified: re-read both services and re-planned: converged{}.",
            if manual > 0 {
                format!(
                    " except {manual} manual step(s) still pending ({held} action(s) wait on them)"
                )
            } else {
                String::new()
            }
        ));
    } else {
        printer.out(&format!(
            "Verified: re-read both services and re-planned: NOT converged, {} action(s) remain:",
            remaining.len()
        ));
        for action in &remaining {
            printer.out(&format!("  {} ({})", action.resource, action.at));
        }
    }
    let flow_ok = match live.okta.app.as_ref() {
        Some(app) if app.features.iter().any(|f| f == "PUSH_NEW_USERS") => {
            let id = AppId(app.id.0.clone());
            let settled =
                verify::wait_for_pushes(&session.services, &id, Duration::from_secs(args.wait))
                    .await?;
            if !settled {
                printer.out(&format!(
                    "Data flow: Okta is still pushing after {}s; checking what arrived so far.",
                    args.wait
                ));
            }
            let unassigned: Vec<UserId> = applied
                .actions
                .iter()
                .filter_map(|a| match &a.op {
                    Op::UnassignUser { user, .. } => Some(UserId(user.0.clone())),
                    _ => None,
                })
                .collect();
            let problems =
                verify::data_flow(session.desired(), &session.services, &id, &unassigned).await?;
            let assigned = app.users.len();
            if problems.is_empty() {
                printer.out(&format!(
                    "Data flow: all {assigned} user(s) assigned in Okta are in WS1's directory with the expected attributes."
                ));
                true
            } else {
                printer.out(&format!(
                    "Data flow: {} user(s) are not in WS1 as expected:",
                    problems.len()
                ));
                for user in &problems {
                    for problem in &user.problems {
                        printer.out(&format!(
                            "  {} (userName {}): {problem}",
                            user.login, user.user_name
                        ));
                    }
                }
                false
            }
        }
        _ => {
            printer.out("Data flow: not checked yet: provisioning is not on in Okta (the manual steps above).");
            true
        }
    };
    Ok(if failed || !remaining.is_empty() || !flow_ok {
        Exit::Error
    } else if manual > 0 {
        Exit::ManualPending
    } else {
        Exit::Ok
    })
}
