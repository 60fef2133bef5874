//! Integration tests of `altius-settlement` against a real L1 (anvil).

mod anvil;
mod oracle;
