//! [`L2OutputOracleClient`]: the L2OutputOracle contract on L1 as a [`SettlementClient`].

mod bindings;
mod deploy;
mod errors;

use std::{fmt, time::Duration};

use alloy::{
    network::ReceiptResponse,
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
    signers::local::PrivateKeySigner,
    transports::http::reqwest::Url,
};
use tracing::{debug, info};

pub use bindings::L2OutputOracle;
pub use deploy::{OracleInitParams, deploy_and_initialize};

use crate::{
    Proposal, ProposalReceipt, ProposedOutput, SettlementClient, SettlementError, SettlementFuture,
    error::Result,
};
use bindings::L2OutputOracle::L2OutputOracleInstance;

/// Proposes outputs to, and reads them from, an L2OutputOracle deployed on L1.
///
/// Transactions are signed by the provider's wallet (the proposer key), which must be the
/// oracle's `proposer`. Reverts come back as [`SettlementError::Reverted`] with the decoded
/// reason, an unreachable endpoint as [`SettlementError::Unavailable`]. The key is never
/// logged: `Debug` shows only addresses and settings.
#[derive(Clone)]
pub struct L2OutputOracleClient {
    oracle: L2OutputOracleInstance<DynProvider>,
    proposer: Option<Address>,
    confirmations: u64,
    receipt_timeout: Duration,
}

impl fmt::Debug for L2OutputOracleClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L2OutputOracleClient")
            .field("oracle", self.oracle.address())
            .field("proposer", &self.proposer)
            .field("confirmations", &self.confirmations)
            .field("receipt_timeout", &self.receipt_timeout)
            .finish_non_exhaustive()
    }
}

impl L2OutputOracleClient {
    /// The backend kind name.
    pub const KIND: &'static str = "l2-output-oracle";
    /// How long [`SettlementClient::propose`] waits for its receipt by default.
    pub const DEFAULT_RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

    /// Connects to the oracle at `oracle` over HTTP at `l1_rpc`, signing with `signer`.
    pub fn connect(l1_rpc: &str, oracle: Address, signer: PrivateKeySigner) -> Result<Self> {
        let proposer = signer.address();
        let mut client = Self::new(proposer_provider(l1_rpc, signer)?, oracle);
        client.proposer = Some(proposer);
        Ok(client)
    }

    /// Uses an existing provider; it must have a wallet to send proposals.
    pub fn new(provider: DynProvider, oracle: Address) -> Self {
        Self {
            oracle: L2OutputOracle::new(oracle, provider),
            proposer: None,
            confirmations: 1,
            receipt_timeout: Self::DEFAULT_RECEIPT_TIMEOUT,
        }
    }

    /// Waits for `confirmations` blocks (1 = included, the default; 0 is treated as 1).
    pub const fn with_confirmations(mut self, confirmations: u64) -> Self {
        self.confirmations = confirmations;
        self
    }

    /// Gives up waiting for a proposal's receipt after `timeout` (reported as
    /// [`SettlementError::Unavailable`]).
    pub const fn with_receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    /// The oracle's address.
    pub fn address(&self) -> Address {
        *self.oracle.address()
    }

    async fn latest(&self) -> Result<Option<u64>> {
        let count = self
            .oracle
            .nextOutputIndex()
            .call()
            .await
            .map_err(errors::from_contract)?;
        if count.is_zero() {
            return Ok(None);
        }
        let latest = self
            .oracle
            .latestBlockNumber()
            .call()
            .await
            .map_err(errors::from_contract)?;
        to_u64("latestBlockNumber", latest).map(Some)
    }

    async fn next(&self) -> Result<u64> {
        let next = self
            .oracle
            .nextBlockNumber()
            .call()
            .await
            .map_err(errors::from_contract)?;
        to_u64("nextBlockNumber", next)
    }

    async fn send_proposal(&self, p: Proposal) -> Result<ProposalReceipt> {
        let call = self.oracle.proposeL2Output(
            p.output_root,
            U256::from(p.l2_block_number),
            p.l1_block_hash,
            U256::from(p.l1_block_number),
        );
        let pending = call.send().await.map_err(errors::from_contract)?;
        debug!(target: "altius::settlement", tx_hash = %pending.tx_hash(), "proposal sent");
        let receipt = pending
            .with_required_confirmations(self.confirmations.max(1))
            .with_timeout(Some(self.receipt_timeout))
            .get_receipt()
            .await
            .map_err(errors::from_pending)?;
        ensure_success(&receipt, "proposeL2Output")?;
        info!(
            target: "altius::settlement",
            l2_block = p.l2_block_number,
            output_root = %p.output_root,
            tx_hash = %receipt.transaction_hash(),
            l1_block = ?receipt.block_number(),
            "output proposed to the L2OutputOracle"
        );
        Ok(ProposalReceipt {
            tx_hash: Some(receipt.transaction_hash()),
            l1_block: receipt.block_number(),
        })
    }

    async fn output(&self, n: u64) -> Result<Option<ProposedOutput>> {
        if self.latest().await?.is_none_or(|latest| n > latest) {
            return Ok(None);
        }
        let index = self
            .oracle
            .getL2OutputIndexAfter(U256::from(n))
            .call()
            .await
            .map_err(errors::from_contract)?;
        let out = self
            .oracle
            .getL2Output(index)
            .call()
            .await
            .map_err(errors::from_contract)?;
        if u64::try_from(out.l2BlockNumber).ok() != Some(n) {
            return Ok(None);
        }
        Ok(Some(ProposedOutput {
            output_root: out.outputRoot,
            l2_block_number: n,
            timestamp: to_u64("timestamp", U256::from(out.timestamp))?,
            index: to_u64("output index", index)?,
        }))
    }
}

/// An HTTP provider for `l1_rpc` that signs with `signer`.
///
/// Nonces are read from the node (`pending`) for every transaction instead of being cached:
/// the proposer sends one transaction at a time, and a cached nonce goes stale when a send
/// fails or another process uses the same key.
pub fn proposer_provider(l1_rpc: &str, signer: PrivateKeySigner) -> Result<DynProvider> {
    let url: Url = l1_rpc.parse().map_err(|e| {
        SettlementError::InvalidConfig(format!("invalid L1 RPC URL {l1_rpc:?}: {e}"))
    })?;
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(signer)
        .connect_http(url);
    Ok(provider.erased())
}

/// Fails with a revert if a mined transaction did not succeed.
pub(crate) fn ensure_success(receipt: &TransactionReceipt, what: &str) -> Result<()> {
    if receipt.status() {
        return Ok(());
    }
    Err(SettlementError::Reverted(format!(
        "{what} transaction {} reverted on L1",
        receipt.transaction_hash()
    )))
}

fn to_u64(what: &str, value: U256) -> Result<u64> {
    u64::try_from(value).map_err(|_| {
        SettlementError::InvalidResponse(format!("{what} {value} does not fit in u64"))
    })
}

impl SettlementClient for L2OutputOracleClient {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn latest_proposed_block(&self) -> SettlementFuture<'_, Option<u64>> {
        Box::pin(self.latest())
    }

    fn next_block_number(&self) -> SettlementFuture<'_, u64> {
        Box::pin(self.next())
    }

    fn propose(&self, proposal: Proposal) -> SettlementFuture<'_, ProposalReceipt> {
        Box::pin(self.send_proposal(proposal))
    }

    fn output_at(&self, l2_block_number: u64) -> SettlementFuture<'_, Option<ProposedOutput>> {
        Box::pin(self.output(l2_block_number))
    }
}
