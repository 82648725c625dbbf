//! What scimbridge trusts besides the web roots bundled in the binary: the operating system's
//! trust store ([`os_store`]), and CA certificates from PEM files (`--ca-cert`, `SSL_CERT_FILE`)
//! and directories of them (`SSL_CERT_DIR`), for a private CA or a TLS-inspecting proxy.
//!
//! What must hold: every certificate is checked here as a trust anchor, so a file that cannot be
//! used is an error naming it before any request is sent, never a panic or a failure at the
//! first connection; the OS store is read once per process; nothing here reads the environment
//! itself (the CLI passes the paths it got from `crate::env`; on Linux, rustls-native-certs
//! takes `SSL_CERT_FILE`/`SSL_CERT_DIR` as the OS store's location, as OpenSSL does).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

/// A CA certificate (DER) that will be trusted.
pub type Anchor = CertificateDer<'static>;

/// Why a CA file cannot be used. Each names the file; the cause follows in the error chain.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid PEM file", .path.display())]
    Pem {
        path: PathBuf,
        #[source]
        source: pem::Error,
    },
    #[error("{} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)", .path.display())]
    NoCertificate { path: PathBuf },
    #[error("certificate {number} of {} cannot be used as a CA certificate", .path.display())]
    Unusable {
        path: PathBuf,
        /// 1-based, in file order.
        number: usize,
        #[source]
        source: rustls::Error,
    },
}

/// The certificates of one PEM file; an error if it cannot be read, is not PEM, holds no
/// certificate or holds one that cannot be a trust anchor.
pub fn read_pem_file(path: &Path) -> Result<Vec<Anchor>, TrustError> {
    let bytes = std::fs::read(path).map_err(|source| TrustError::Read {
        path: path.to_owned(),
        source,
    })?;
    let anchors = parse_pem(path, &bytes)?;
    if anchors.is_empty() {
        return Err(TrustError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(anchors)
}

/// The certificates of every PEM file in `dir` (symbolic links followed, as `openssl rehash`
/// makes them). Files without a certificate (CRLs, notes) and dangling links are skipped; an
/// unreadable directory or file, or a broken certificate, is an error naming it.
pub fn read_pem_dir(dir: &Path) -> Result<Vec<Anchor>, TrustError> {
    let unreadable = |path: &Path| {
        let path = path.to_owned();
        move |source| TrustError::Read { path, source }
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable(dir))? {
        paths.push(entry.map_err(unreadable(dir))?.path());
    }
    paths.sort();
    let mut anchors = Vec::new();
    for path in paths {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(TrustError::Read { path, source }),
        }
        let bytes = std::fs::read(&path).map_err(unreadable(&path))?;
        anchors.extend(parse_pem(&path, &bytes)?);
    }
    Ok(anchors)
}

/// The operating system's trust store, read once per process: reading it takes milliseconds,
/// and every client would repeat it. Certificates rustls cannot use as anchors (OS stores keep a
/// few ancient ones) are left out, as reqwest and the platform verifiers do; an empty or missing
/// store is empty here, and the bundled web roots still apply.
pub fn os_store() -> &'static [Anchor] {
    static STORE: OnceLock<Vec<Anchor>> = OnceLock::new();
    STORE.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!(%error, "reading the OS trust store");
        }
        found
            .certs
            .into_iter()
            .filter(|cert| check(cert).is_ok())
            .collect()
    })
}

/// Drops repeated certificates (a bundle and the directory it was built from often overlap).
pub fn dedup(anchors: &mut Vec<Anchor>) {
    let mut seen = HashSet::new();
    anchors.retain(|a| seen.insert(a.as_ref().to_vec()));
}

fn parse_pem(path: &Path, bytes: &[u8]) -> Result<Vec<Anchor>, TrustError> {
    let mut anchors = Vec::new();
    for (i, cert) in CertificateDer::pem_slice_iter(bytes).enumerate() {
        let cert = cert.map_err(|source| TrustError::Pem {
            path: path.to_owned(),
            source,
        })?;
        check(&cert).map_err(|source| TrustError::Unusable {
            path: path.to_owned(),
            number: i + 1,
            source,
        })?;
        anchors.push(cert);
    }
    Ok(anchors)
}

/// Whether `cert` can be a trust anchor: the check reqwest makes when it builds a client, made
/// first so that it cannot fail there.
fn check(cert: &Anchor) -> Result<(), rustls::Error> {
    rustls::RootCertStore::empty().add(cert.clone())
}
