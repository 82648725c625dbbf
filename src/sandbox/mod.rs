//! The sandbox: faithful local emulators of the WS1 Access API and the Okta Management API.
//!
//! It is an independent reading of the vendors' references (`../shared/reference`) and specs,
//! never of what our clients send: nothing here imports `crate::providers` (or anything the
//! clients use), and the clients import nothing from here. A hygiene test enforces both.
//!
//! Each vendor service is an [`Emulator`]. [`server::serve`] wraps its router in the common
//! machinery ([`layer`]: request log, faults, `Date` header) and mounts the control plane
//! ([`control`]) beside it, so `/_sandbox/` answers on every port with the same [`Shared`] state.
//! [`start`] binds loopback ports and returns a [`RunningSandbox`] for tests and the CLI.

pub mod alternatives;
pub mod clock;
pub mod control;
pub mod layer;
pub mod okta;
pub mod scenario;
pub mod server;
pub mod ws1;

pub use alternatives::Alternatives;
pub use layer::{Fault, LogEntry, Mode, Shared, Urls};
pub use server::{RunningSandbox, SandboxOptions, serve, start};

/// One emulated vendor service.
pub trait Emulator: Send + Sync + 'static {
    /// "ws1" or "okta": the key of its part in a seed document and its control prefix.
    fn name(&self) -> &'static str;
    /// The vendor API routes.
    fn router(&self) -> axum::Router;
    /// Service-specific control routes with their index entries, mounted at
    /// `/_sandbox/<name>/`.
    fn console(&self) -> control::Console {
        control::Console::default()
    }
    /// Back to the empty, just-started state (seeded credentials included).
    fn reset(&self);
    /// Loads this service's part of a seed document (`{"ws1": {...}, "okta": {...}}`).
    fn seed(&self, seed: &serde_json::Value) -> Result<(), String>;
}
