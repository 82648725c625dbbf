//! RS256 access tokens as WS1 Access mints them (ws1-api.md §3.4), and their verification.
//!
//! The signing key is one fixed 2048-bit RSA key compiled into the binary (`signing_key.der`, PKCS#1):
//! generating a key at start-up costs seconds in debug builds, and a sandbox key protects
//! nothing. Every sandbox therefore signs with the same key; tokens stay bound to one sandbox
//! because each one's `jti` must be in that sandbox's issued set.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, RsaKeyPair};
use serde_json::{Value, json};

/// The sandbox tenant's name, upper-cased in `prn` as WS1 does.
pub const TENANT: &str = "SANDBOX";

fn key() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaKeyPair::from_der(include_bytes!("signing_key.der")).expect("bundled RSA key")
    })
}

/// A random UUID (version 4), as WS1 uses for ids.
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).expect("system randomness");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A random opaque string (secrets, refresh tokens).
pub fn opaque(len: usize) -> String {
    let mut b = vec![0u8; len];
    SystemRandom::new().fill(&mut b).expect("system randomness");
    URL_SAFE_NO_PAD.encode(b)
}

/// The claims of a service (client_credentials) token, §3.4.
pub fn service_claims(
    base_url: &str,
    client_id: &str,
    scope: &str,
    jti: &str,
    iat: u64,
    ttl_minutes: u64,
) -> Value {
    let squashed: String = client_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let uid = uuid();
    json!({
        "jti": jti,
        "pid": uuid(),
        "prn": format!("{client_id}@{TENANT}"),
        "prn_type": "SERVICE",
        "cid": client_id,
        "scp": scope,
        "eml": format!("OAuthClient_{squashed}@noreply.com"),
        "domain": "System Domain",
        "user_id": uid,
        "sub": uid,
        "idp": "0",
        "did": "",
        "wid": "",
        "ctx": "[{\"mtd\":\"urn:vmware:names:ac:classes:LocalPasswordAuth\",\"iat\":0,\"id\":0}]",
        "iss": format!("{base_url}/SAAS/auth"),
        "aud": format!("{base_url}/SAAS/auth/oauthtoken"),
        "iat": iat,
        "auth_time": iat,
        "exp": iat + ttl_minutes * 60,
    })
}

/// Signs claims into a compact JWT with header `{"typ":"JWT","alg":"RS256"}`.
pub fn sign(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{body}");
    let key = key();
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .expect("RSA signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The claims of a token whose RS256 signature is ours; `None` for anything else.
pub fn verify(token: &str) -> Option<Value> {
    let (input, sig) = token.rsplit_once('.')?;
    let (header, body) = input.split_once('.')?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg")? != "RS256" {
        return None;
    }
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let public = signature::UnparsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        key().public().as_ref(),
    );
    public.verify(input.as_bytes(), &sig).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}
