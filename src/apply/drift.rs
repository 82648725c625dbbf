//! Drift: what a scheduled job needs to know, from reads only, in one report.
//!
//! Three kinds of drift are judged on one read of both services:
//! - **config**: everything `plan` would change (the same planner, the same wording);
//! - **token**: the token Okta holds expires inside the rotation window or has expired, a console
//!   handover is pending, or Okta's pushes fail while the token it holds has expired;
//! - **data flow**: assigned users missing in WS1, inactive there, in the wrong directory, with
//!   wrong workspace attributes or landed as local users of the System Directory, and Okta app
//!   users whose last push failed (`syncState` ERROR).
//!
//! What must hold: nothing here writes (the report is built from [`crate::state::read`], the
//! planner and the data-flow check, all reads); the check reads pages, not one request per user
//! (app users come with their Okta user embedded, WS1 users are listed past a few); every finding
//! names its cause and what to run, in words an on-call person can act on; a finding is drift
//! (exit 2) or information (a still-valid superseded token, a push still queued), never a guess.

use std::fmt::Write as _;

use serde::Serialize;

use super::dataflow::UserReport;
use super::verify;
use crate::config::model::Desired;
use crate::plan::render::{cell as md_cell, code, inline};
use crate::plan::token::{TokenState, TokenStatus};
use crate::plan::{Kind, Plan};
use crate::state::Live;
use crate::state::read::Services;

/// The version of the report's JSON shape.
pub const FORMAT_VERSION: u32 = 1;

/// What kind of drift a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Config,
    Token,
    DataFlow,
}

/// Whether a finding counts as drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Live state is not what the config asks for, or provisioning fails or will fail.
    Drift,
    /// Worth knowing, nothing to fix now.
    Info,
}

/// One thing found, with its cause and what to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub area: Area,
    pub severity: Severity,
    /// What it is about: a plan address, the token, or an Okta login.
    pub subject: String,
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Whether the data flow was checked, and what it found.
#[derive(Clone, Debug, Serialize)]
pub struct DataFlow {
    pub checked: bool,
    /// Why not, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
    /// App users compared with WS1.
    pub users: usize,
    pub problems: Vec<UserReport>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub config: String,
    /// The servers' time of the read.
    pub observed_at: Option<crate::state::Timestamp>,
    /// Whether any finding is drift.
    pub drift: bool,
    pub findings: Vec<Finding>,
    pub token: TokenStatus,
    pub data_flow: DataFlow,
    /// The plan the config drift comes from.
    pub plan: Plan,
}

impl Report {
    /// The drift findings (not the information) of each area, in the order config, token,
    /// data flow.
    pub fn drift_counts(&self) -> [(Area, usize); 3] {
        [Area::Config, Area::Token, Area::DataFlow].map(|area| {
            let n = self
                .findings
                .iter()
                .filter(|f| f.area == area && f.severity == Severity::Drift)
                .count();
            (area, n)
        })
    }
}

/// Judges drift from one read (`live`) and its plan; reads WS1's users for the data flow.
pub async fn detect(
    desired: &Desired,
    services: &Services,
    live: &Live,
    plan: Plan,
) -> anyhow::Result<Report> {
    let config_file = plan.config.clone();
    let mut findings = config_findings(&plan);
    findings.extend(token_findings(&plan.token, &config_file));
    let data_flow = match live.okta.app.as_ref() {
        Some(app) if crate::plan::token::provisioning_on(app) => {
            let problems = verify::data_flow(
                desired,
                services,
                &app.username_template,
                &app.users,
                &[],
                std::time::Instant::now(),
            )
            .await?;
            findings.extend(flow_findings(&problems, &plan.token, &config_file));
            findings.extend(
                app.users
                    .iter()
                    .filter(|u| verify::busy(u))
                    .map(|u| Finding {
                        area: Area::DataFlow,
                        severity: Severity::Info,
                        subject: u.login.clone(),
                        message:
                            "Okta's push of this user is queued or running; the next run checks it"
                                .into(),
                        fix: None,
                    }),
            );
            DataFlow {
                checked: true,
                not_checked: None,
                users: app.users.len(),
                problems,
            }
        }
        _ => DataFlow {
            checked: false,
            not_checked: Some(
                "provisioning is not on in Okta, so no user can reach WS1 (see the config drift)"
                    .into(),
            ),
            users: 0,
            problems: Vec::new(),
        },
    };
    findings.sort_by_key(|f| f.area);
    Ok(Report {
        format_version: FORMAT_VERSION,
        config: config_file,
        observed_at: plan.observed_at,
        drift: findings.iter().any(|f| f.severity == Severity::Drift),
        findings,
        token: plan.token.clone(),
        data_flow,
        plan,
    })
}

