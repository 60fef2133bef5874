//! Optimistic chunks: the parallel executor's path for a run of transactions that do not
//! conflict, and the in-order execution both executors use.
//!
//! In order ([`ChunkRound::in_order_on`]): one EVM over one [`BlockDb`]; op-revm's handler
//! hands each transaction's fees back ([`OpDeferredFees`]) and they are paid to the database
//! directly, with revm's semantics, instead of through revm's journal (which loads the fee
//! recipients in every transaction: a quarter of the cost of a plain transfer).
//!
//! Chunks ([`ChunkRound::execute`], in `round`): the run is cut into contiguous chunks, one
//! per thread, and a thread that has finished its chunk takes the upper half of what is
//! left of the largest one as a new chunk (`ranges`), so that a thread slowed down (by the
//! transactions it drew or by the machine) does not hold up the others. The first chunk
//! runs in order on the exact state before it (the probe's, when there is one). Every other
//! one executes in block order over the state before the run, logging every value it reads
//! from that state, and keeps the fees it pays to recipients it has not read aside as sums.
//! Then, in block order, each chunk is checked against the chunks before it: when every
//! value it read is still the value they left, its execution is the one sequential
//! execution would have done, so its changes and receipts are taken as they are (and its
//! fee sums added); otherwise the chunk runs again, in order, on top of the chunks before
//! it. The result is the sequential one in every case; only the time differs. Each chunk's
//! thread also computes the updates of the accounts it changed, which the merge only puts
//! in order. Block-STM's multi-version memory, with its shared maps, locks and
//! per-transaction read sets, is not needed when there are no conflicts, and it costs more
//! than the execution of a plain transfer.
//!
//! Logged chunks (`ChunkRound::log_txs`, for runs with a few conflicts) also log what each
//! transaction read and left: a chunk that does not hold is repaired (`repair`), only its
//! transactions that read a value that changed running again, and the first thread checks
//! and repairs the others' chunks while they go on executing (`pipeline`).

use crate::{
    BlockEnv, BlockHashes, ChainSpec, EngineError, EngineResult, RecoveredTx,
    db::BlockDb,
    evm::{revm_block, revm_cfg},
    messages::GAS_LIMIT_REACHED,
    parallel_evm::OpDeferredFees,
    sequential::{BlockRun, TxReceipt, tx_receipt},
    tx::to_op_tx,
};
use alloy_consensus::Transaction as _;
use alloy_primitives::logs_bloom;
use altius_state::StateProvider;
use op_revm::{
    DefaultOp, L1BlockInfo, OpBuilder, OpContext, OpSpecId, OpTransactionError,
    api::builder::DefaultOpEvm,
};
use revm::{
    Context,
    context::{BlockEnv as RevmBlockEnv, CfgEnv},
    context_interface::{ContextSetters, ContextTr, JournalTr, result::EVMError},
    handler::Handler,
};
use std::borrow::Borrow;

mod chunk_db;
mod fitting;
mod pipeline;
mod ranges;
mod repair;
mod round;

use chunk_db::ChunkDb;
pub(crate) use fitting::FittingRun;
pub(crate) use round::MIN_SPLIT_TXS;

/// A block's transactions not executed yet, taken from the front; the rest stay in place
/// ([`std::vec::IntoIter::as_slice`]) for the threads of a round to share.
pub(crate) type TxQueue = std::vec::IntoIter<RecoveredTx>;

/// A run of transactions over one state: executed as optimistic chunks
/// ([`ChunkRound::execute`]), or in order ([`ChunkRound::in_order_on`], which the sequential
/// executor uses too, with `threads` 1).
pub(crate) struct ChunkRound<'a> {
    pub(crate) chain: &'a ChainSpec,
    /// The state before the run.
    pub(crate) state: &'a dyn StateProvider,
    pub(crate) hashes: Option<&'a dyn BlockHashes>,
    pub(crate) env: &'a BlockEnv,
    pub(crate) l1_info: &'a L1BlockInfo,
    pub(crate) threads: usize,
    /// Transactions left in a chunk below which an idle thread does not split it.
    pub(crate) min_split: usize,
    /// Chunks log what each transaction reads and leaves, so that one that does not hold
    /// is repaired (only its transactions that read a changed value run again) rather than
    /// run again whole (see `repair`).
    pub(crate) log_txs: bool,
}

