//! The desired state: the YAML model, its validation with source locations, and its JSON Schema.
//!
//! Work in progress (issue 2).
