//! The data-flow check: do the users Okta should provision actually arrive in WS1, right?
//!
//! A pure comparison. For every user assigned in Okta, the expected WS1 user (its userName from
//! the app's username template, its workspace attributes from the config's mappings) is compared
//! with what WS1 holds: present, in the Other directory and not the System Directory, with the
//! expected `domain`, `userPrincipalName` and `internalUserType`. Users no longer assigned must
//! be inactive. Each problem names the user and the most likely cause, starting with Okta's own
//! sync error for that app user when it has one.

use std::collections::BTreeMap;

use serde::Serialize;

/// What one assigned (or formerly assigned) Okta user should look like in WS1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub login: String,
    /// The WS1 userName, from the app's username template.
    pub user_name: String,
    /// Workspace extension attributes that must match exactly (absent when not evaluable).
    pub attributes: BTreeMap<String, String>,
    /// Whether the user is still assigned (else it must be inactive in WS1, or absent).
    pub assigned: bool,
    /// Okta's sync state and error for the app user, when Okta reports one.
    pub okta_sync_state: Option<String>,
    pub okta_sync_error: Option<String>,
}

/// A WS1 user as read over SCIM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub user_name: String,
    pub active: bool,
    /// Workspace extension attributes (`domain`, `internalUserType`, `userPrincipalName`…).
    pub attributes: BTreeMap<String, String>,
}

/// What is wrong with one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Assigned in Okta, absent from WS1.
    Missing { cause: String },
    /// Created as a local user of the System Directory (the workspace extension was missing).
    SystemDirectory { domain: String },
    /// In WS1, but an attribute differs.
    Attribute {
        name: String,
        expected: String,
        found: Option<String>,
    },
    /// Unassigned in Okta while Okta deactivates users, still active in WS1.
    StillActive { cause: String },
    /// Assigned, present, but inactive.
    Inactive,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing { cause } => write!(f, "not in WS1: {cause}"),
            Problem::SystemDirectory { domain } => write!(
                f,
                "a local user of WS1's System Directory (domain {domain:?}): it arrived without the workspace extension, so the attributes or mappings were missing when Okta created it"
            ),
            Problem::Attribute {
                name,
                expected,
                found,
            } => match found {
                Some(found) => write!(f, "{name} is {found:?}, expected {expected:?}"),
                None => write!(f, "{name} is missing, expected {expected:?}"),
            },
            Problem::StillActive { cause } => {
                write!(f, "unassigned in Okta but still active in WS1: {cause}")
            }
            Problem::Inactive => f.write_str("assigned in Okta but inactive in WS1"),
        }
    }
}

/// The outcome for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserReport {
    pub login: String,
    pub user_name: String,
    pub problems: Vec<Problem>,
}

/// Compares every expected user with what WS1 holds (matched by userName, case-insensitively as
/// WS1 matches filters).
pub fn check(expected: &[Expected], found: &[Found]) -> Vec<UserReport> {
    let by_name: BTreeMap<String, &Found> = found
        .iter()
        .map(|f| (f.user_name.to_lowercase(), f))
        .collect();
    let mut reports = Vec::new();
    for want in expected {
        let problems = match (by_name.get(&want.user_name.to_lowercase()), want.assigned) {
            (None, true) => vec![Problem::Missing {
                cause: missing_cause(want),
            }],
            (None, false) => Vec::new(),
            (Some(user), false) if user.active => vec![Problem::StillActive {
                cause: STILL_ACTIVE_CAUSE.into(),
            }],
            (Some(_), false) => Vec::new(),
            (Some(user), true) => present(want, user),
        };
        if !problems.is_empty() {
            reports.push(UserReport {
                login: want.login.clone(),
                user_name: want.user_name.clone(),
                problems,
            });
        }
    }
    reports
}

/// Okta no longer shows an unassigned user, so the cause is never Okta's own word.
const STILL_ACTIVE_CAUSE: &str = "Okta's deactivation has not arrived (Deactivate Users is on; WS1 may have refused Okta's request: see the app's Provisioning > Tasks in the Admin Console)";

