//! [`EthereumCalldataDa`]: each submission is the calldata of an EIP-1559 transaction from
//! the batcher key to the batch inbox on L1.

pub(crate) mod config;
pub(crate) mod errors;
pub(crate) mod fees;
mod send;

use std::{fmt, sync::Arc, time::Duration};

use alloy::{
    consensus::Transaction as _,
    eips::BlockNumberOrTag,
    primitives::{Address, B256, Bytes},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Transaction,
    transports::http::reqwest::Url,
};
use tokio::sync::Mutex;

pub use config::{
    CalldataConfig, DEFAULT_CONFIRMATIONS, DEFAULT_MAX_FEE_PER_GAS_CAP_GWEI,
    DEFAULT_MAX_PRIORITY_FEE_CAP_GWEI, DEFAULT_RECEIPT_TIMEOUT_SECS, DEFAULT_RESUBMIT_AFTER_SECS,
    batch_inbox_address,
};

use crate::{DaClient, DaError, DaFuture, DaReference};
use fees::FeeCaps;
use send::InFlight;
pub(crate) use send::position;

/// Largest payload one submission carries: geth's pool rejects transactions over 128 KiB,
/// and this leaves room for the signed envelope.
pub const MAX_CALLDATA_SUBMISSION_SIZE: usize = 130_000;

/// How long [`DaClient::fetch`] may take before failing as retryable.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Default interval between receipt and block-number polls.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Publishes data as L1 calldata sent to the batch inbox, and reads it back by tx hash.
///
/// Submissions are serialized: each reads the batcher's `pending` nonce from the node,
/// estimates EIP-1559 fees (capped by the config), sends, and waits for the receipt and the
/// configured confirmations. A transaction without a receipt after `resubmit_after_secs` is
/// replaced (same nonce, both fees +10%, within the caps). When a submission times out
/// with its transaction still pending, the next submission replaces that transaction (same
/// nonce, higher fees) instead of queueing behind it, so no stale data lands later. The
/// reference is
/// `(L1 block, tx index, 0x01 ++ tx hash)`. Unreachable endpoints and timeouts are
/// [`DaError::Unavailable`] (retryable); a reorged-out transaction is
/// [`DaError::NotCanonical`] on fetch. `Debug` shows addresses, never the key.
#[derive(Clone)]
pub struct EthereumCalldataDa {
    provider: DynProvider,
    batcher: Address,
    inbox: Address,
    caps: FeeCaps,
    confirmations: u64,
    resubmit_after: Duration,
    timeout: Duration,
    poll_interval: Duration,
    /// Serializes submissions and remembers the last unconfirmed transaction.
    in_flight: Arc<Mutex<Option<InFlight>>>,
}

