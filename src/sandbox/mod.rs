//! The sandbox: faithful local emulators of the WS1 Access API and the Okta Management API.
//!
//! It is an independent reading of the vendors' references (`../shared/reference`) and specs,
//! never of what our clients send: nothing here imports `crate::providers` (or anything the
//! clients use), and the clients import nothing from here. A hygiene test enforces both.

pub mod clock;
pub mod okta;