/// Every plan action is config drift, worded as the plan words it.
fn config_findings(plan: &Plan) -> Vec<Finding> {
    let apply = format!("scimbridge apply -c {}", plan.config);
    plan.actions
        .iter()
        .filter(|action| action.kind != Kind::Adopt)
        .map(|action| {
            let what = match action.kind {
                Kind::Create => "missing: apply creates it".to_owned(),
                Kind::Update | Kind::Adopt => {
                    "differs from the config: apply updates it".to_owned()
                }
                Kind::Delete => "not in the config: apply removes it".to_owned(),
                Kind::Manual => format!(
                    "waits for a console step: {}",
                    action.manual.as_ref().map_or("", |m| m.title.as_str())
                ),
            };
            let mut message = what;
            if let Some(reason) = &action.reason {
                message.push_str(&format!(" ({reason})"));
            }
            let changes: Vec<String> = action
                .changes
                .iter()
                .map(|c| format!("{} {} → {}", c.field, c.old, c.new))
                .collect();
            if !changes.is_empty() {
                message.push_str(&format!("; {}", changes.join(", ")));
            }
            let fix = match action.kind {
                Kind::Manual => format!("`scimbridge plan -c {}` shows the steps", plan.config),
                _ if action.hazard.is_some() => format!("`{apply} --allow-destroy` after review"),
                _ => format!("`{apply}`"),
            };
            Finding {
                area: Area::Config,
                severity: Severity::Drift,
                subject: action.resource.to_string(),
                message,
                fix: Some(fix),
            }
        })
        .collect()
}

/// The token Okta holds, judged on server time.
fn token_findings(token: &TokenStatus, config: &str) -> Vec<Finding> {
    let finding = |severity, message: String, fix: Option<String>| Finding {
        area: Area::Token,
        severity,
        subject: format!("ws1.scim_client[{:?}].token", token.client_id),
        message,
        fix,
    };
    let rotate = format!(
        "`scimbridge apply -c {config} --token-out NEW-FILE` mints and hands over a new one"
    );
    // Provisioning off at the mint means Okta turning it on shows the step done.
    let seen_by_features = token
        .newest
        .as_ref()
        .is_some_and(|t| t.provisioning_at_mint == Some(false));
    let confirm = if seen_by_features {
        format!("`scimbridge apply -c {config}` (it sees provisioning turned on)")
    } else {
        format!("`scimbridge apply -c {config} --confirm-handover`")
    };
    let reissue = format!(
        "paste the token from your --token-out file in Okta's console step, then {confirm}; file lost? `scimbridge apply -c {config} --reissue-token --token-out NEW-FILE`"
    );
    let failing = if token.sync_errors.is_empty() {
        String::new()
    } else {
        format!(
            "; {} Okta app user(s) are in syncState ERROR",
            token.sync_errors.len()
        )
    };
    let mut out = Vec::new();
    let days = token.days_left.unwrap_or_default();
    match (token.state, token.in_use.as_ref()) {
        (TokenState::Pending, in_use) => {
            let newest = token.newest.as_ref().map(|t| t.minted_at.to_string()).unwrap_or_default();
            let message = match in_use {
                Some(old) if token.in_use_expired() => format!(
                    "Okta's token for Workspace ONE Access expired {}: WS1 rejects Okta's pushes (HTTP 401) since then{failing}; the token minted {newest} that replaces it was never confirmed in Okta's console",
                    old.expires_at
                ),
                Some(old) => format!(
                    "the console handover of the token minted {newest} is pending; until it is done Okta uses the token minted {}, which expires {} (in {days} day(s))",
                    old.minted_at, old.expires_at
                ),
                None => format!(
                    "the console handover of the token minted {newest} is pending; until it is done Okta holds no working token of scimbridge's, so WS1 refuses its pushes"
                ),
            };
            out.push(finding(Severity::Drift, message, Some(reissue)));
        }
        (TokenState::Unknown, _) => out.push(finding(
            Severity::Drift,
            format!(
                "Okta's provisioning uses a token that scimbridge did not mint (set up by hand, or imported): its expiry is unknown, so provisioning may stop any day without warning{failing}"
            ),
            Some(format!(
                "`scimbridge apply -c {config} --reissue-token --token-out FILE` mints one whose expiry scimbridge tracks; hand it over in Okta's console step"
            )),
        )),
        (TokenState::Expired, Some(held)) => out.push(finding(
            Severity::Drift,
            format!(
                "Okta's token for Workspace ONE Access expired {}: WS1 rejects Okta's pushes (HTTP 401) since then{failing}",
                held.expires_at
            ),
            Some(rotate.clone()),
        )),
        (TokenState::Expiring, Some(held)) => out.push(finding(
            Severity::Drift,
            format!(
                "Okta's token for Workspace ONE Access expires {} (in {days} day(s)), inside the rotation window",
                held.expires_at
            ),
            Some(rotate.clone()),
        )),
        _ => {}
    }
    for stray in &token.strays {
        out.push(finding(
            Severity::Info,
            format!(
                "an unconfirmed token minted {} (superseded by a re-issue) stays valid until {}: WS1 revokes tokens only by deleting their client",
                stray.minted_at, stray.expires_at
            ),
            None,
        ));
    }
    out
}

