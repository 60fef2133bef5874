//! The transaction pool of the sequencer.
//!
//! Transactions arrive through [`Mempool::add_raw`] (JSON-RPC `eth_sendRawTransaction`) and
//! are validated the way geth validates them, with geth's error messages (see
//! [`PoolError`]). Each sender's transactions are kept by nonce: the contiguous run starting
//! at the account nonce is *pending* (executable in the next block), everything after a
//! nonce gap is *queued* until the gap fills. The block builder takes
//! [`Mempool::best_transactions`], reports the block with [`Mempool::on_block`] and drops
//! transactions the executor rejected with [`Mempool::remove`].
//!
//! Policy choices that differ from or go beyond geth's defaults:
//! - Legacy transactions without EIP-155 replay protection are rejected with
//!   `only replay-protected (EIP-155) transactions allowed over RPC` (geth's RPC default).
//! - Deposit (0x7E), post-exec (0x7D) and EIP-4844 (type 3) transactions are rejected with
//!   `transaction type not supported`; only the sequencer derives deposits.
//! - A sender may have at most `max_account_slots` transactions. At the limit, a new nonce
//!   below its highest pooled nonce replaces that highest one (so a gap can always be
//!   filled); anything else is rejected with geth's `account limit exceeded`.
//! - The EIP-7623 floor is checked as geth does, with geth's message for it,
//!   `insufficient gas for floor data gas cost`.

mod best;
mod config;
mod error;
mod pool;
mod sender_queue;
#[cfg(test)]
mod test_utils;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pool;
mod validate;

pub use config::{MempoolConfig, PoolContext};
pub use error::PoolError;

use alloy_primitives::{Address, TxHash};
use altius_engine::RecoveredTx;
use altius_state::{Account, StateProvider};
use op_alloy_consensus::OpTxEnvelope;
use parking_lot::RwLock;
use pool::PoolInner;
use tokio::sync::broadcast;
use validate::PoolTx;

/// How many announcements a slow subscriber may fall behind before it misses some.
const ANNOUNCE_CAPACITY: usize = 4096;

