//! Integration tests of `altius-da` against a real L1 (anvil).

mod anvil;
mod blobs;
mod calldata;