/// Users not in WS1 as the config says, and pushes that failed.
fn flow_findings(problems: &[UserReport], token: &TokenStatus, config: &str) -> Vec<Finding> {
    let token_dead = token.in_use_expired() && !token.pending();
    let mut out: Vec<Finding> = problems
        .iter()
        .map(|user| Finding {
            area: Area::DataFlow,
            severity: Severity::Drift,
            subject: user.login.clone(),
            message: format!(
                "userName {}: {}",
                user.user_name,
                user.problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            fix: None,
        })
        .collect();
    // Users whose push failed but who are in WS1 as expected still need attention: their next
    // change will not arrive.
    let named: std::collections::BTreeSet<&str> =
        problems.iter().map(|p| p.login.as_str()).collect();
    for login in token
        .sync_errors
        .iter()
        .filter(|l| !named.contains(l.as_str()))
    {
        out.push(Finding {
            area: Area::DataFlow,
            severity: Severity::Drift,
            subject: login.clone(),
            message:
                "Okta's last push of this user failed (syncState ERROR); its WS1 copy may be stale"
                    .into(),
            fix: None,
        });
    }
    let hint = if token_dead || token.pending() {
        "the token Okta holds: see the token finding".to_owned()
    } else {
        format!(
            "Okta's API does not say why a push failed: the error is under the app's Provisioning > Tasks. If it says 401, the token Okta holds was revoked: `scimbridge apply -c {config} --reissue-token --token-out NEW-FILE`"
        )
    };
    for finding in &mut out {
        if finding.message.contains("syncState ERROR") {
            finding.fix = Some(hint.clone());
        }
    }
    out
}

/// The report for people: one line a finding, the cause, then what to run.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let read_at = report
        .observed_at
        .map(|t| format!(", read at {t}"))
        .unwrap_or_default();
    let drift = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Drift)
        .count();
    let _ = writeln!(out, "Drift report for {}{read_at}:", report.config);
    let _ = writeln!(out, "Token: {}.", report.token.summary());
    let _ = writeln!(out, "Data flow: {}.", flow_line(&report.data_flow));
    if report.findings.is_empty() {
        let _ = writeln!(out, "\nNo drift.");
        return out;
    }
    let _ = writeln!(out);
    for f in &report.findings {
        let mark = match f.severity {
            Severity::Drift => "!",
            Severity::Info => "i",
        };
        let _ = writeln!(
            out,
            "{mark} [{}] {}: {}",
            area_word(f.area),
            f.subject,
            f.message
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "    fix: {fix}");
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        if drift > 0 {
            format!("Drift: {}.", counts(report))
        } else {
            "No drift (information only).".to_owned()
        }
    );
    out
}

/// The report for an issue or a chat message.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### scimbridge drift for {}\n", code(&report.config));
    let _ = writeln!(
        out,
        "**{}**\n",
        if report.drift {
            format!("Drift: {}", counts(report))
        } else {
            "No drift".to_owned()
        }
    );
    let _ = writeln!(out, "- **Token:** {}", inline(&report.token.summary()));
    let _ = writeln!(
        out,
        "- **Data flow:** {}\n",
        inline(&flow_line(&report.data_flow))
    );
    if !report.findings.is_empty() {
        let _ = writeln!(
            out,
            "| | area | subject | finding | fix |\n|---|---|---|---|---|"
        );
        for f in &report.findings {
            let mark = match f.severity {
                Severity::Drift => "❗",
                Severity::Info => "ℹ️",
            };
            let _ = writeln!(
                out,
                "| {mark} | {} | {} | {} | {} |",
                area_word(f.area),
                md_cell(&code(&f.subject)),
                md_cell(&inline(&f.message)),
                f.fix
                    .as_deref()
                    .map(|x| md_cell(&inline(x)))
                    .unwrap_or_default()
            );
        }
    }
    out
}

/// The report as versioned JSON.
pub fn json(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("a report serializes");
    out.push('\n');
    out
}

fn area_word(area: Area) -> &'static str {
    match area {
        Area::Config => "config",
        Area::Token => "token",
        Area::DataFlow => "data flow",
    }
}

fn flow_line(flow: &DataFlow) -> String {
    match (&flow.not_checked, flow.problems.len()) {
        (Some(why), _) => format!("not checked: {why}"),
        (None, 0) => format!(
            "all {} user(s) assigned in Okta are in WS1's directory as configured",
            flow.users
        ),
        (None, n) => format!(
            "{n} of {} user(s) assigned in Okta are not in WS1 as configured",
            flow.users
        ),
    }
}

fn counts(report: &Report) -> String {
    let [config, token, data_flow] = report.drift_counts().map(|(_, n)| n);
    format!("{config} config, {token} token, {data_flow} data flow")
}