fn missing_cause(want: &Expected) -> String {
    match (&want.okta_sync_error, want.okta_sync_state.as_deref()) {
        (Some(error), _) => format!("Okta reports a sync error: {error}"),
        (None, Some("SYNCING")) | (None, Some("OUT_OF_SYNC")) => {
            "Okta has not pushed the user yet".into()
        }
        (None, Some("ERROR")) => "Okta's push failed (syncState ERROR): the error text is under the app's Provisioning > Tasks in the Admin Console".into(),
        (None, Some("DISABLED")) => {
            "provisioning is off for this app user (the connection or Create Users is not enabled)"
                .into()
        }
        _ => "Okta sent nothing for this user: check the provisioning connection and Create Users"
            .into(),
    }
}

fn present(want: &Expected, user: &Found) -> Vec<Problem> {
    let attr = |name: &str| user.attributes.get(name).cloned();
    let user_type = attr("internalUserType");
    if user_type.as_deref().is_some_and(|t| t != "PROVISIONED")
        || attr("domain").as_deref() == Some("System Domain")
    {
        return vec![Problem::SystemDirectory {
            domain: attr("domain").unwrap_or_else(|| "(none)".into()),
        }];
    }
    let mut problems: Vec<Problem> = want
        .attributes
        .iter()
        .filter(|(name, value)| attr(name).as_ref() != Some(*value))
        .map(|(name, value)| Problem::Attribute {
            name: name.clone(),
            expected: value.clone(),
            found: attr(name),
        })
        .collect();
    if !user.active {
        problems.push(Problem::Inactive);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expected(login: &str, assigned: bool) -> Expected {
        Expected {
            login: login.into(),
            user_name: login.split('@').next().unwrap().into(),
            attributes: attrs(&[
                ("domain", "example.com"),
                ("internalUserType", "PROVISIONED"),
                ("userPrincipalName", login),
            ]),
            assigned,
            okta_sync_state: Some("SYNCHRONIZED".into()),
            okta_sync_error: None,
        }
    }

    fn found(name: &str, active: bool, pairs: &[(&str, &str)]) -> Found {
        Found {
            user_name: name.into(),
            active,
            attributes: attrs(pairs),
        }
    }

    #[test]
    fn a_right_user_has_no_problem() {
        let ok = found(
            "alice",
            true,
            &[
                ("domain", "example.com"),
                ("internalUserType", "PROVISIONED"),
                ("userPrincipalName", "alice@example.com"),
            ],
        );
        assert!(check(&[expected("alice@example.com", true)], &[ok]).is_empty());
    }

    #[test]
    fn names_each_kind_of_problem() {
        let mut failing = expected("carol@example.com", true);
        failing.okta_sync_error = Some("Bearer token expired".into());
        let users = [
            expected("alice@example.com", true),
            expected("bob@example.com", true),
            failing,
            expected("dave@example.com", false),
        ];
        let ws1 = [
            found(
                "alice",
                true,
                &[("domain", "System Domain"), ("internalUserType", "LOCAL")],
            ),
            found(
                "bob",
                true,
                &[
                    ("domain", "example.com"),
                    ("internalUserType", "PROVISIONED"),
                ],
            ),
            found(
                "dave",
                true,
                &[
                    ("domain", "example.com"),
                    ("internalUserType", "PROVISIONED"),
                ],
            ),
        ];
        let reports = check(&users, &ws1);
        let problems: Vec<(&str, &Problem)> = reports
            .iter()
            .flat_map(|r| r.problems.iter().map(move |p| (r.login.as_str(), p)))
            .collect();
        assert_eq!(
            problems,
            vec![
                (
                    "alice@example.com",
                    &Problem::SystemDirectory {
                        domain: "System Domain".into()
                    }
                ),
                (
                    "bob@example.com",
                    &Problem::Attribute {
                        name: "userPrincipalName".into(),
                        expected: "bob@example.com".into(),
                        found: None
                    }
                ),
                (
                    "carol@example.com",
                    &Problem::Missing {
                        cause: "Okta reports a sync error: Bearer token expired".into()
                    }
                ),
                (
                    "dave@example.com",
                    &Problem::StillActive {
                        cause: STILL_ACTIVE_CAUSE.into()
                    }
                ),
            ]
        );
    }
}
