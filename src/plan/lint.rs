//! The plan lint: invariants every plan must satisfy before anyone sees or applies it.
//!
//! The planner is tested against this on every plan it makes (planner tests call it, and
//! `plan` refuses to return a plan that fails it): no two actions on one resource; every
//! dependency points to an earlier action; deletes come after every action on a resource that uses
//! what they delete ([`Resource::parent`]); every reference to a planned object is resolvable within the plan; no manual
//! action without steps; no secret in a change unless shown as sensitive.

use std::collections::BTreeSet;

use super::{AppRef, Kind, Op, Plan, Resource, Value};

/// One broken invariant.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("plan lint: action {index} ({resource}): {problem}")]
pub struct Violation {
    pub index: usize,
    pub resource: String,
    pub problem: String,
}

/// Checks every invariant; returns all violations.
pub fn check(plan: &Plan) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<&Resource> = BTreeSet::new();
    let creates_app = plan
        .actions
        .iter()
        .position(|a| matches!(a.op, Op::CreateApp { .. }));
    for (i, action) in plan.actions.iter().enumerate() {
        let mut fail = |problem: String| {
            out.push(Violation {
                index: i,
                resource: action.resource.to_string(),
                problem,
            })
        };
        if !seen.insert(&action.resource) {
            fail("a second action on the same resource".into());
        }
        for &dep in &action.depends_on {
            if dep >= i {
                fail(format!("depends on action {dep}, which is not earlier"));
            }
        }
        if let Some(prev) = i.checked_sub(1).map(|p| &plan.actions[p])
            && prev.resource.stage() > action.resource.stage()
        {
            fail(format!("out of dependency order after {}", prev.resource));
        }
        if action.kind == Kind::Delete {
            for (j, later) in plan.actions.iter().enumerate().skip(i + 1) {
                if later.resource.parent().as_ref() == Some(&action.resource) {
                    fail(format!(
                        "deleted before action {j} on {}, which uses it",
                        later.resource
                    ));
                }
            }
        }
        if let Some(AppRef::Created) = app_ref(&action.op) {
            match creates_app {
                Some(c) if c < i => {}
                _ => fail(
                    "refers to an app this plan creates, but no earlier action creates it".into(),
                ),
            }
        }
        // Toggles may be tried through the API inside a manual step; the other manual
        // operations exist only in manual steps.
        let manual_only = matches!(
            action.op,
            Op::Manual | Op::RecordPendingHandover { .. } | Op::ConnectOrHandOver { .. }
        );
        let tried = matches!(action.op, Op::SetToAppToggles { .. });
        if (action.kind == Kind::Manual && !manual_only && !tried)
            || (action.kind != Kind::Manual && manual_only)
        {
            fail("manual kind and manual operation disagree".into());
        }
        if action.kind == Kind::Manual && action.manual.as_ref().is_none_or(|m| m.steps.is_empty())
        {
            fail("a manual action without console steps".into());
        }
        for change in &action.changes {
            let secret_field = matches!(change.field.as_str(), "secret" | "bearer_token" | "token");
            let shown = |v: &Value| matches!(v, Value::Text(_));
            if secret_field && (shown(&change.old) || shown(&change.new)) {
                fail(format!("secret field `{}` shown as text", change.field));
            }
        }
    }
    out
}

fn app_ref(op: &Op) -> Option<&AppRef> {
    match op {
        Op::UpdateApp { app, .. }
        | Op::SetConnection { app, .. }
        | Op::RecordPendingHandover { app, .. }
        | Op::ConnectOrHandOver { app, .. }
        | Op::PutAttribute { app, .. }
        | Op::SetMapping { app, .. }
        | Op::RemoveMapping { app, .. }
        | Op::SetToAppToggles { app, .. }
        | Op::AssignUser { app, .. }
        | Op::UnassignUser { app, .. }
        | Op::AssignGroup { app, .. }
        | Op::UnassignGroup { app, .. }
        | Op::PushGroup { app, .. }
        | Op::ActivatePush { app, .. } => Some(app),
        _ => None,
    }
}
