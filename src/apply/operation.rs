//! The apply operation: refuse what must be refused, execute a plan, and prove the result.
//!
//! [`preflight`] holds every refusal that must come before the first write; [`run`] executes a
//! plan (made now, or saved and reviewed) and proves it: it re-reads both services, re-plans as a
//! plain run would, and checks the data flow. It returns an [`ApplyReport`], a value: the CLI
//! only renders it (text, or versioned JSON), and a saved plan, `drift` or a future `watch` call
//! the same code. The exit decision is the report's ([`ApplyReport::result`]).
//!
//! What must hold: nothing is written before every refusal has had its chance (hazards without
//! `--allow-destroy`, a manual token handover without a usable `--token-out`); a plan whose
//! actions are all manual sends no write; the proof plans without the admin's intent, so
//! `--confirm-handover` or `--reissue-token` never carry into it; "waits on" is decided by
//! [`Plan::waiting_on`] alone.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use super::applier::Applier;
use super::dataflow::UserReport;
use super::executor::{self, Outcome, Report};
use super::lease;
use super::session::{PlanError, Session};
use super::token_file::TokenFile;
use super::verify;
use crate::plan::{AdminIntent, HandoverVia, Kind, Op, Plan};
use crate::state::{AppUserLive, Live, OktaUserId};

/// The version of the report's JSON shape.
pub const FORMAT_VERSION: u32 = 1;

/// How many actions run at once; Okta's rate limits are respected by the HTTP layer's pacing.
const CONCURRENCY: usize = 8;

/// What the admin allowed and asked for.
#[derive(Clone, Debug)]
pub struct Options {
    /// Destructive or disruptive actions may run.
    pub allow_destroy: bool,
    /// Where a token for a manual handover goes.
    pub token_out: Option<PathBuf>,
    /// How long to wait for Okta's pushes before the data-flow check.
    pub wait: Duration,
}

