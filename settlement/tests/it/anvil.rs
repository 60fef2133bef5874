//! The shared anvil test helper.

pub(crate) use altius_test_anvil::*;
