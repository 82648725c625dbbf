//! The one integration-test binary. Each module tests one part through its public surface;
//! anything with a network talks real HTTP to the sandbox on loopback.

mod alternatives;
mod canary;
mod config;
mod conformance;
mod environments;
mod fleet;
mod hostile;
mod hostile_input;
mod hygiene;
mod import;
mod interrupted;
mod pipelines;
mod planner;
mod progress;
mod providers;
mod reconcile;
mod sandbox_okta;
mod sandbox_ws1;
mod saved_plan;
mod scenario;
mod support;
mod token_life;
mod transport;
mod watch;
