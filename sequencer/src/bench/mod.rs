//! `altius bench ...` commands. Each prints exactly one JSON line on stdout so that anyone can
//! rerun it and compare.

pub mod engine;
pub mod rpc;
pub mod state;
