//! Plan renderers: human text (colour optional), versioned JSON, and Markdown for pull-request
//! comments. All three render the same [`Plan`] value; none can see a secret, because a plan
//! holds none ([`Value::Sensitive`] prints as `(sensitive)`).

use std::fmt::Write as _;

use super::{Action, Hazard, Kind, Plan, Value};

/// Output formats of `plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// Renders `plan` in `format`; `color` adds ANSI colour to text.
pub fn render(plan: &Plan, format: Format, color: bool) -> String {
    match format {
        Format::Text => text(plan, color),
        Format::Json => {
            let mut out = serde_json::to_string_pretty(plan).expect("a plan serializes");
            out.push('\n');
            out
        }
        Format::Markdown => markdown(plan),
    }
}

fn symbol(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Create => ("+", "\x1b[32m"),
        Kind::Update => ("~", "\x1b[33m"),
        Kind::Delete => ("-", "\x1b[31m"),
        Kind::Manual => ("!", "\x1b[36m"),
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Create => "create",
        Kind::Update => "update",
        Kind::Delete => "delete",
        Kind::Manual => "manual",
    }
}

fn hazard_word(hazard: Hazard) -> &'static str {
    match hazard {
        Hazard::Destructive => "destructive",
        Hazard::Disruptive => "disruptive",
    }
}

/// Whether a value is long enough to be shown as a line diff instead of `old → new`.
fn is_long(value: &Value) -> bool {
    matches!(value, Value::Text(t) if t.contains('\n') || t.len() > 60)
}

fn text_of(value: &Value) -> &str {
    match value {
        Value::Text(t) => t,
        _ => "",
    }
}

/// The human-readable plan.
pub fn text(plan: &Plan, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("{code}{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(out, "No changes. Live state matches {}.", plan.config);
        let _ = writeln!(out, "Token: {}.", plan.token.summary());
        return out;
    }
    let read_at = plan
        .observed_at
        .map(|t| format!(", read at {t}"))
        .unwrap_or_default();
    let _ = writeln!(out, "scimbridge plan for {}{read_at}:", plan.config);
    let _ = writeln!(out, "Token: {}.\n", plan.token.summary());
    for (i, action) in plan.actions.iter().enumerate() {
        let (sym, code) = symbol(action.kind);
        let hazard = action
            .hazard
            .map(|h| {
                paint(
                    "\x1b[1;31m",
                    &format!(" [{}: needs --allow-destroy]", hazard_word(h)),
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {}  {}{hazard}  ({})",
            paint(code, &format!("{i:>2} {sym}")),
            paint("\x1b[1m", &action.resource.to_string()),
            kind_word(action.kind),
            action.at
        );
        body(&mut out, action, color);
    }
    let _ = writeln!(out, "Plan: {}.", plan.summary());
    let hazards = plan.hazardous().count();
    if hazards > 0 {
        let _ = writeln!(out, "{hazards} action(s) need --allow-destroy.");
    }
    out
}

fn body(out: &mut String, action: &Action, color: bool) {
    let pad = "       ";
    if let Some(reason) = &action.reason {
        let _ = writeln!(out, "{pad}why: {reason}");
    }
    let width = action
        .changes
        .iter()
        .map(|c| c.field.len())
        .max()
        .unwrap_or(0);
    for change in &action.changes {
        if is_long(&change.old) || is_long(&change.new) {
            let _ = writeln!(out, "{pad}{}:", change.field);
            line_diff(out, text_of(&change.old), text_of(&change.new), color);
        } else {
            let _ = writeln!(
                out,
                "{pad}{:<width$}  {} → {}",
                change.field, change.old, change.new
            );
        }
    }
    if let Some(manual) = &action.manual {
        let _ = writeln!(out, "{pad}{}:", manual.title);
        for (n, step) in manual.steps.iter().enumerate() {
            let _ = writeln!(out, "{pad}  {}. {step}", n + 1);
        }
        for (label, value) in &manual.values {
            let _ = writeln!(out, "{pad}     {label}: {value}");
        }
        let _ = writeln!(out, "{pad}verified by: {}", manual.verified_by);
    }
    for note in &action.notes {
        let _ = writeln!(out, "{pad}note: {note}");
    }
    if !action.depends_on.is_empty() {
        let deps: Vec<String> = action.depends_on.iter().map(usize::to_string).collect();
        let _ = writeln!(out, "{pad}after: {}", deps.join(", "));
    }
    out.push('\n');
}

/// A unified line diff of a long value, with `similar`.
fn line_diff(out: &mut String, old: &str, new: &str, color: bool) {
    let diff = similar::TextDiff::from_lines(old, new);
    for change in diff.iter_all_changes() {
        let (sign, code) = match change.tag() {
            similar::ChangeTag::Delete => ("-", "\x1b[31m"),
            similar::ChangeTag::Insert => ("+", "\x1b[32m"),
            similar::ChangeTag::Equal => (" ", ""),
        };
        let line = format!("         {sign} {}", change.value().trim_end_matches('\n'));
        if color && !code.is_empty() {
            let _ = writeln!(out, "{code}{line}\x1b[0m");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// Markdown for a pull-request comment.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### scimbridge plan for `{}`\n", plan.config);
    let _ = writeln!(out, "**Token:** {}.\n", plan.token.summary());
    if plan.is_empty() {
        let _ = writeln!(out, "No changes. Live state matches the config.");
        return out;
    }
    let _ = writeln!(out, "**{}**\n", plan.summary());
    let _ = writeln!(
        out,
        "| # | | resource | action | config |\n|---|---|---|---|---|"
    );
    for (i, action) in plan.actions.iter().enumerate() {
        let hazard = action
            .hazard
            .map(|h| format!(" ⚠️ {}", hazard_word(h)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {i} | `{}` | `{}` | {}{hazard} | `{}` |",
            symbol(action.kind).0,
            action.resource,
            kind_word(action.kind),
            action.at
        );
    }
    let _ = writeln!(
        out,
        "\n<details><summary>Details</summary>\n\n```\n{}```\n\n</details>",
        text(plan, false)
    );
    let manual: Vec<&Action> = plan.actions.iter().filter(|a| a.manual.is_some()).collect();
    if !manual.is_empty() {
        let _ = writeln!(out, "\n#### Manual steps");
        for action in manual {
            let step = action.manual.as_ref().expect("filtered");
            let _ = writeln!(out, "\n**{}** (`{}`)\n", step.title, action.resource);
            for (n, s) in step.steps.iter().enumerate() {
                let _ = writeln!(out, "{}. {s}", n + 1);
            }
            for (label, value) in &step.values {
                let _ = writeln!(out, "   - {label}: `{value}`");
            }
        }
    }
    out
}
