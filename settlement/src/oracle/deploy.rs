//! Deploying and initializing an L2OutputOracle (devnets and tests).

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use tracing::info;

use super::{L2OutputOracle, ensure_success, errors};
use crate::error::Result;

/// The arguments of the oracle's `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OracleInitParams {
    /// Interval in L2 blocks between proposals (non-zero).
    pub submission_interval: u64,
    /// Seconds between L2 blocks (non-zero).
    pub l2_block_time: u64,
    /// L2 block number before the first output; the first is `starting + interval`.
    pub starting_block_number: u64,
    /// Timestamp of the starting L2 block; at most the current L1 time.
    pub starting_timestamp: u64,
    /// The only address allowed to propose outputs.
    pub proposer: Address,
    /// The only address allowed to delete unfinalized outputs.
    pub challenger: Address,
    /// Seconds after which an output is final.
    pub finalization_period_seconds: u64,
}

/// Deploys the committed L2OutputOracle bytecode with `provider`'s wallet, calls
/// `initialize(params)` and returns the oracle's address once both transactions are mined.
pub async fn deploy_and_initialize<P: Provider>(
    provider: &P,
    params: &OracleInitParams,
) -> Result<Address> {
    let oracle = L2OutputOracle::deploy(provider)
        .await
        .map_err(errors::from_contract)?;
    let receipt = oracle
        .initialize(
            U256::from(params.submission_interval),
            U256::from(params.l2_block_time),
            U256::from(params.starting_block_number),
            U256::from(params.starting_timestamp),
            params.proposer,
            params.challenger,
            U256::from(params.finalization_period_seconds),
        )
        .send()
        .await
        .map_err(errors::from_contract)?
        .get_receipt()
        .await
        .map_err(errors::from_pending)?;
    ensure_success(&receipt, "initialize")?;
    let address = *oracle.address();
    info!(
        target: "altius::settlement",
        %address, ?params, "L2OutputOracle deployed and initialized"
    );
    Ok(address)
}