/// The EVM of one chunk.
type ChunkEvm<'d, 'a> = DefaultOpEvm<OpContext<&'d mut ChunkDb<'a>>>;

/// The handler of a chunk's EVM: op-revm's, with fees kept aside.
type ChunkHandler<'d, 'a> =
    OpDeferredFees<ChunkEvm<'d, 'a>, EVMError<crate::db::DbError, OpTransactionError>>;

/// revm's configuration and block environment of the run.
type Envs = (CfgEnv<OpSpecId>, RevmBlockEnv);

/// What a transaction gave, before it is added to the block (or left out).
// Nearly every transaction executes: boxing the large variant would allocate for each.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// It ran; its receipt counts gas from the start of its chunk (or of the block, in
    /// order).
    Executed(TxReceipt),
    /// It is invalid on the state it ran on.
    Invalid(OpTransactionError),
    /// Its type cannot be in a block.
    Unsupported,
    /// Its gas limit exceeds the gas left in the block.
    OverGasLimit,
}

/// The first transactions of a block, executed in order.
pub(crate) struct Probe<'a> {
    /// The state after them, over the state before the block.
    pub(crate) db: BlockDb<'a>,
    /// How many of them read an account or slot an earlier one had changed.
    pub(crate) dependent: u64,
}

impl ChunkRound<'_> {
    /// Executes the first `count` of `txs` (the block's first transactions, whose gas limits
    /// fit in the block), taken out, in order into `run`, counting those that read what an
    /// earlier one changed.
    pub(crate) fn probe<'s>(
        &'s self,
        run: &mut BlockRun<'_>,
        txs: &mut TxQueue,
        count: usize,
    ) -> EngineResult<Probe<'s>> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        let mut db = ChunkDb::exact(BlockDb::new(self.state, self.hashes));
        let dependent = self.execute_exact(run, &envs, &mut db, 0, txs.by_ref().take(count))?;
        Ok(Probe {
            db: db.into_parts().0,
            dependent,
        })
    }

    /// Executes `txs` (from block position `first`) in order on `db`, the state after the
    /// transactions before them, into `run`, as sequential execution does; returns the state
    /// after them.
    pub(crate) fn in_order_on<'s>(
        &self,
        run: &mut BlockRun<'_>,
        db: BlockDb<'s>,
        first: usize,
        txs: impl IntoIterator<Item = RecoveredTx>,
    ) -> EngineResult<BlockDb<'s>> {
        let envs = (revm_cfg(self.chain), revm_block(self.chain, run.env));
        let mut db = ChunkDb::exact(db);
        self.execute_exact(run, &envs, &mut db, first, txs)?;
        Ok(db.into_parts().0)
    }

    /// Executes `txs` (from block position `first`) in order on `db`, the state before them,
    /// into `run`, paying fees as they go; returns how many read an account or slot an
    /// earlier one changed.
    fn execute_exact(
        &self,
        run: &mut BlockRun<'_>,
        envs: &Envs,
        db: &mut ChunkDb<'_>,
        first: usize,
        txs: impl IntoIterator<Item = RecoveredTx>,
    ) -> EngineResult<u64> {
        let mut index = first;
        let gas = (run.out.gas_used, run.env.gas_limit);
        self.run_txs(envs, db, txs, gas, |tx, outcome| {
            record_one(run, index, tx, outcome)?;
            index += 1;
            Ok(())
        })
    }

    /// Runs `txs` in order on a chunk's EVM over `db`, after transactions that used `gas`
    /// of the block's `gas_limit`, handing each with its outcome to `each`; returns how many
    /// read an account or slot an earlier one changed.
    fn run_txs<T: Borrow<RecoveredTx>>(
        &self,
        (cfg, block): &Envs,
        db: &mut ChunkDb<'_>,
        txs: impl IntoIterator<Item = T>,
        (mut gas, gas_limit): (u64, u64),
        mut each: impl FnMut(T, Outcome) -> EngineResult<()>,
    ) -> EngineResult<u64> {
        let mut evm = self.evm((cfg, block), db);
        let mut handler = OpDeferredFees::default();
        let mut dependent = 0;
        for tx in txs {
            if tx.borrow().tx.gas_limit() > gas_limit.saturating_sub(gas) {
                evm.0.ctx.db_mut().end_tx();
                each(tx, Outcome::OverGasLimit)?;
                continue;
            }
            let changed_reads = evm.0.ctx.db_mut().db.changed_reads();
            let outcome = self.run_one(&mut evm, &mut handler, tx.borrow(), gas)?;
            let db = evm.0.ctx.db_mut();
            db.end_tx();
            if db.db.changed_reads() > changed_reads {
                dependent += 1;
            }
            if let Outcome::Executed(executed) = &outcome {
                gas = gas.saturating_add(executed.gas_used);
            }
            each(tx, outcome)?;
        }
        Ok(dependent)
    }

    /// A chunk's EVM over `db`.
    fn evm<'d, 'a>(
        &self,
        (cfg, block): (&CfgEnv<OpSpecId>, &RevmBlockEnv),
        db: &'d mut ChunkDb<'a>,
    ) -> ChunkEvm<'d, 'a> {
        let mut evm = Context::op()
            .with_cfg(cfg.clone())
            .with_block(block.clone())
            .with_db(db)
            .build_op();
        evm.0.ctx.chain = self.l1_info.clone();
        evm
    }

    /// Runs `tx` on a chunk's EVM, after transactions that used `gas`.
    fn run_one<'d, 'a>(
        &self,
        evm: &mut ChunkEvm<'d, 'a>,
        handler: &mut ChunkHandler<'d, 'a>,
        tx: &RecoveredTx,
        gas: u64,
    ) -> EngineResult<Outcome> {
        if tx.tx.is_post_exec() {
            return Ok(Outcome::Unsupported);
        }
        let nonce_before = evm
            .0
            .ctx
            .db_mut()
            .account(tx.sender)?
            .map_or(0, |a| a.nonce);
        evm.0.ctx.set_tx(to_op_tx(tx));
        let result = handler.run(evm);
        let state = evm.0.ctx.journal_mut().finalize();
        let fees = handler.fees.take();
        Ok(match result {
            Ok(result) => {
                evm.0.ctx.db_mut().commit(state, fees)?;
                let bloom = logs_bloom(result.logs());
                let receipt = tx_receipt(
                    self.chain,
                    self.env,
                    gas,
                    tx,
                    result,
                    nonce_before,
                    Some(bloom),
                )?;
                Outcome::Executed(receipt)
            }
            Err(EVMError::Transaction(err)) => Outcome::Invalid(err),
            Err(EVMError::Database(err)) => return Err(err.into()),
            Err(other) => return Err(EngineError::Evm(other.to_string())),
        })
    }
}

/// Adds `tx`, at block position `index`, executed after the transactions before it with
/// `outcome`, to the block (or leaves it out).
fn record_one(
    run: &mut BlockRun<'_>,
    index: usize,
    tx: RecoveredTx,
    outcome: Outcome,
) -> EngineResult<()> {
    match outcome {
        Outcome::Executed(receipt) => run.push_in_order(receipt.with_tx(tx)),
        Outcome::Invalid(err) => run.reject_failed(index, &tx, Some(&err))?,
        Outcome::Unsupported => run.reject_failed(index, &tx, None)?,
        Outcome::OverGasLimit => run.reject(index, &tx, GAS_LIMIT_REACHED.to_string())?,
    }
    Ok(())
}
