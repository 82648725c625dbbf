//! Applying a plan: the executor, the token handover, and the proofs that it worked.
//!
//! [`applier`] performs one action against the services; [`executor`] runs a plan's actions in
//! dependency order; [`verify`] proves the result (pushes settled, users in WS1 as configured,
//! compared by [`dataflow`] using [`expression`]); [`token_file`] is the only way a token reaches
//! the disk. [`drift`] judges config, token and data-flow drift from reads alone.

pub mod applier;
pub mod dataflow;
pub mod drift;
pub mod executor;
pub mod expression;
pub mod lease;
pub mod operation;
pub mod saved;
pub mod session;
pub mod token_file;
pub mod verify;
