//! Optimistic chunks: the parallel executor's path for a run of transactions that do not
//! conflict.
//!
//! The run is cut into contiguous chunks, one per thread. Each thread executes its chunk in
//! block order with the sequential executor's machinery (one EVM, one [`BlockDb`]) over the
//! state before the run, logging every value it reads from that state, and keeps the fees it
//! pays to recipients it has not read aside as sums. Then, in block order, each chunk is
//! checked against the chunks before it: when every value it read is still the value they
//! left, its execution is the one sequential execution would have done, so its changes and
//! receipts are taken as they are (and its fee sums added); otherwise the chunk runs again,
//! in order, on top of the chunks before it. The result is the sequential one in every case;
//! only the time differs. Block-STM's multi-version memory, with its shared maps, locks and
//! per-transaction read sets, is not needed when there are no conflicts, and it costs more
//! than the execution of a plain transfer.

use crate::{
    BlockEnv, BlockHashes, ChainSpec, EngineError, EngineResult, ExecutedTx, RecoveredTx,
    db::{BlockDb, ChunkedState, DbError, Shared},
    evm::{build_evm, revm_block, revm_cfg},
    messages,
    parallel::{ExecutionStats, Strategy},
    parallel_evm::OpDeferredFees,
    sequential::{BlockRun, executed_tx},
    tx::to_op_tx,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256, U256, logs_bloom};
use altius_state::{StateChanges, StateProvider};
use op_revm::{DefaultOp, L1BlockInfo, OpBuilder, OpSpecId, OpTransactionError};
use revm::{
    Context, Database,
    bytecode::Bytecode,
    context::{BlockEnv as RevmBlockEnv, CfgEnv},
    context_interface::{ContextSetters, ContextTr, JournalTr, result::EVMError},
    handler::Handler,
    state::AccountInfo,
};
use std::collections::VecDeque;

/// A run of transactions executed as optimistic chunks.
pub(crate) struct ChunkRound<'a> {
    pub(crate) chain: &'a ChainSpec,
    /// The state before the run.
    pub(crate) state: &'a dyn StateProvider,
    pub(crate) hashes: Option<&'a dyn BlockHashes>,
    pub(crate) env: &'a BlockEnv,
    pub(crate) l1_info: &'a L1BlockInfo,
    pub(crate) threads: usize,
}

/// revm's configuration and block environment of the run.
type Envs = (CfgEnv<OpSpecId>, RevmBlockEnv);

/// What a transaction of a chunk gave, before the chunk is checked.
// Nearly every transaction executes: boxing the large variant would allocate for each.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// It ran; its receipt counts gas from the start of the chunk.
    Executed(ExecutedTx),
    /// It is invalid on the state the chunk saw.
    Invalid(RecoveredTx, OpTransactionError),
    /// Its type cannot be in a block.
    Unsupported(RecoveredTx),
}

impl Outcome {
    fn into_tx(self) -> RecoveredTx {
        match self {
            Self::Executed(executed) => executed.tx,
            Self::Invalid(tx, _) | Self::Unsupported(tx) => tx,
        }
    }
}

/// A chunk after its execution.
struct Chunk<'a> {
    db: ChunkDb<'a>,
    outcomes: Vec<Outcome>,
}

