//! The managed block in the Okta app's admin note: scimbridge's only persistent state.
//!
//! There is no state file, yet some facts must be known on any machine: which app is ours (a
//! stable key, so renaming the label updates the app instead of creating a second one), and
//! when the bearer token Okta holds was minted, when it expires, and whether its handover was
//! confirmed. They live in a delimited block at the end of the app's admin note; everything
//! outside the block is the user's and is kept byte for byte. Unknown lines inside the block are
//! ignored, so a newer scimbridge can add fields without breaking an older one.

use serde::{Deserialize, Serialize};

use super::Timestamp;

const BEGIN: &str = "[scimbridge: managed block, do not edit]";
const END: &str = "[/scimbridge]";

/// What the managed block records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedBlock {
    /// The config's `okta.app.key`.
    pub key: String,
    /// The bearer token Okta holds, once one was minted.
    #[serde(default)]
    pub token: Option<TokenRecord>,
}

/// The bearer token handed to Okta.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// The WS1 OAuth client that issued it.
    pub client_id: String,
    pub minted_at: Timestamp,
    pub expires_at: Timestamp,
    /// Whether Okta is known to hold it (API handover, or the console step seen done).
    pub handover: Handover,
}

/// Whether Okta holds the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handover {
    /// Written to the user's file; the console step is not seen done yet.
    Pending,
    /// Okta holds it.
    Confirmed,
}

impl Handover {
    fn as_str(self) -> &'static str {
        match self {
            Handover::Pending => "pending",
            Handover::Confirmed => "confirmed",
        }
    }
}

/// Splits an admin note into the user's part and the managed block.
pub fn split(note: &str) -> (String, Option<ManagedBlock>) {
    let Some(begin) = note.find(BEGIN) else {
        return (note.to_owned(), None);
    };
    let body_start = begin + BEGIN.len();
    let (body, after) = match note[body_start..].find(END) {
        Some(end) => (
            &note[body_start..body_start + end],
            &note[body_start + end + END.len()..],
        ),
        None => (&note[body_start..], ""),
    };
    let user = format!("{}{}", note[..begin].trim_end(), after.trim_end());
    (user, parse_body(body))
}

fn parse_body(body: &str) -> Option<ManagedBlock> {
    let mut key = None;
    let (mut client, mut minted, mut expires, mut handover) = (None, None, None, None);
    for line in body.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match name.trim() {
            "key" => key = Some(value.to_owned()),
            "token.client_id" => client = Some(value.to_owned()),
            "token.minted_at" => minted = Timestamp::parse_rfc3339(value),
            "token.expires_at" => expires = Timestamp::parse_rfc3339(value),
            "token.handover" => {
                handover = match value {
                    "pending" => Some(Handover::Pending),
                    "confirmed" => Some(Handover::Confirmed),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    let token = match (client, minted, expires, handover) {
        (Some(client_id), Some(minted_at), Some(expires_at), Some(handover)) => Some(TokenRecord {
            client_id,
            minted_at,
            expires_at,
            handover,
        }),
        _ => None,
    };
    Some(ManagedBlock { key: key?, token })
}

/// The full admin note: the user's part, a blank line, then the block.
pub fn compose(user: Option<&str>, block: &ManagedBlock) -> String {
    let mut out = String::new();
    if let Some(user) = user.map(str::trim_end).filter(|u| !u.is_empty()) {
        out.push_str(user);
        out.push_str("\n\n");
    }
    out.push_str(BEGIN);
    out.push_str(&format!("\nkey = {}\n", block.key));
    if let Some(token) = &block.token {
        out.push_str(&format!(
            "token.client_id = {}\ntoken.minted_at = {}\ntoken.expires_at = {}\ntoken.handover = {}\n",
            token.client_id,
            token.minted_at,
            token.expires_at,
            token.handover.as_str()
        ));
    }
    out.push_str(END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> ManagedBlock {
        ManagedBlock {
            key: "workspace-one".into(),
            token: Some(TokenRecord {
                client_id: "okta-scim".into(),
                minted_at: Timestamp::parse_rfc3339("2026-11-22T11:00:00Z").unwrap(),
                expires_at: Timestamp::parse_rfc3339("2027-11-22T11:00:00Z").unwrap(),
                handover: Handover::Pending,
            }),
        }
    }

    #[test]
    fn round_trips_and_keeps_the_users_note() {
        let note = compose(
            Some("Owned by the identity team.\nTicket IAM-42."),
            &block(),
        );
        let (user, parsed) = split(&note);
        assert_eq!(user, "Owned by the identity team.\nTicket IAM-42.");
        assert_eq!(parsed, Some(block()));
    }

    #[test]
    fn a_note_without_a_block_is_all_the_users() {
        assert_eq!(split("just a note"), ("just a note".to_owned(), None));
    }

    #[test]
    fn unknown_lines_are_ignored_and_a_partial_token_is_no_token() {
        let note = format!("{BEGIN}\nkey = k\nfuture.field = 1\ntoken.client_id = c\n{END}");
        let (_, parsed) = split(&note);
        assert_eq!(
            parsed,
            Some(ManagedBlock {
                key: "k".into(),
                token: None
            })
        );
    }
}
