//! The managed block in the Okta app's admin note: scimbridge's only persistent state.
//!
//! There is no state file, yet some facts must be known on any machine: which app is ours (a
//! stable key, so renaming the label updates the app instead of creating a second one); the
//! bearer token Okta should hold (when it was minted and expires, how it was handed over, and
//! what confirmed that Okta holds it); the token Okta held before it, while a rotation's handover
//! is unconfirmed; unconfirmed tokens a re-issue superseded, which stay valid until they expire;
//! and a salted, slow digest of the SCIM client's secret, so a changed secret can be seen
//! without minting. Two records guard the token's life against an interrupted or concurrent
//! run: a mint in progress ([`MintIntent`], written before the token is asked for and cleared
//! when it is recorded, so a token whose run died is accounted for, or adopted from the file it
//! reached) and an apply's lease ([`Lease`], so a second apply on the same pair refuses instead
//! of minting a second token). They live in a delimited block at the end of the app's admin note;
//! everything outside the block is the user's and is kept byte for byte. Unknown lines inside
//! the block are ignored, so a newer scimbridge can add fields without breaking an older one.
//! Every time in the block is a server's time (`Date` headers, token claims), never this
//! machine's.

use serde::{Deserialize, Serialize};

use super::Timestamp;

const BEGIN: &str = "[scimbridge: managed block, do not edit]";
const END: &str = "[/scimbridge]";

/// What the managed block records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedBlock {
    /// The config's `okta.app.key`.
    pub key: String,
    /// The newest bearer token minted for Okta, once one was.
    #[serde(default)]
    pub token: Option<TokenRecord>,
    /// The token Okta held when `token` was minted; kept while `token`'s handover is pending,
    /// because until then Okta still uses it.
    #[serde(default)]
    pub previous: Option<PriorToken>,
    /// Unconfirmed tokens a re-issue superseded; they stay valid until they expire, and are
    /// reported until then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strays: Vec<PriorToken>,
    /// `pbkdf2-sha256$…` of the SCIM client's secret, recorded when a mint proved it right.
    #[serde(default)]
    pub secret_digest: Option<String>,
    /// A mint that began and was not recorded yet: while a run mints, or after it died.
    #[serde(default)]
    pub minting: Option<MintIntent>,
    /// The apply that holds the pair now, if any.
    #[serde(default)]
    pub lease: Option<Lease>,
}

/// A token asked for and not yet recorded: written before the request, cleared when the token
/// is recorded. Found by a later run, it says a token may be live that no record holds; if it
/// reached `file`, that run adopts it instead of minting another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintIntent {
    pub client_id: String,
    /// Server time just before the token request.
    pub started_at: Timestamp,
    /// The latest such a token can expire: `started_at` plus the client's access-token TTL.
    pub expires_by: Timestamp,
    /// The `--token-out` file the token was to be written to (an absolute path).
    #[serde(default)]
    pub file: Option<String>,
}

impl MintIntent {
    /// The token this mint may have produced, known only by its latest lifetime.
    pub fn prior(&self) -> PriorToken {
        PriorToken {
            client_id: self.client_id.clone(),
            minted_at: self.started_at,
            expires_at: self.expires_by,
        }
    }
}

/// An apply's claim on the pair until `until` (server time). Okta offers no compare-and-set on
/// apps, so the holder re-reads the note after writing it and every later note write checks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lease {
    /// A random id of the run.
    pub run: String,
    pub until: Timestamp,
}

