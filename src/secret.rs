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

use std::fmt;
use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
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

#[cfg(test)]
mod tests {
    use super::Secret;

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
