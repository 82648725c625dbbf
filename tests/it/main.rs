//! The one integration-test binary. Each module tests one part through its public surface;
//! anything with a network talks real HTTP to the sandbox on loopback.

mod hygiene;
mod providers;
mod sandbox_ws1;
mod support;