/// The transaction pool. All methods take `&self`; share it behind an `Arc`.
#[derive(Debug)]
pub struct Mempool {
    /// Limits and price rules, also used outside the lock.
    config: MempoolConfig,
    /// The pooled transactions.
    inner: RwLock<PoolInner>,
    /// Announces the hash of every accepted transaction.
    announce: broadcast::Sender<TxHash>,
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: MempoolConfig) -> Self {
        let (announce, _) = broadcast::channel(ANNOUNCE_CAPACITY);
        Self {
            inner: RwLock::new(PoolInner::new(config.clone())),
            config,
            announce,
        }
    }

    /// Decodes EIP-2718 bytes (typed or legacy RLP) and [adds](Self::add) the transaction.
    pub fn add_raw(
        &self,
        raw: &[u8],
        state: &dyn StateProvider,
        ctx: &PoolContext,
    ) -> Result<TxHash, PoolError> {
        let tx = validate::decode(raw).inspect_err(|err| {
            let len = raw.len();
            tracing::debug!(target: "txpool", %err, len, "rejected undecodable transaction");
        })?;
        self.add(tx, state, ctx)
    }

    /// Validates `tx` against `ctx`, the sender's account in `state` and the pool, and adds
    /// it as pending or queued. Returns its hash.
    pub fn add(
        &self,
        tx: OpTxEnvelope,
        state: &dyn StateProvider,
        ctx: &PoolContext,
    ) -> Result<TxHash, PoolError> {
        let hash = tx.tx_hash();
        let validated = if self.contains(&hash) {
            Err(PoolError::AlreadyKnown)
        } else {
            validate::validate_stateless(tx, &self.config, ctx)
        };
        let ptx = validated.inspect_err(|err| {
            tracing::debug!(target: "txpool", %hash, %err, "rejected transaction");
        })?;
        let sender = ptx.tx.sender;
        match self.add_validated(ptx, state, ctx) {
            Ok(()) => {
                tracing::debug!(target: "txpool", %hash, %sender, "accepted transaction");
                let _ = self.announce.send(hash);
                Ok(hash)
            }
            Err(err) => {
                tracing::debug!(target: "txpool", %hash, %sender, %err, "rejected transaction");
                Err(err)
            }
        }
    }

    /// The account checks and the insertion of a transaction that passed the others.
    fn add_validated(
        &self,
        ptx: PoolTx,
        state: &dyn StateProvider,
        ctx: &PoolContext,
    ) -> Result<(), PoolError> {
        let account = read_account(state, ptx.tx.sender)?;
        let state_nonce = validate::validate_account(&ptx, account.as_ref())?;
        let removed = self.inner.write().insert(ptx, state_nonce, ctx.base_fee)?;
        log_removed(&removed, "replaced or evicted");
        Ok(())
    }

    /// Removes the `mined` transactions, then re-checks every sender against `state` (the
    /// state after the block): drops transactions below the account nonce, those the
    /// balance no longer covers and those above the block gas limit. Transactions behind a
    /// dropped one become queued; queued ones whose gap is now closed become pending.
    pub fn on_block(&self, state: &dyn StateProvider, ctx: &PoolContext, mined: &[TxHash]) {
        let senders: Vec<Address> = {
            let mut inner = self.inner.write();
            for hash in mined {
                inner.remove(hash);
            }
            inner.senders().keys().copied().collect()
        };
        let accounts: Vec<(Address, Option<Account>)> = senders
            .into_iter()
            .filter_map(|sender| match read_account(state, sender) {
                Ok(account) => Some((sender, account)),
                Err(err) => {
                    tracing::warn!(target: "txpool", %sender, %err, "cannot re-validate sender");
                    None
                }
            })
            .collect();
        let mut inner = self.inner.write();
        for (sender, account) in accounts {
            let dropped = inner.revalidate(sender, account.as_ref(), ctx.block_gas_limit);
            log_removed(&dropped, "dropped after block");
        }
        let (pending, queued) = inner.status();
        let mined = mined.len();
        tracing::debug!(target: "txpool", mined, pending, queued, "pool updated for block");
    }

    /// Removes the transactions with `hashes` (e.g. those the executor rejected); the
    /// transactions behind them become queued.
    pub fn remove(&self, hashes: &[TxHash]) {
        let mut inner = self.inner.write();
        for hash in hashes {
            if let Some(tx) = inner.remove(hash) {
                let sender = tx.tx.sender;
                tracing::debug!(target: "txpool", %hash, %sender, "removed transaction");
            }
        }
    }

    /// All pending transactions in the order a block builder should try them: repeatedly
    /// the sender whose next transaction pays the highest tip at `base_fee`
    /// (`min(max_priority_fee, max_fee - base_fee)`), each sender in nonce order, ties by
    /// arrival. A transaction with `max_fee < base_fee` and its sender's later ones are
    /// left out.
    pub fn best_transactions(&self, base_fee: u64) -> Vec<RecoveredTx> {
        best::best_transactions(self.inner.read().senders(), base_fee)
    }

    /// All pending transactions, by sender and nonce.
    pub fn pending_transactions(&self) -> Vec<RecoveredTx> {
        best::pending_transactions(self.inner.read().senders())
    }

    /// The pooled transaction with `hash`.
    pub fn get(&self, hash: &TxHash) -> Option<RecoveredTx> {
        self.inner.read().get(hash).map(|tx| tx.tx.clone())
    }

    /// True when a transaction with `hash` is pooled.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.inner.read().contains(hash)
    }

    /// The nonce after `sender`'s pooled transactions that run contiguously from
    /// `state_nonce` (its account nonce): the `pending` transaction count.
    pub fn pending_nonce(&self, sender: Address, state_nonce: u64) -> u64 {
        let inner = self.inner.read();
        inner
            .senders()
            .get(&sender)
            .map_or(state_nonce, |q| q.next_nonce_from(state_nonce))
    }

    /// `(pending, queued)` transaction counts.
    pub fn status(&self) -> (usize, usize) {
        self.inner.read().status()
    }

    /// A receiver of the hash of every transaction accepted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<TxHash> {
        self.announce.subscribe()
    }
}

/// Reads `sender`'s account, mapping a failure to [`PoolError::State`].
fn read_account(state: &dyn StateProvider, sender: Address) -> Result<Option<Account>, PoolError> {
    state
        .account(sender)
        .map_err(|err| PoolError::State(err.to_string()))
}

/// Logs transactions the pool let go of.
fn log_removed(txs: &[PoolTx], reason: &'static str) {
    for tx in txs {
        let (hash, sender) = (tx.hash(), tx.tx.sender);
        tracing::debug!(target: "txpool", %hash, %sender, reason, "removed transaction");
    }
}