impl ChunkRound<'_> {
    /// Executes the first `count` of `txs` (the block's transactions from `first`, whose gas
    /// limits all fit in the gas left), taken out, into `run`; returns the run's state changes over the state before it.
    pub(crate) fn execute(
        &self,
        run: &mut BlockRun<'_>,
        txs: &mut VecDeque<RecoveredTx>,
        count: usize,
        first: usize,
    ) -> EngineResult<(StateChanges, ExecutionStats)> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        let chunks = self.execute_chunks(&envs, split_by_gas(txs, count, self.threads))?;
        let mut stats = ExecutionStats {
            strategy: Strategy::OptimisticChunks,
            threads: chunks.len(),
            executions: count as u64,
            ..ExecutionStats::default()
        };
        let mut state: Option<ChunkedState<'_>> = None;
        let mut index = first;
        for mut chunk in chunks {
            let len = chunk.outcomes.len();
            let shared = match state.as_mut() {
                None => chunk.db.holds_alone()?.then(Vec::new),
                Some(before) => chunk.db.holds_after(before)?,
            };
            if let Some(shared) = shared {
                let (db, pending) = chunk.db.into_parts();
                let after = match state.as_mut() {
                    None => state.insert(ChunkedState::new(db)),
                    Some(before) => {
                        before.add(db, shared);
                        before
                    }
                };
                for (recipient, total) in pending {
                    after.credit(recipient, total)?;
                }
                record(run, index, chunk.outcomes)?;
            } else {
                stats.aborts += 1;
                stats.executions += len as u64;
                stats.in_order_executions += len as u64;
                let mut db = state
                    .take()
                    .and_then(ChunkedState::into_one)
                    .unwrap_or_else(|| BlockDb::new(self.state, self.hashes));
                let txs = chunk.outcomes.into_iter().map(Outcome::into_tx);
                self.in_order(run, &envs, &mut db, index, txs)?;
                state = Some(ChunkedState::new(db));
            }
            index += len;
        }
        let changes = match state {
            Some(state) => state.into_changes()?,
            None => StateChanges::default(),
        };
        Ok((changes, stats))
    }

    /// Executes every chunk on its own thread (the first on this one).
    fn execute_chunks<'s>(
        &'s self,
        envs: &Envs,
        chunks: Vec<Vec<RecoveredTx>>,
    ) -> EngineResult<Vec<Chunk<'s>>> {
        std::thread::scope(|scope| {
            let mut chunks = chunks.into_iter();
            let head = chunks.next().unwrap_or_default();
            let handles: Vec<_> = chunks
                .map(|txs| scope.spawn(move || self.execute_chunk(envs, txs, true)))
                .collect();
            let mut out = vec![self.execute_chunk(envs, head, false)?];
            for handle in handles {
                let chunk = handle
                    .join()
                    .map_err(|_| EngineError::Evm("a chunk's execution panicked".into()))??;
                out.push(chunk);
            }
            Ok(out)
        })
    }

    /// Executes `txs` in order over the state before the run; `log_reads` for every chunk
    /// but the first, which the check does not need.
    fn execute_chunk<'s>(
        &'s self,
        (cfg, block): &Envs,
        txs: Vec<RecoveredTx>,
        log_reads: bool,
    ) -> EngineResult<Chunk<'s>> {
        let mut db = BlockDb::new(self.state, self.hashes);
        if log_reads {
            db = db.recording_reads();
        }
        let mut db = ChunkDb::new(db);
        let mut outcomes = Vec::with_capacity(txs.len());
        {
            let mut evm = Context::op()
                .with_cfg(cfg.clone())
                .with_block(block.clone())
                .with_db(&mut db)
                .build_op();
            evm.0.ctx.chain = self.l1_info.clone();
            let mut handler = OpDeferredFees::default();
            let mut gas = 0u64;
            for tx in txs {
                if tx.tx.is_post_exec() {
                    outcomes.push(Outcome::Unsupported(tx));
                    continue;
                }
                let nonce_before = evm
                    .0
                    .ctx
                    .db_mut()
                    .account(tx.sender)?
                    .map_or(0, |a| a.nonce);
                evm.0.ctx.set_tx(to_op_tx(&tx));
                let result = handler.run(&mut evm);
                let state = evm.0.ctx.journal_mut().finalize();
                let outcome = match result {
                    Ok(result) => {
                        let db = evm.0.ctx.db_mut();
                        db.db.apply(state)?;
                        db.pay(handler.fees.take())?;
                        let bloom = logs_bloom(result.logs());
                        let executed = executed_tx(
                            self.chain,
                            self.env,
                            gas,
                            tx,
                            result,
                            nonce_before,
                            Some(bloom),
                        )?;
                        gas = gas.saturating_add(executed.gas_used);
                        Outcome::Executed(executed)
                    }
                    Err(EVMError::Transaction(err)) => Outcome::Invalid(tx, err),
                    Err(EVMError::Database(err)) => return Err(err.into()),
                    Err(other) => return Err(EngineError::Evm(other.to_string())),
                };
                handler.fees.take();
                outcomes.push(outcome);
            }
        }
        Ok(Chunk { db, outcomes })
    }

    /// Executes `txs` (from block position `first`) in order on `db`, as the sequential
    /// executor does.
    fn in_order(
        &self,
        run: &mut BlockRun<'_>,
        (cfg, block): &Envs,
        db: &mut BlockDb<'_>,
        first: usize,
        txs: impl Iterator<Item = RecoveredTx>,
    ) -> EngineResult<()> {
        let mut evm = build_evm(cfg.clone(), block.clone(), db);
        evm.0.ctx.chain = self.l1_info.clone();
        for (offset, tx) in txs.enumerate() {
            run.execute(&mut evm, first + offset, tx)?;
        }
        Ok(())
    }
}

