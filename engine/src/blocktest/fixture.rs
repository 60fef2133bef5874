//! The JSON form of an Ethereum `BlockchainTests` fixture, as far as the runner reads it.

use alloy_primitives::{Address, B256, Bytes, U64, U256};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One named test of a fixture file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockchainTest {
    /// The fork (or transition) the test runs under, e.g. `Cancun`.
    pub network: String,
    /// The state before the genesis block.
    pub pre: BTreeMap<Address, FixtureAccount>,
    /// The RLP of the genesis block.
    #[serde(rename = "genesisRLP")]
    pub genesis_rlp: Bytes,
    /// The blocks to import, in order.
    pub blocks: Vec<FixtureBlock>,
    /// The expected state of the head block.
    #[serde(default)]
    pub post_state: Option<BTreeMap<Address, FixtureAccount>>,
    /// The expected state root of the head block, when the state is not listed.
    #[serde(default)]
    pub post_state_hash: Option<B256>,
    /// The hash of the expected head block.
    pub lastblockhash: B256,
}

/// An account of a pre- or post-state.
#[derive(Debug, Clone, Deserialize)]
pub struct FixtureAccount {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: U64,
    /// Code.
    #[serde(default)]
    pub code: Bytes,
    /// Non-zero storage slots.
    #[serde(default)]
    pub storage: BTreeMap<U256, U256>,
}

/// One block of a test: its RLP, and whether importing it must fail.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixtureBlock {
    /// The block's RLP as hex; kept as text because invalid blocks may carry malformed hex.
    pub rlp: String,
    /// Set on blocks that must be rejected.
    #[serde(default)]
    pub expect_exception: Option<String>,
}

/// Parses a fixture file: test names to tests.
pub fn parse_fixture(text: &str) -> Result<BTreeMap<String, serde_json::Value>, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid fixture JSON: {e}"))
}

/// Parses one test of a fixture file.
pub fn parse_test(value: serde_json::Value) -> Result<BlockchainTest, String> {
    serde_json::from_value(value).map_err(|e| format!("invalid test JSON: {e}"))
}