/// The refusals that must come before any change; reserves the `--token-out` file when the plan
/// may need it, so a bad path stops the run before the first write.
pub fn preflight(plan: &Plan, options: &Options) -> anyhow::Result<Option<TokenFile>> {
    let hazards: Vec<String> = plan
        .hazardous()
        .map(|a| format!("  {} ({})", a.resource, a.at))
        .collect();
    if !hazards.is_empty() && !options.allow_destroy {
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
    if !by_hand {
        return Ok(None);
    }
    let Some(path) = &options.token_out else {
        bail!(
            "the plan mints a bearer token that may have to be handed to Okta by hand: give --token-out FILE (a new file; scimbridge writes the token there, mode 0600, and nowhere else)"
        );
    };
    let file = TokenFile::reserve(path).context(
        "--token-out must name a new file in an existing directory; nothing was changed",
    )?;
    Ok(Some(file))
}

/// Whether the plan has anything for scimbridge to run now: an action that is not a manual
/// step and does not build on one (manual steps, and what waits on them, are the admin's).
pub fn runnable(plan: &Plan) -> bool {
    runs_now(plan).next().is_some()
}

/// The actions scimbridge runs now: neither manual steps nor waiting on one.
fn runs_now(plan: &Plan) -> impl Iterator<Item = &crate::plan::Action> {
    let manual = |i: usize| matches!(plan.actions[i].op, Op::Manual);
    (0..plan.actions.len())
        .filter(move |&i| !manual(i) && plan.waiting_on(i, manual).is_none())
        .map(|i| &plan.actions[i])
}

/// Whether every action that runs now is an adoption.
fn adopting_only(plan: &Plan) -> bool {
    runs_now(plan).all(|a| a.kind == Kind::Adopt)
}

/// What happened to one action of the applied plan.
#[derive(Clone, Debug, Serialize)]
pub struct ActionOutcome {
    pub index: usize,
    pub resource: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The data-flow check after applying.
#[derive(Clone, Debug, Serialize)]
pub struct DataFlow {
    pub checked: bool,
    /// Why not, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
    /// Whether Okta's pushes settled within the wait.
    pub settled: bool,
    /// App users compared with WS1.
    pub users: usize,
    pub problems: Vec<UserReport>,
}

/// How the apply ended; decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyResult {
    /// Everything converged and users flow.
    Converged,
    /// Converged except for manual steps (and what waits on them).
    ManualPending,
    /// An action failed, something remains, or users do not arrive as configured.
    Failed,
}

/// Everything an apply did and proved, for the CLI to render.
#[derive(Clone, Debug, Serialize)]
pub struct ApplyReport {
    pub format_version: u32,
    /// The plan that was applied.
    pub plan: Plan,
    /// Per action, in plan order; empty when nothing was for scimbridge to run.
    pub outcomes: Vec<ActionOutcome>,
    /// Where the token for the console step was written, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    /// The re-plan after applying (a plain run's, without the admin's intent).
    pub after: Plan,
    /// Actions of `after` that are unfinished work (not manual, not waiting on a manual step).
    pub remaining: Vec<usize>,
    /// Manual steps of `after`, and the actions waiting on them.
    pub manual: Vec<usize>,
    pub waiting: Vec<usize>,
    pub data_flow: DataFlow,
    pub result: ApplyResult,
}

impl ApplyReport {
    /// How many outcomes of each kind: done, failed, skipped, manual pending, waiting.
    pub fn counts(&self) -> [usize; 5] {
        let mut counts = [0; 5];
        for o in &self.outcomes {
            let slot = match o.outcome {
                Outcome::Done => 0,
                Outcome::Failed { .. } => 1,
                Outcome::Skipped { .. } => 2,
                Outcome::ManualPending => 3,
                Outcome::Waiting { .. } => 4,
            };
            counts[slot] += 1;
        }
        counts
    }
}

/// Executes `plan` (when it has anything to run) and proves the result. `token_file` is what
/// [`preflight`] reserved; `before` is the live state the plan was checked against.
pub async fn run(
    session: &Session,
    before: &Live,
    plan: Plan,
    token_file: Option<TokenFile>,
    options: &Options,
) -> anyhow::Result<ApplyReport> {
    let token_path = token_file.as_ref().map(|f| f.path().to_owned());
    let outcomes = if runnable(&plan) {
        let services = &session.services;
        // An adoption alone writes the block's key and nothing else: no lease to take for it.
        let lease = (!adopting_only(&plan)).then(|| lease::new_lease(services));
        if let Some(lease) = &lease {
            let key = session.desired().okta.app.key.as_str();
            lease::take(services, before, key, lease).await?;
        }
        let applier = Arc::new(Applier::new(
            services.clone(),
            session.resolved.scim_client_secret.clone(),
            token_file,
            lease.clone(),
        ));
        let existing = before.okta.app.as_ref().map(|a| a.id.clone());
        let app = || existing.clone().or_else(|| applier.created_app());
        let work = executor::execute(&plan, applier.clone(), CONCURRENCY);
        let Report { outcomes } = match &lease {
            Some(lease) => lease::renewing(services, app, lease, work).await,
            None => work.await,
        };
        if let (Some(id), Some(lease)) = (app(), &lease) {
            lease::release(services, &id, lease).await;
        }
        drop(applier);
        outcomes
            .into_iter()
            .zip(&plan.actions)
            .enumerate()
            .map(|(index, (outcome, action))| ActionOutcome {
                index,
                resource: action.resource.to_string(),
                outcome,
            })
            .collect()
    } else {
        Vec::new()
    };
    // The applier is gone, so an unused reservation is removed; a file that exists now holds
    // the token.
    let token_file = token_path
        .filter(|p| p.exists())
        .map(|p| p.display().to_string());
    let live = session.read().await?;
    let after = match session.plan(&live, AdminIntent::default()).await {
        Ok(plan) => plan,
        Err(PlanError::Failed(err)) => return Err(err),
        Err(PlanError::Problems(problems)) => bail!(
            "re-planning after apply failed: {}",
            problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    // Manual steps, and what builds on them, are the person's turn, not unfinished work.
    let is_manual = |i: usize| after.actions[i].kind == Kind::Manual;
    let mut remaining = Vec::new();
    let mut manual = Vec::new();
    let mut waiting = Vec::new();
    for i in 0..after.actions.len() {
        if is_manual(i) {
            manual.push(i);
        } else if after.waiting_on(i, is_manual).is_some() {
            waiting.push(i);
        } else {
            remaining.push(i);
        }
    }
    let data_flow = data_flow(session, before, &live, options.wait).await?;
    let failed = outcomes
        .iter()
        .any(|o| matches!(o.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. }));
    let result = if failed || !remaining.is_empty() || !data_flow.problems.is_empty() {
        ApplyResult::Failed
    } else if !manual.is_empty() {
        ApplyResult::ManualPending
    } else {
        ApplyResult::Converged
    };
    Ok(ApplyReport {
        format_version: FORMAT_VERSION,
        plan,
        outcomes,
        token_file,
        after,
        remaining,
        manual,
        waiting,
        data_flow,
        result,
    })
}

/// Waits (bounded) for Okta's pushes and compares what arrived in WS1 with the config. Users
/// assigned `before` the run and not after must end inactive in WS1 when Okta deactivates
/// (`PUSH_USER_DEACTIVATION`): whoever removed them, this run or someone meanwhile.
async fn data_flow(
    session: &Session,
    before: &Live,
    live: &Live,
    wait: Duration,
) -> anyhow::Result<DataFlow> {
    let deadline = Instant::now() + wait;
    let Some(app) = live
        .okta
        .app
        .as_ref()
        .filter(|a| a.features.iter().any(|f| f == "PUSH_NEW_USERS"))
    else {
        return Ok(DataFlow {
            checked: false,
            not_checked: Some("provisioning is not on in Okta (the manual steps above)".into()),
            settled: true,
            users: 0,
            problems: Vec::new(),
        });
    };
    let id = app.id.clone();
    let (app_users, settled) = verify::wait_for_pushes(&session.services, &id, wait).await?;
    let unassigned: Vec<AppUserLive> = if app.features.iter().any(|f| f == "PUSH_USER_DEACTIVATION")
    {
        let now: BTreeSet<&OktaUserId> = app_users.iter().map(|u| &u.id).collect();
        before
            .okta
            .app
            .iter()
            .flat_map(|a| &a.users)
            .filter(|u| !now.contains(&u.id))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let problems = verify::data_flow(
        session.desired(),
        &session.services,
        &app.username_template,
        &app_users,
        &unassigned,
        deadline,
    )
    .await?;
    Ok(DataFlow {
        checked: true,
        not_checked: None,
        settled,
        users: app_users.len(),
        problems,
    })
}