/// The bearer token handed (or being handed) to Okta.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// The WS1 OAuth client that issued it.
    pub client_id: String,
    pub minted_at: Timestamp,
    pub expires_at: Timestamp,
    /// Whether Okta is known to hold it.
    pub handover: Handover,
    /// How it went to Okta.
    #[serde(default = "Via::console")]
    pub via: Via,
    /// Whether Okta showed provisioning on (its `features[]`) both just before and just after the
    /// mint; `None` in blocks written before this was recorded. A console handover of a token
    /// minted while provisioning was already on cannot be confirmed by seeing it on.
    #[serde(default)]
    pub provisioning_at_mint: Option<bool>,
    /// Every other working token of the client is `previous` or a stray: the client was new or
    /// recreated when this token or an earlier recorded one was minted. Only then can a
    /// successful push after all of them expired prove that Okta holds this one.
    #[serde(default)]
    pub others_known: bool,
    /// What confirmed the handover, and when (server time).
    #[serde(default)]
    pub confirmed: Option<Confirmation>,
}

/// A token known only by its lifetime: the one Okta held before, or a superseded one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorToken {
    pub client_id: String,
    pub minted_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Whether Okta holds the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handover {
    /// Written to the user's file; the console step is not confirmed yet.
    Pending,
    /// Okta holds it.
    Confirmed,
}

/// How a token reached Okta.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Okta's connection API, in memory.
    Api,
    /// A file the user named, then the Admin Console.
    Console,
}

impl Via {
    fn console() -> Self {
        Via::Console
    }

    fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Console => "console",
        }
    }
}

/// What showed that Okta holds the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmedBy {
    /// Okta's connection API accepted it.
    Api,
    /// Okta's provisioning features were off when the token was minted and are on now: the
    /// console step was done after the mint.
    FeaturesAfterMint,
    /// Okta pushed a user successfully after every other working token of the client had
    /// expired or been revoked.
    PushAfterOthersEnded,
    /// The admin said so (`apply --confirm-handover`).
    Admin,
    /// Recorded as confirmed by a scimbridge that did not record why.
    Unrecorded,
}

impl ConfirmedBy {
    fn as_str(self) -> &'static str {
        match self {
            ConfirmedBy::Api => "api",
            ConfirmedBy::FeaturesAfterMint => "features-after-mint",
            ConfirmedBy::PushAfterOthersEnded => "push-after-others-ended",
            ConfirmedBy::Admin => "admin",
            ConfirmedBy::Unrecorded => "unrecorded",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            ConfirmedBy::Api,
            ConfirmedBy::FeaturesAfterMint,
            ConfirmedBy::PushAfterOthersEnded,
            ConfirmedBy::Admin,
            ConfirmedBy::Unrecorded,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }

    /// The evidence in words, for plans and reports.
    pub fn describe(self) -> &'static str {
        match self {
            ConfirmedBy::Api => "Okta's connection API accepted it",
            ConfirmedBy::FeaturesAfterMint => {
                "Okta turned provisioning on after it was minted (it was off at the mint)"
            }
            ConfirmedBy::PushAfterOthersEnded => {
                "Okta pushed a user successfully after every other token of the client had expired or been revoked"
            }
            ConfirmedBy::Admin => "the admin confirmed the console step (--confirm-handover)",
            ConfirmedBy::Unrecorded => "recorded by an earlier scimbridge, evidence not recorded",
        }
    }
}

/// A confirmed handover: what showed it, and when (server time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    pub by: ConfirmedBy,
    pub at: Option<Timestamp>,
}

impl Handover {
    fn as_str(self) -> &'static str {
        match self {
            Handover::Pending => "pending",
            Handover::Confirmed => "confirmed",
        }
    }
}

impl TokenRecord {
    /// This token as a prior one (its lifetime only).
    pub fn prior(&self) -> PriorToken {
        PriorToken {
            client_id: self.client_id.clone(),
            minted_at: self.minted_at,
            expires_at: self.expires_at,
        }
    }
}