/// Adds the transactions of a checked chunk (from block position `first`) to the block.
fn record(run: &mut BlockRun<'_>, first: usize, outcomes: Vec<Outcome>) -> EngineResult<()> {
    let mut executed = Vec::with_capacity(outcomes.len());
    for (offset, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Outcome::Executed(tx) => executed.push(tx),
            Outcome::Invalid(tx, err) => {
                let reason = messages::invalid_tx_message(&err, &run.facts(&tx));
                run.reject(first + offset, &tx, reason)?;
            }
            Outcome::Unsupported(tx) => {
                run.reject(
                    first + offset,
                    &tx,
                    messages::TX_TYPE_NOT_SUPPORTED.to_string(),
                )?;
            }
        }
    }
    run.append_executed(executed);
    Ok(())
}

/// The first `count` of `txs`, taken out and cut into at most `parts` contiguous chunks of
/// about equal gas limits.
fn split_by_gas(
    txs: &mut VecDeque<RecoveredTx>,
    count: usize,
    parts: usize,
) -> Vec<Vec<RecoveredTx>> {
    let count = count.min(txs.len());
    let total: u64 = txs.iter().take(count).map(|tx| tx.tx.gas_limit()).sum();
    let parts = parts.clamp(1, count.max(1)) as u64;
    let mut ends = Vec::with_capacity(parts as usize);
    let mut gas = 0u64;
    for (i, tx) in txs.iter().take(count).enumerate() {
        gas = gas.saturating_add(tx.tx.gas_limit());
        // The end of chunk `k` is where the gas passes k/parts of the total.
        let done = (u128::from(gas) * u128::from(parts) / u128::from(total.max(1))) as usize;
        if done > ends.len() && ends.len() + 1 < parts as usize {
            ends.push(i + 1);
        }
    }
    ends.push(count);
    let mut start = 0;
    let mut chunks = Vec::with_capacity(ends.len());
    for end in ends {
        if end > start {
            chunks.push(txs.drain(..end - start).collect());
        }
        start = end;
    }
    chunks
}

/// The database of one chunk: a [`BlockDb`] over the state before the run, with the fees
/// paid to recipients the chunk has not read kept aside as sums, so that the chunks do not
/// all depend on the recipients' balances. A read of such a recipient first adds its sum.
struct ChunkDb<'a> {
    db: BlockDb<'a>,
    /// Recipient and sum of the fees it was paid, for recipients not read yet.
    pending: Vec<(Address, U256)>,
    /// A sum overflowed where revm would have dropped a single payment: the chunk cannot be
    /// taken as it is.
    inexact: bool,
}

impl<'a> ChunkDb<'a> {
    fn new(db: BlockDb<'a>) -> Self {
        Self {
            db,
            pending: Vec::new(),
            inexact: false,
        }
    }

    /// Pays one transaction's fees.
    fn pay(&mut self, fees: Vec<(Address, U256)>) -> Result<(), DbError> {
        for (recipient, amount) in fees {
            if self.db.is_cached(&recipient) {
                self.db.credit(recipient, amount)?;
                continue;
            }
            match self.pending.iter_mut().find(|(a, _)| *a == recipient) {
                Some((_, total)) => match total.checked_add(amount) {
                    Some(sum) => *total = sum,
                    None => self.inexact = true,
                },
                None => self.pending.push((recipient, amount)),
            }
        }
        Ok(())
    }

