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
        Kind::Adopt => ("=", "\x1b[36m"),
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Create => "create",
        Kind::Update => "update",
        Kind::Delete => "delete",
        Kind::Manual => "manual",
        Kind::Adopt => "adopt",
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

/// GitHub refuses comments longer than 65,536 characters; the comment stays below this, with
/// room for what a pipeline adds around it.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Markdown for a pull-request comment: the summary and counts first, then what needs a person
/// (actions needing `--allow-destroy`, manual steps), then every action as a table row, then the
/// text plan folded in `<details>`. Past [`MARKDOWN_LIMIT`] characters the rows and the text
/// are cut with "N more"; the full plan is the pipeline's artifact. Every value is escaped for
/// its place (table cells, code spans).
pub fn markdown(plan: &Plan) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "### scimbridge plan for {}\n", code(&plan.config));
    let _ = writeln!(head, "**Token:** {}.\n", inline(&plan.token.summary()));
    if plan.is_empty() {
        let _ = writeln!(head, "No changes. Live state matches the config.");
        return head;
    }
    let _ = writeln!(head, "**Plan: {}.**\n", plan.summary());
    counts(&mut head, plan);
    let hazardous: Vec<(usize, &Action)> = plan
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.hazard.is_some())
        .collect();
    if !hazardous.is_empty() {
        let _ = writeln!(
            head,
            "#### ⚠️ {} action(s) need `--allow-destroy`\n",
            hazardous.len()
        );
        for (i, action) in hazardous {
            let hazard = action.hazard.map(hazard_word).unwrap_or_default();
            let why = action.reason.as_deref().map(inline).unwrap_or_default();
            let _ = writeln!(
                head,
                "- {i} {} ({hazard}): {why}",
                code(&action.resource.to_string())
            );
        }
        head.push('\n');
    }
    let manual: Vec<(usize, &Action)> = plan
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.manual.is_some())
        .collect();
    if !manual.is_empty() {
        let _ = writeln!(head, "#### Manual steps\n");
        for (i, action) in manual {
            let step = action.manual.as_ref().expect("filtered");
            let _ = writeln!(
                head,
                "**{i}. {}** ({})\n",
                inline(&step.title),
                code(&action.resource.to_string())
            );
            for (n, s) in step.steps.iter().enumerate() {
                let _ = writeln!(head, "{}. {}", n + 1, inline(s));
            }
            for (label, value) in &step.values {
                let _ = writeln!(head, "   - {}: {}", inline(label), code(value));
            }
            head.push('\n');
        }
    }
    // The rows, as many as fit with room for the closing parts.
    let mut out = head;
    let _ = writeln!(
        out,
        "#### Actions\n\n| # | | resource | action | config |\n|---|---|---|---|---|"
    );
    let reserve = 600;
    let mut shown = 0;
    for (i, action) in plan.actions.iter().enumerate() {
        let hazard = action
            .hazard
            .map(|h| format!(" ⚠️ {}", hazard_word(h)))
            .unwrap_or_default();
        let row = format!(
            "| {i} | {} | {} | {}{hazard} | {} |\n",
            code(symbol(action.kind).0),
            cell(&code(&action.resource.to_string())),
            kind_word(action.kind),
            cell(&code(&action.at.to_string()))
        );
        if out.len() + row.len() + reserve > MARKDOWN_LIMIT {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    if shown < plan.actions.len() {
        let _ = writeln!(
            out,
            "\n… and {} more action(s): the full plan is the pipeline's artifact (`plan --out`).",
            plan.actions.len() - shown
        );
    }
    // The text plan, folded, if it fits whole; cut by lines otherwise.
    let details = text(plan, false);
    let room = MARKDOWN_LIMIT.saturating_sub(out.len() + 200);
    let fence = fence_for(&details);
    let body = if details.len() <= room {
        details
    } else {
        let mut kept = String::new();
        let total = details.lines().count();
        let mut lines = 0;
        for line in details.lines() {
            if kept.len() + line.len() + 80 > room {
                break;
            }
            kept.push_str(line);
            kept.push('\n');
            lines += 1;
        }
        let _ = writeln!(kept, "… {} more line(s) in the full plan", total - lines);
        kept
    };
    if room > 200 {
        let _ = writeln!(
            out,
            "\n<details><summary>Details</summary>\n\n{fence}\n{body}{fence}\n\n</details>"
        );
    }
    out
}

/// Counts by kind of resource and kind of action, as a small table.
fn counts(out: &mut String, plan: &Plan) {
    // In the plan's (dependency) order.
    let mut by: Vec<(&'static str, [usize; 4])> = Vec::new();
    for action in &plan.actions {
        let slot = match action.kind {
            Kind::Create => 0,
            Kind::Update | Kind::Adopt => 1,
            Kind::Delete => 2,
            Kind::Manual => 3,
        };
        let kind = resource_kind(&action.resource);
        match by.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, counts)) => counts[slot] += 1,
            None => {
                let mut counts = [0; 4];
                counts[slot] = 1;
                by.push((kind, counts));
            }
        }
    }
    let _ = writeln!(
        out,
        "| resource | create | update | delete | manual |\n|---|---|---|---|---|"
    );
    for (kind, [c, u, d, m]) in by {
        let _ = writeln!(out, "| {kind} | {c} | {u} | {d} | {m} |");
    }
    out.push('\n');
}

fn resource_kind(resource: &super::Resource) -> &'static str {
    use super::Resource::*;
    match resource {
        ScimClient(_) => "WS1 OAuth client",
        Token(_) => "bearer token",
        Directory(_) => "WS1 directory",
        App(_) => "Okta app",
        Connection(_) => "provisioning connection",
        Attribute(_) => "app attribute",
        Mapping(_) => "attribute mapping",
        ToAppToggles(_) => "To App toggles",
        UpdateExistingUsers(_) => "apply updates now",
        UserAssignment(_) => "user assignment",
        GroupAssignment(_) => "group assignment",
        GroupPush(_) => "group push",
    }
}

/// `text` as a code span that holds it whatever it contains: a fence of more backticks than
/// any run inside, padded when it starts or ends with one (CommonMark code spans).
pub fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A table cell's content: pipes escaped (GFM splits cells on them even inside code spans), no
/// line breaks.
pub fn cell(markdown: &str) -> String {
    markdown.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Plain text for a Markdown line or list item: what stands between pairs of backticks becomes
/// a code span (as the messages mean it), characters Markdown would read as markup elsewhere
/// are escaped, line breaks become spaces. Pipes are left to [`cell`], for text inside a table.
pub fn inline(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // An odd number of parts means the backticks pair up.
    let paired = parts.len() % 2 == 1;
    let mut out = String::with_capacity(text.len());
    for (i, part) in parts.iter().enumerate() {
        if paired && i % 2 == 1 {
            out.push_str(&code(part));
            continue;
        }
        if !paired && i > 0 {
            out.push_str("\\`");
        }
        for c in part.chars() {
            match c {
                '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' | '\r' => out.push(' '),
                c => out.push(c),
            }
        }
    }
    out
}

/// A code fence longer than any backtick run in `text`.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}