impl ManagedBlock {
    /// A block holding only the app's key.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            ..Self::default()
        }
    }

    /// Records `new` as the newest token and moves the one it replaces where it belongs: a
    /// confirmed token becomes `previous` (Okta keeps using it until `new` is confirmed), an
    /// unconfirmed one becomes a stray (nothing uses it, but it stays valid). With
    /// `revoked_all`, every earlier token of the client was revoked (the client was recreated),
    /// so neither is kept. Strays already expired at `new`'s mint are dropped; the previous
    /// token is kept even when expired, because a push after its expiry proves the new one.
    pub fn record_new_token(&mut self, mut new: TokenRecord, revoked_all: bool) {
        let now = new.minted_at;
        new.others_known = revoked_all || self.token.as_ref().is_some_and(|old| old.others_known);
        if revoked_all {
            self.previous = None;
            self.strays.clear();
        } else if let Some(old) = self.token.take() {
            match old.handover {
                Handover::Confirmed => self.previous = Some(old.prior()),
                Handover::Pending => self.strays.push(old.prior()),
            }
        }
        if new.handover == Handover::Confirmed {
            self.previous = None;
        }
        self.strays.retain(|s| s.expires_at > now);
        // The mint in progress, if any, is the one being recorded.
        self.minting = None;
        self.token = Some(new);
    }

    /// Records a mint about to be asked for. An earlier mint that was never recorded (its run
    /// died) may have left a live token: it becomes a stray, unless `revoked_all` (the client
    /// was recreated since, which revoked it).
    pub fn begin_mint(&mut self, intent: MintIntent, revoked_all: bool) {
        if let Some(old) = self.minting.take()
            && !revoked_all
            && old.expires_by > intent.started_at
        {
            self.strays.push(old.prior());
        }
        self.minting = Some(intent);
    }

    /// Every token of the client that may still work besides the newest: the previous one,
    /// strays, and one an unrecorded mint may have produced.
    pub fn others(&self) -> impl Iterator<Item = PriorToken> + '_ {
        self.previous
            .iter()
            .chain(&self.strays)
            .cloned()
            .chain(self.minting.iter().map(MintIntent::prior))
    }

    /// Marks the newest token's handover confirmed; the previous token is no longer Okta's.
    pub fn confirm(&mut self, confirmation: Confirmation) {
        if let Some(token) = self.token.as_mut() {
            token.handover = Handover::Confirmed;
            token.confirmed = Some(confirmation);
            self.previous = None;
        }
    }
}