    /// Adds the fees kept aside for `address` before it is read.
    fn settle(&mut self, address: Address) -> Result<(), DbError> {
        if let Some(i) = self.pending.iter().position(|(a, _)| *a == address) {
            let (_, total) = self.pending.swap_remove(i);
            if !self.db.credit(address, total)? {
                self.inexact = true;
            }
        }
        Ok(())
    }

    /// The account at `address` as the chunk sees it now.
    fn account(&mut self, address: Address) -> Result<Option<altius_state::Account>, DbError> {
        self.settle(address)?;
        self.db.account(address)
    }

    /// Whether the first chunk can be taken as it is (its fee sums fit).
    fn holds_alone(&mut self) -> Result<bool, DbError> {
        if self.inexact {
            return Ok(false);
        }
        for (recipient, total) in &self.pending {
            if !self.db.can_credit(*recipient, *total)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether the chunk can be taken as it is after the chunks `before` it (every value it
    /// read from the state before the run is the value they left, and its fee sums fit); if
    /// so, the accounts it shares with them.
    fn holds_after(&mut self, before: &mut ChunkedState<'_>) -> Result<Option<Shared>, DbError> {
        if self.inexact {
            return Ok(None);
        }
        let Some(shared) = before.check(&self.db.take_reads()) else {
            return Ok(None);
        };
        for (recipient, total) in &self.pending {
            if !before.can_credit(*recipient, *total)? {
                return Ok(None);
            }
        }
        Ok(Some(shared))
    }

    fn into_parts(self) -> (BlockDb<'a>, Vec<(Address, U256)>) {
        (self.db, self.pending)
    }
}

impl Database for ChunkDb<'_> {
    type Error = DbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        if !self.pending.is_empty() {
            self.settle(address)?;
        }
        self.db.basic(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        self.db.code_by_hash(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        if !self.pending.is_empty() {
            self.settle(address)?;
        }
        self.db.storage(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        self.db.block_hash(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{block_env, eip1559};
    use crate::workload::Wallet;
    use alloy_primitives::{Bytes, TxKind};

    fn txs(gas: &[u64]) -> Vec<RecoveredTx> {
        let wallet = Wallet::new(1);
        gas.iter()
            .enumerate()
            .map(|(i, g)| {
                eip1559(
                    &wallet,
                    i as u64,
                    TxKind::Call(Address::ZERO),
                    U256::ZERO,
                    Bytes::new(),
                    *g,
                )
            })
            .collect()
    }

    fn sizes(chunks: &[Vec<RecoveredTx>]) -> Vec<usize> {
        chunks.iter().map(Vec::len).collect()
    }

    fn split_all(txs: Vec<RecoveredTx>, parts: usize) -> Vec<Vec<RecoveredTx>> {
        let mut txs = VecDeque::from(txs);
        let chunks = split_by_gas(&mut txs, usize::MAX, parts);
        assert!(txs.is_empty());
        chunks
    }

    #[test]
    fn chunks_have_about_equal_gas_and_keep_the_order() {
        let _ = block_env(1);
        assert_eq!(sizes(&split_all(txs(&[21_000; 10]), 2)), [5, 5]);
        assert_eq!(sizes(&split_all(txs(&[21_000; 9]), 3)), [3, 3, 3]);
        assert_eq!(
            sizes(&split_all(txs(&[90_000, 10_000, 10_000, 10_000]), 2)),
            [1, 3]
        );
        assert_eq!(sizes(&split_all(txs(&[21_000; 3]), 8)), [1, 1, 1]);
        assert_eq!(sizes(&split_all(txs(&[21_000]), 2)), [1]);
        let chunks = split_all(txs(&[21_000; 7]), 2);
        let nonces: Vec<u64> = chunks.iter().flatten().map(|tx| tx.tx.nonce()).collect();
        assert_eq!(nonces, (0..7).collect::<Vec<_>>());
        // Only the first `count` are taken.
        let mut rest = VecDeque::from(txs(&[21_000; 7]));
        assert_eq!(sizes(&split_by_gas(&mut rest, 4, 2)), [2, 2]);
        assert_eq!(rest.front().map(|tx| tx.tx.nonce()), Some(4));
    }
}
