//! Integration tests of `altius-da`: against a real L1 (anvil) and against loopback HTTP
//! servers that check every request against the documented alt-DA, eigenda-proxy and
//! celestia-node APIs.

mod alt_da;
mod alt_da_l1;
mod anvil;
mod blobs;
mod calldata;
mod celestia;
mod servers;