/// Whether `value` can be a block line's value: one line, no block marker. (A path that is
/// not is simply not recorded.)
pub fn fits_a_line(value: &str) -> bool {
    !value.chars().any(char::is_control)
        && !value.contains(END)
        && !value.contains(BEGIN)
        && value.trim() == value
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

/// The three fields every token line group has.
#[derive(Default)]
struct Lifetime {
    client: Option<String>,
    minted: Option<Timestamp>,
    expires: Option<Timestamp>,
}

impl Lifetime {
    fn prior(self) -> Option<PriorToken> {
        Some(PriorToken {
            client_id: self.client?,
            minted_at: self.minted?,
            expires_at: self.expires?,
        })
    }
}

fn parse_body(body: &str) -> Option<ManagedBlock> {
    let mut block = ManagedBlock::default();
    let mut key = None;
    let (mut token, mut previous) = (Lifetime::default(), Lifetime::default());
    let (mut minting, mut minting_file) = (Lifetime::default(), None);
    let (mut handover, mut via, mut at_mint) = (None, None, None);
    let (mut confirmed_by, mut confirmed_at) = (None, None);
    let mut others_known = false;
    for line in body.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let time = || Timestamp::parse_rfc3339(value);
        match name.trim() {
            "key" => key = Some(value.to_owned()),
            "token.client_id" => token.client = Some(value.to_owned()),
            "token.minted_at" => token.minted = time(),
            "token.expires_at" => token.expires = time(),
            "token.handover" => {
                handover = match value {
                    "pending" => Some(Handover::Pending),
                    "confirmed" => Some(Handover::Confirmed),
                    _ => None,
                }
            }
            "token.via" => {
                via = match value {
                    "api" => Some(Via::Api),
                    "console" => Some(Via::Console),
                    _ => None,
                }
            }
            "token.provisioning_at_mint" => {
                at_mint = match value {
                    "on" => Some(true),
                    "off" => Some(false),
                    _ => None,
                }
            }
            "token.others_known" => others_known = value == "yes",
            "token.confirmed_by" => confirmed_by = ConfirmedBy::parse(value),
            "token.confirmed_at" => confirmed_at = time(),
            "previous.client_id" => previous.client = Some(value.to_owned()),
            "previous.minted_at" => previous.minted = time(),
            "previous.expires_at" => previous.expires = time(),
            "stray" => {
                let mut parts = value.split_whitespace();
                let stray = Lifetime {
                    client: parts.next().map(str::to_owned),
                    minted: parts.next().and_then(Timestamp::parse_rfc3339),
                    expires: parts.next().and_then(Timestamp::parse_rfc3339),
                };
                block.strays.extend(stray.prior());
            }
            "secret.digest" => block.secret_digest = Some(value.to_owned()),
            "minting.client_id" => minting.client = Some(value.to_owned()),
            "minting.started_at" => minting.minted = time(),
            "minting.expires_by" => minting.expires = time(),
            "minting.file" => minting_file = Some(value.to_owned()),
            "lease" => {
                let mut parts = value.split_whitespace();
                block.lease = match (
                    parts.next(),
                    parts.next().and_then(Timestamp::parse_rfc3339),
                ) {
                    (Some(run), Some(until)) => Some(Lease {
                        run: run.to_owned(),
                        until,
                    }),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    block.key = key?;
    block.minting = minting.prior().map(|p| MintIntent {
        client_id: p.client_id,
        started_at: p.minted_at,
        expires_by: p.expires_at,
        file: minting_file,
    });
    block.previous = previous.prior();
    block.token = match (token.prior(), handover) {
        (Some(prior), Some(handover)) => Some(TokenRecord {
            client_id: prior.client_id,
            minted_at: prior.minted_at,
            expires_at: prior.expires_at,
            handover,
            via: via.unwrap_or(Via::Console),
            provisioning_at_mint: at_mint,
            others_known,
            confirmed: (handover == Handover::Confirmed).then(|| Confirmation {
                by: confirmed_by.unwrap_or(ConfirmedBy::Unrecorded),
                at: confirmed_at,
            }),
        }),
        _ => None,
    };
    Some(block)
}

/// The full admin note: the user's part, a blank line, then the block.
pub fn compose(user: Option<&str>, block: &ManagedBlock) -> String {
    let mut out = String::new();
    if let Some(user) = user.map(str::trim_end).filter(|u| !u.is_empty()) {
        out.push_str(user);
        out.push_str("\n\n");
    }
    out.push_str(BEGIN);
    let mut line = |name: &str, value: &dyn std::fmt::Display| {
        out.push_str(&format!("\n{name} = {value}"));
    };
    line("key", &block.key);
    if let Some(token) = &block.token {
        line("token.client_id", &token.client_id);
        line("token.minted_at", &token.minted_at);
        line("token.expires_at", &token.expires_at);
        line("token.handover", &token.handover.as_str());
        line("token.via", &token.via.as_str());
        if let Some(on) = token.provisioning_at_mint {
            line("token.provisioning_at_mint", &if on { "on" } else { "off" });
        }
        if token.others_known {
            line("token.others_known", &"yes");
        }
        if let Some(confirmed) = &token.confirmed {
            line("token.confirmed_by", &confirmed.by.as_str());
            if let Some(at) = confirmed.at {
                line("token.confirmed_at", &at);
            }
        }
    }
    if let Some(previous) = &block.previous {
        line("previous.client_id", &previous.client_id);
        line("previous.minted_at", &previous.minted_at);
        line("previous.expires_at", &previous.expires_at);
    }
    for stray in &block.strays {
        line(
            "stray",
            &format!(
                "{} {} {}",
                stray.client_id, stray.minted_at, stray.expires_at
            ),
        );
    }
    if let Some(digest) = &block.secret_digest {
        line("secret.digest", digest);
    }
    if let Some(intent) = &block.minting {
        line("minting.client_id", &intent.client_id);
        line("minting.started_at", &intent.started_at);
        line("minting.expires_by", &intent.expires_by);
        if let Some(file) = &intent.file {
            line("minting.file", file);
        }
    }
    if let Some(lease) = &block.lease {
        line("lease", &format!("{} {}", lease.run, lease.until));
    }
    out.push('\n');
    out.push_str(END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn record(minted: &str, expires: &str, handover: Handover) -> TokenRecord {
        TokenRecord {
            client_id: "okta-scim".into(),
            minted_at: at(minted),
            expires_at: at(expires),
            handover,
            via: Via::Console,
            provisioning_at_mint: Some(true),
            others_known: handover == Handover::Pending,
            confirmed: (handover == Handover::Confirmed).then_some(Confirmation {
                by: ConfirmedBy::Admin,
                at: Some(at("2026-11-23T09:00:00Z")),
            }),
        }
    }

    fn block() -> ManagedBlock {
        ManagedBlock {
            key: "workspace-one".into(),
            token: Some(record(
                "2026-11-22T11:00:00Z",
                "2027-11-22T11:00:00Z",
                Handover::Pending,
            )),
            previous: Some(PriorToken {
                client_id: "okta-scim".into(),
                minted_at: at("2025-12-01T00:00:00Z"),
                expires_at: at("2026-12-01T00:00:00Z"),
            }),
            strays: vec![PriorToken {
                client_id: "okta-scim".into(),
                minted_at: at("2026-11-20T00:00:00Z"),
                expires_at: at("2027-11-20T00:00:00Z"),
            }],
            secret_digest: Some("pbkdf2-sha256$600000$c2FsdA$aGFzaA".into()),
            minting: Some(MintIntent {
                client_id: "okta-scim".into(),
                started_at: at("2026-11-23T10:00:00Z"),
                expires_by: at("2027-11-23T10:00:00Z"),
                file: Some("/home/admin/token with space.txt".into()),
            }),
            lease: Some(Lease {
                run: "r1a2b3c4d5e6f7a8".into(),
                until: at("2026-11-23T10:15:00Z"),
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
        assert_eq!(parsed, Some(ManagedBlock::new("k")));
    }

    #[test]
    fn an_older_block_reads_as_a_console_handover_whose_evidence_was_not_recorded() {
        let note = format!(
            "{BEGIN}\nkey = k\ntoken.client_id = c\ntoken.minted_at = 2026-11-22T11:00:00Z\ntoken.expires_at = 2027-11-22T11:00:00Z\ntoken.handover = confirmed\n{END}"
        );
        let token = split(&note).1.unwrap().token.unwrap();
        assert_eq!(token.via, Via::Console);
        assert_eq!(token.provisioning_at_mint, None);
        assert_eq!(
            token.confirmed,
            Some(Confirmation {
                by: ConfirmedBy::Unrecorded,
                at: None
            })
        );
    }

    #[test]
    fn a_new_token_moves_the_old_one_to_previous_or_the_strays() {
        // Rotating a confirmed token: Okta keeps using the old one until the new is confirmed.
        let mut b = ManagedBlock::new("k");
        b.token = Some(record(
            "2025-12-01T00:00:00Z",
            "2026-12-01T00:00:00Z",
            Handover::Confirmed,
        ));
        b.record_new_token(
            record(
                "2026-11-10T00:00:00Z",
                "2027-11-10T00:00:00Z",
                Handover::Pending,
            ),
            false,
        );
        assert_eq!(
            b.previous.as_ref().unwrap().minted_at,
            at("2025-12-01T00:00:00Z")
        );
        assert!(b.strays.is_empty());
        // Re-issuing the unconfirmed one: it becomes a stray; previous stays Okta's.
        b.record_new_token(
            record(
                "2026-11-12T00:00:00Z",
                "2027-11-12T00:00:00Z",
                Handover::Pending,
            ),
            false,
        );
        assert_eq!(
            b.previous.as_ref().unwrap().minted_at,
            at("2025-12-01T00:00:00Z")
        );
        assert_eq!(b.strays.len(), 1);
        assert_eq!(b.strays[0].minted_at, at("2026-11-10T00:00:00Z"));
        // Confirming: the previous token is no longer Okta's; strays stay until they expire.
        b.confirm(Confirmation {
            by: ConfirmedBy::Admin,
            at: Some(at("2026-11-13T00:00:00Z")),
        });
        assert_eq!(b.previous, None);
        assert_eq!(b.strays.len(), 1);
        // A recreated client revoked everything.
        b.record_new_token(
            record(
                "2026-11-14T00:00:00Z",
                "2027-11-14T00:00:00Z",
                Handover::Pending,
            ),
            true,
        );
        assert_eq!((b.previous.clone(), b.strays.len()), (None, 0));
    }

    #[test]
    fn an_unrecorded_mint_becomes_a_stray_unless_its_client_was_recreated() {
        let intent = |started: &str, expires: &str| MintIntent {
            client_id: "okta-scim".into(),
            started_at: at(started),
            expires_by: at(expires),
            file: None,
        };
        let mut b = ManagedBlock::new("k");
        b.begin_mint(
            intent("2026-11-01T00:00:00Z", "2027-11-01T00:00:00Z"),
            false,
        );
        assert!(b.strays.is_empty());
        assert_eq!(b.others().count(), 1, "a token it may have made is counted");
        // That run died; the next one begins its own mint: the first may be live.
        b.begin_mint(
            intent("2026-11-02T00:00:00Z", "2027-11-02T00:00:00Z"),
            false,
        );
        assert_eq!(b.strays.len(), 1);
        assert_eq!(b.strays[0].minted_at, at("2026-11-01T00:00:00Z"));
        // Recording the token clears the mint in progress.
        b.record_new_token(
            record(
                "2026-11-02T00:00:01Z",
                "2027-11-02T00:00:01Z",
                Handover::Pending,
            ),
            false,
        );
        assert_eq!(b.minting, None);
        // After a recreated client, an unrecorded mint's token is revoked: no stray.
        let mut b = ManagedBlock::new("k");
        b.begin_mint(
            intent("2026-11-01T00:00:00Z", "2027-11-01T00:00:00Z"),
            false,
        );
        b.begin_mint(intent("2026-11-02T00:00:00Z", "2027-11-02T00:00:00Z"), true);
        assert!(b.strays.is_empty());
    }

    #[test]
    fn paths_that_cannot_be_a_line_are_not_recorded() {
        assert!(fits_a_line("/home/admin/token with space.txt"));
        assert!(!fits_a_line("/tmp/a\nkey = other"));
        assert!(!fits_a_line(&format!("/tmp/{END}")));
        assert!(!fits_a_line(" /tmp/leading-space"));
    }

    #[test]
    fn expired_strays_are_dropped_and_an_expired_previous_is_kept() {
        let mut b = ManagedBlock::new("k");
        b.token = Some(record(
            "2025-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            Handover::Pending,
        ));
        b.record_new_token(
            record(
                "2026-02-01T00:00:00Z",
                "2027-02-01T00:00:00Z",
                Handover::Confirmed,
            ),
            false,
        );
        assert!(b.strays.is_empty(), "an expired stray is nobody's concern");
        b.token.as_mut().unwrap().expires_at = at("2026-03-01T00:00:00Z");
        b.record_new_token(
            record(
                "2026-04-01T00:00:00Z",
                "2027-04-01T00:00:00Z",
                Handover::Pending,
            ),
            false,
        );
        assert_eq!(
            b.previous.as_ref().map(|p| p.expires_at),
            Some(at("2026-03-01T00:00:00Z")),
            "a push after the old token's expiry is evidence for the new one"
        );
    }
}
