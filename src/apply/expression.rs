//! Evaluating the Okta expressions scimbridge configures, to know what a provisioned user should
//! look like in WS1.
//!
//! The data-flow check compares WS1 users with what the config's mappings should produce for
//! each assigned Okta user. Only the forms the setup guides use are evaluated: quoted literals,
//! `user.<attribute>`, `String.substringBefore(…, "…")`, `String.toLowerCase(…)`, and the app
//! username templates (`${source.login}`, `${fn:substringBefore(source.email, "@")}`…). Anything
//! else is `None`, and the check then skips that attribute rather than guess.

use std::collections::BTreeMap;

/// An Okta user's profile, as far as expressions read it: attribute → value.
pub trait Profile {
    fn get(&self, attribute: &str) -> Option<&str>;
}

impl Profile for BTreeMap<String, String> {
    fn get(&self, attribute: &str) -> Option<&str> {
        BTreeMap::get(self, attribute).map(String::as_str)
    }
}

/// An app user's Okta profile: its login, and the fields read with it.
impl Profile for crate::state::AppUserLive {
    fn get(&self, attribute: &str) -> Option<&str> {
        match attribute {
            "login" => Some(self.profile.get("login").unwrap_or(&self.login)),
            other => self.profile.get(other),
        }
    }
}

/// Evaluates a mapping expression (`user.login`, `"PROVISIONED"`…) against `profile`.
pub fn evaluate(expression: &str, profile: &impl Profile) -> Option<String> {
    eval(expression.trim(), "user.", profile)
}

/// Evaluates an app username template (`${fn:substringBefore(source.email, "@")}`).
pub fn evaluate_username(template: &str, profile: &impl Profile) -> Option<String> {
    let inner = template.trim().strip_prefix("${")?.strip_suffix('}')?;
    let inner = inner
        .strip_prefix("fn:")
        .map(|f| format!("String.{f}"))
        .unwrap_or_else(|| inner.to_owned());
    eval(&inner, "source.", profile)
}

fn eval(expr: &str, prefix: &str, profile: &impl Profile) -> Option<String> {
    let expr = expr.trim();
    if let Some(literal) = expr.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
        return (!literal.contains('"')).then(|| literal.to_owned());
    }
    if let Some(attr) = expr.strip_prefix(prefix) {
        let valid = !attr.is_empty() && attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        return if valid {
            profile.get(attr).map(str::to_owned)
        } else {
            None
        };
    }
    let (function, args) = expr.strip_suffix(')')?.split_once('(')?;
    let args = split_args(args)?;
    match (function.trim(), args.as_slice()) {
        ("String.substringBefore", [value, separator]) => {
            let value = eval(value, prefix, profile)?;
            let separator = eval(separator, prefix, profile)?;
            Some(
                value
                    .split_once(&separator)
                    .map(|(before, _)| before.to_owned())
                    .unwrap_or(value),
            )
        }
        ("String.toLowerCase", [value]) => eval(value, prefix, profile).map(|v| v.to_lowercase()),
        _ => None,
    }
}

/// Splits top-level, comma-separated arguments (commas inside quotes don't count).
fn split_args(args: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut depth) = (0, false, 0i32);
    for (i, c) in args.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted || depth != 0 {
        return None;
    }
    out.push(&args[start..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> BTreeMap<String, String> {
        [
            ("login", "Alice@Example.com"),
            ("email", "alice.smith@example.com"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn evaluates_the_forms_the_guides_use() {
        let cases = [
            ("\"PROVISIONED\"", Some("PROVISIONED")),
            ("user.login", Some("Alice@Example.com")),
            (
                "String.substringBefore(user.email, \"@\")",
                Some("alice.smith"),
            ),
            ("String.toLowerCase(user.login)", Some("alice@example.com")),
            ("user.missing", None),
            ("user.login + \"x\"", None),
            ("Groups.contains(\"x\")", None),
        ];
        for (expr, expected) in cases {
            assert_eq!(evaluate(expr, &alice()).as_deref(), expected, "{expr}");
        }
    }

    #[test]
    fn evaluates_username_templates() {
        let p = alice();
        assert_eq!(
            evaluate_username("${fn:substringBefore(source.email, \"@\")}", &p).as_deref(),
            Some("alice.smith")
        );
        assert_eq!(
            evaluate_username("${source.login}", &p).as_deref(),
            Some("Alice@Example.com")
        );
        assert_eq!(
            evaluate_username("${fn:toLowerCase(source.email)}", &p).as_deref(),
            Some("alice.smith@example.com")
        );
    }
}
