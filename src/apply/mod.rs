//! Applying a plan: the executor, the token handover, and the proofs that it worked.
//!
//! Work in progress (issue 6): so far the pieces that need no network, the `--token-out` file
//! writer, the expression evaluator and the data-flow comparison.

pub mod dataflow;
pub mod executor;
pub mod expression;
pub mod token_file;
