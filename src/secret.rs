//! [`Secret`]: a resolved secret value (API token, client secret, bearer token).
//!
//! Its `Debug` and `Display` never show the value, so a secret can travel through errors, logs
//! and plans without leaking. The only way to the bytes is [`Secret::expose`], which callers use
//! at the moment of putting the value on the wire or into a file the user named.
//!
//! [`Secret::digest`] is the one derived form that may be stored: PBKDF2-HMAC-SHA256 with a
//! fresh random 16-byte salt and [`DIGEST_ITERATIONS`] rounds, written as
//! `pbkdf2-sha256$<rounds>$<salt>$<hash>`. scimbridge keeps it in the Okta app's managed block to
//! tell whether the configured SCIM client secret is still the one set on the client (WS1 never
//! returns a secret). Whoever can read the note learns nothing faster than by guessing the
//! secret and paying the rounds for every guess; a generated secret is out of reach, and a
//! weak one is slowed by the same factor as a password store's.
//!
//! Every value wrapped in a `Secret` is also known to [`scrub`], which everything printed goes
//! through (errors, log lines, the final error chain): a server that echoes a credential back
//! (an `errorSummary` quoting `SSWS …`, an HTML page quoting `Basic …`) cannot make us print it.
//! The registry is process-wide and small (a few values, each in a few derived forms); it is
//! read on the output path only.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};

/// `text` with the user info of every URL in it hidden: `http://admin:pw@host` becomes
/// `http://admin:***@host`, and a lone user name (often a token) `***`. Works on any text, so it
/// also covers a URL that does not parse, and a source line quoted in a diagnostic.
pub fn redact_userinfo(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        let tail = &rest[authority_start..];
        let authority_len = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '`')
            .unwrap_or(tail.len());
        out.push_str(&rest[..authority_start]);
        let authority = &tail[..authority_len];
        match authority.rfind('@') {
            Some(at) => {
                match authority[..at].split_once(':') {
                    Some((user, _)) => out.push_str(&format!("{user}:***")),
                    None => out.push_str("***"),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_len..];
    }
    if out.is_empty() {
        return text.into();
    }
    out.push_str(rest);
    out.into()
}

/// PBKDF2 rounds for a new digest: OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
pub const DIGEST_ITERATIONS: u32 = 600_000;
const DIGEST_SCHEME: &str = "pbkdf2-sha256";
const DIGEST_LEN: usize = 32;

/// A secret value that redacts itself when formatted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value and makes it known to [`scrub`].
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Self(value)
    }

    /// The value itself, for the wire or a mode-0600 file, never for formatting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A salted, slow digest of the value (see the module doc), safe to store.
    pub fn digest(&self) -> String {
        let mut salt = [0u8; 16];
        SystemRandom::new()
            .fill(&mut salt)
            .expect("the system's random source works");
        let rounds = NonZeroU32::new(DIGEST_ITERATIONS).expect("non-zero");
        let mut hash = [0u8; DIGEST_LEN];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &salt,
            self.0.as_bytes(),
            &mut hash,
        );
        format!(
            "{DIGEST_SCHEME}${rounds}${}${}",
            URL_SAFE_NO_PAD.encode(salt),
            URL_SAFE_NO_PAD.encode(hash)
        )
    }

    /// Whether `digest` (from [`Secret::digest`]) was made from this value; `None` when it is
    /// not a digest this version understands.
    pub fn matches_digest(&self, digest: &str) -> Option<bool> {
        let mut parts = digest.split('$');
        if parts.next()? != DIGEST_SCHEME {
            return None;
        }
        let rounds: NonZeroU32 = parts.next()?.parse().ok()?;
        let salt = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        let hash = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        if parts.next().is_some() || hash.len() != DIGEST_LEN {
            return None;
        }
        Some(
            ring::pbkdf2::verify(
                ring::pbkdf2::PBKDF2_HMAC_SHA256,
                rounds,
                &salt,
                self.0.as_bytes(),
                &hash,
            )
            .is_ok(),
        )
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"(sensitive)\")")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// Values shorter than this are not scrubbed: replacing every occurrence of a short value would
/// blank ordinary words and numbers in what we print, and no real credential is that short.
pub const MIN_SCRUBBED_LEN: usize = 8;

/// The forms of every registered value that [`scrub`] looks for, each with how many holders
/// keep it known ([`PERMANENT`] for a value registered for the whole process).
static KNOWN: RwLock<Vec<(String, usize)>> = RwLock::new(Vec::new());

/// The holder count of a value known for the rest of the process.
const PERMANENT: usize = usize::MAX;

/// Makes `value` known to [`scrub`] for the rest of the process (a value a server gave us that
/// is not kept as a `Secret`). Values under [`MIN_SCRUBBED_LEN`] are ignored. Registering a
/// value again costs nothing: a config's secrets are resolved again by every run of `watch`.
pub fn register(value: &str) {
    add(value, |holders| *holders = PERMANENT);
}

/// Makes `value` known to [`scrub`] while the returned [`Held`] lives: for a value replaced over
/// a long run (the admin bearer token, minted again every session of `watch`), so the scrubber
/// does not grow with every one. Once no holder keeps it, scimbridge holds the value nowhere, so
/// nothing it prints can contain it.
pub fn hold(value: &str) -> Held {
    Held(add(value, |holders| {
        // A permanent value stays permanent.
        *holders = holders.saturating_add(1)
    }))
}

/// Counts a holder of each form of `value` with `count` (new forms start at 0), returning the
/// forms.
fn add(value: &str, count: impl Fn(&mut usize)) -> Vec<String> {
    if value.len() < MIN_SCRUBBED_LEN {
        return Vec::new();
    }
    let forms: Vec<String> = forms(value)
        .into_iter()
        .filter(|f| f.len() >= MIN_SCRUBBED_LEN)
        .collect();
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    for form in &forms {
        match known.iter_mut().find(|(k, _)| k == form) {
            Some((_, holders)) => count(holders),
            None => {
                let mut holders = 0;
                count(&mut holders);
                known.push((form.clone(), holders));
            }
        }
    }
    forms
}

