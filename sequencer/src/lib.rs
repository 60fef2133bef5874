//! The Altius sequencer node: configuration, mempool, block building, chain storage and the
//! Ethereum JSON-RPC server behind the `altius` binary.

#![warn(missing_docs)]

pub mod bench;
pub mod blocktest_cmd;
pub mod builder;
pub mod cli;
pub mod config;
pub mod contracts_cmd;
pub mod dev;
mod genesis;
pub mod mempool;
pub mod node;
pub mod rollup;
pub mod rpc;
pub mod run;
pub mod store;
