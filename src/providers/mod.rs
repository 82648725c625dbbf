//! Clients for the two vendor APIs scimbridge reads and writes: Okta's Management API
//! ([`okta::OktaClient`]) and Workspace ONE Access ([`ws1::Ws1Client`]), over the shared
//! [`http`] layer.
//!
//! What must hold: the clients are written from `reference/okta-api.md` and `reference/ws1-api.md`
//! and work unchanged against a real tenant; they never import the sandbox; secrets stay inside
//! `crate::secret::Secret` until the moment they go on the wire; every failure is an
//! [`http::ApiError`] whose [`http::ErrorKind`] the reconciler matches on.

pub mod http;
pub mod okta;
pub mod trust;
pub mod ws1;

pub use http::{ApiError, ErrorKind, HttpSettings};