/// Keeps a value known to [`scrub`] until dropped ([`hold`]).
#[derive(Debug)]
pub struct Held(Vec<String>);

impl Drop for Held {
    fn drop(&mut self) {
        let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
        for form in &self.0 {
            if let Some(at) = known.iter().position(|(k, _)| k == form)
                && known[at].1 != PERMANENT
            {
                known[at].1 -= 1;
                if known[at].1 == 0 {
                    known.swap_remove(at);
                }
            }
        }
    }
}

/// The value itself, URL-encoded (`+` or `%20` for spaces), and base64 (standard and URL-safe)
/// as it appears at any offset inside an encoded string: for each of the three alignments, the
/// characters that depend on the value's bytes alone. So `Basic base64(client_id:secret)` is
/// found whatever the client id, without knowing it.
fn forms(value: &str) -> Vec<String> {
    let form_encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut out = vec![
        value.to_owned(),
        form_encoded.replace('+', "%20"),
        form_encoded,
    ];
    for engine in [STANDARD, URL_SAFE] {
        for offset in 0..3 {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value.as_bytes());
            let encoded = engine.encode(&bytes);
            // The first group mixes the padding bytes in; a last, partial group depends on
            // what follows the value.
            let start = if offset == 0 { 0 } else { 4 };
            let end = bytes.len() / 3 * 4;
            if end > start {
                out.push(encoded[start..end].to_owned());
            }
        }
    }
    out
}

/// `text` with every word that contains a registered value, or one of its derived forms,
/// replaced by `***`. A word is a run of characters that can make up a token (letters, digits
/// and `+/=_-.~%`), so `SSWS 00Cn…` becomes `SSWS ***` and the whole of a base64 run goes, not
/// just its middle.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    let mut spans: Vec<(usize, usize)> = known
        .iter()
        .flat_map(|(form, _)| text.match_indices(form.as_str()))
        .map(|(at, form)| word_around(text.as_bytes(), at, at + form.len()))
        .collect();
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        if end <= copied {
            continue;
        }
        if start >= copied {
            out.push_str(&text[copied..start]);
            out.push_str("***");
        }
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Widens `start..end` to the word around it. Word characters are ASCII, so the bounds stay on
/// character boundaries.
fn word_around(text: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    let word = |b: u8| b.is_ascii_alphanumeric() || b"+/=_-.~%".contains(&b);
    while start > 0 && word(text[start - 1]) {
        start -= 1;
    }
    while end < text.len() && word(text[end]) {
        end += 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::{Secret, hold, register, scrub};

    #[test]
    fn every_form_of_a_known_value_is_scrubbed() {
        let value = "s3cr3t/value+with spaces-0001";
        let _secret = Secret::new(value);
        let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
        for id in ["", "a", "ab", "abc", "scimbridge-admin"] {
            let basic = STANDARD.encode(format!("{id}:{value}"));
            let text = format!("Invalid credentials: Basic {basic}.");
            assert_eq!(scrub(&text), "Invalid credentials: Basic ***", "id {id:?}");
        }
        let cases = [
            (format!("SSWS {value}"), "SSWS ***"),
            (format!("x={encoded}&y=1"), "***&y=1"),
            (encoded.replace('+', "%20"), "***"),
            (STANDARD.encode(value), "***"),
            (
                format!("\"{}\"", STANDARD.encode(format!("k {value} v"))),
                "\"***\"",
            ),
            ("nothing here".to_owned(), "nothing here"),
        ];
        for (text, expected) in cases {
            assert_eq!(scrub(&text), expected, "{text}");
        }
        // A value with a space goes whole, with the words it touches.
        assert_eq!(scrub(&format!("<p>{value}</p>")), "<p>***</p>");
    }

    #[test]
    fn a_held_value_is_scrubbed_while_someone_holds_it() {
        let value = "held-token-3f9a1c77e2";
        let line = format!("Bearer {value}");
        assert_eq!(scrub(&line), line);
        let first = hold(value);
        let second = hold(value);
        assert_eq!(scrub(&line), "Bearer ***");
        drop(first);
        assert_eq!(scrub(&line), "Bearer ***", "the second holder keeps it");
        drop(second);
        assert_eq!(scrub(&line), line, "held by nobody, known to nobody");
        let permanent = "permanent-token-8d2e4b19";
        register(permanent);
        drop(hold(permanent));
        assert_eq!(scrub(permanent), "***");
    }

    #[test]
    fn short_values_are_not_scrubbed() {
        register("ok");
        let _short = Secret::new("seven77");
        assert_eq!(scrub("ok seven77"), "ok seven77");
    }

    #[test]
    fn formatting_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret}"), "(sensitive)");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(!format!("{:#?}", Some(&secret)).contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn a_digest_tells_the_same_secret_from_another_and_never_contains_it() {
        let secret = Secret::new("hunter2");
        let digest = secret.digest();
        assert!(digest.starts_with("pbkdf2-sha256$600000$"), "{digest}");
        assert!(!digest.contains("hunter2"));
        assert_eq!(secret.matches_digest(&digest), Some(true));
        assert_eq!(Secret::new("hunter3").matches_digest(&digest), Some(false));
        assert_ne!(digest, secret.digest(), "every digest has its own salt");
        assert_eq!(secret.matches_digest("sha1$x"), None);
        assert_eq!(secret.matches_digest("pbkdf2-sha256$0$AA$AA"), None);
    }
}
