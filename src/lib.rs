//! scimbridge: Okta → Workspace ONE Access SCIM provisioning as reviewed, repeatable configuration.
//!
//! The crate is layered; each layer only calls the ones before it (see ARCHITECTURE.md):
//! `config` → `providers` → `state` → `plan` → `apply` → `cli`. The `sandbox` emulates both
//! vendor APIs and shares no code with `providers`.

pub mod apply;
pub mod cli;
pub mod config;
pub mod env;
pub mod ids;
pub mod import;
pub mod plan;
pub mod progress;
pub mod providers;
pub mod sandbox;
pub mod secret;
pub mod state;
pub mod watch;