impl fmt::Debug for EthereumCalldataDa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EthereumCalldataDa")
            .field("batcher", &self.batcher)
            .field("inbox", &self.inbox)
            .field("confirmations", &self.confirmations)
            .field("resubmit_after", &self.resubmit_after)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl EthereumCalldataDa {
    /// The backend kind name.
    pub const KIND: &'static str = "ethereum-calldata";

    /// Validates `config`, loads the batcher key and connects over HTTP. Nothing is sent
    /// until the first submission, so an endpoint that is down fails later, retryably.
    pub fn connect(config: &CalldataConfig) -> Result<Self, DaError> {
        config.validate()?;
        let signer = config.load_batcher_key()?;
        let url: Url = config.l1_rpc_url.parse().map_err(|e| {
            DaError::InvalidConfig(format!("invalid `l1_rpc_url` {:?}: {e}", config.l1_rpc_url))
        })?;
        let batcher = signer.address();
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .wallet(signer)
            .connect_http(url)
            .erased();
        Ok(Self {
            provider,
            batcher,
            inbox: config.inbox_address()?,
            caps: FeeCaps::from_gwei(
                config.max_fee_per_gas_cap_gwei,
                config.max_priority_fee_cap_gwei,
            ),
            confirmations: config.confirmations.max(1),
            resubmit_after: Duration::from_secs(config.resubmit_after_secs),
            timeout: Duration::from_secs(config.receipt_timeout_secs),
            poll_interval: DEFAULT_POLL_INTERVAL,
            in_flight: Arc::new(Mutex::new(None)),
        })
    }

    /// Polls the node for receipts and blocks every `interval` (default 1 s).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Replaces a transaction that has no receipt after `after` (overrides the config).
    pub fn with_resubmit_after(mut self, after: Duration) -> Self {
        self.resubmit_after = after;
        self
    }

    /// The batcher address (the sender of every submission).
    pub const fn batcher(&self) -> Address {
        self.batcher
    }

    /// The batch inbox address (the recipient of every submission).
    pub const fn inbox(&self) -> Address {
        self.inbox
    }

    async fn fetch_data(&self, reference: &DaReference) -> Result<Bytes, DaError> {
        let tx_hash = reference.l1_tx_hash()?;
        tokio::time::timeout(FETCH_TIMEOUT, self.read_back(reference, tx_hash))
            .await
            .map_err(|_| DaError::Unavailable(format!("fetching {tx_hash} timed out")))?
    }

    async fn read_back(&self, reference: &DaReference, tx_hash: B256) -> Result<Bytes, DaError> {
        let tx = self.canonical_tx(reference, tx_hash).await?;
        Ok(tx.input().clone())
    }

    /// The batcher transaction `tx_hash`, checked to be sent to the inbox and to sit at the
    /// position `reference` records (else [`DaError::NotCanonical`]).
    pub(crate) async fn canonical_tx(
        &self,
        reference: &DaReference,
        tx_hash: B256,
    ) -> Result<Transaction, DaError> {
        let not_canonical = |reason: String| DaError::NotCanonical {
            height: reference.height,
            tx_hash,
            reason,
        };
        let tx = self
            .provider
            .get_transaction_by_hash(tx_hash)
            .await
            .map_err(|e| errors::from_rpc("eth_getTransactionByHash", e))?
            .ok_or_else(|| not_canonical("the L1 node does not know the transaction".into()))?;
        if tx.to() != Some(self.inbox) {
            return Err(DaError::InvalidReference(format!(
                "transaction {tx_hash} is sent to {:?}, not to the inbox {}",
                tx.to(),
                self.inbox
            )));
        }
        let receipt = self
            .provider
            .get_transaction_receipt(tx_hash)
            .await
            .map_err(|e| errors::from_rpc("eth_getTransactionReceipt", e))?
            .ok_or_else(|| not_canonical("the transaction is not mined".into()))?;
        let position = (receipt.block_number, receipt.transaction_index);
        if position != (Some(reference.height), Some(u64::from(reference.index))) {
            return Err(not_canonical(format!(
                "the transaction is now at (block, index) {position:?}"
            )));
        }
        Ok(tx)
    }

    /// The L1 provider, for the backends built on this one.
    pub(crate) const fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// Allows blob transactions paying up to `gwei` per blob gas.
    pub(crate) fn with_blob_fee_cap_gwei(mut self, gwei: u64) -> Self {
        self.caps = self.caps.with_blob_gwei(gwei);
        self
    }

    /// The number of the L1 block tagged `finalized`.
    async fn l1_finalized(&self) -> Result<u64, DaError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Finalized)
            .await
            .map_err(|e| errors::from_rpc("eth_getBlockByNumber(finalized)", e))?
            .ok_or_else(|| DaError::Backend("the L1 node has no finalized block".into()))?;
        Ok(block.header.number)
    }
}

impl DaClient for EthereumCalldataDa {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn submit(&self, data: Bytes) -> DaFuture<'_, DaReference> {
        Box::pin(self.submit_data(data))
    }

    fn fetch<'a>(&'a self, reference: &'a DaReference) -> DaFuture<'a, Bytes> {
        Box::pin(self.fetch_data(reference))
    }

    fn finalized_height(&self) -> DaFuture<'_, u64> {
        Box::pin(self.l1_finalized())
    }
}
