//! [`ChunkRound::repair`]: a chunk that did not hold, repaired transaction by transaction
//! from its log instead of run again whole.
//!
//! A chunk that logs its transactions ([`ChunkRound::log_txs`]) keeps, for each one, every
//! value it read from the chunk's database (accounts and storage slots, in order) and the
//! state it left (revm's journal) with the fees it paid. When the chunk does not hold, its
//! transactions are taken in block order over the exact state before the chunk: one whose
//! every read value is still the value the exact state gives executes exactly as it did
//! (the EVM's execution depends on nothing else: the block's environment, code by hash and
//! block hashes are the same for every chunk), so its state and fees are applied and its
//! receipt kept; any other runs again, in order, on the exact state. The result is the
//! sequential one; a transaction that read only what the chunks before did not change costs
//! a check of its reads instead of an execution.
//!
//! Revm loads every account and slot it writes first (a write's gas depends on the value
//! before it), so a transaction's writes are among its reads, and the check covers them.

use super::{
    ChunkDb, ChunkRound, Envs, Outcome,
    chunk_db::{LoggedTx, TxLog},
};
use crate::{EngineResult, RecoveredTx, db::BlockDb, parallel_evm::OpDeferredFees};
use revm::context_interface::ContextTr;

/// A chunk after its repair.
pub(super) struct Repaired<'s> {
    /// The state after its transactions.
    pub(super) db: BlockDb<'s>,
    /// Their outcomes, receipts counting gas from the start of the chunk.
    pub(super) outcomes: Vec<Outcome>,
    /// How many ran again.
    pub(super) again: u64,
}

impl ChunkRound<'_> {
    /// Repairs the chunk of `txs` whose execution gave `outcomes` and `log`, on `db`, the
    /// exact state before it (see the module).
    pub(super) fn repair<'s>(
        &self,
        (cfg, block): &Envs,
        db: BlockDb<'s>,
        txs: &[RecoveredTx],
        outcomes: Vec<Outcome>,
        log: TxLog,
    ) -> EngineResult<Repaired<'s>> {
        if outcomes.len() != txs.len() || log.txs.len() != txs.len() {
            return Err(super::round::chunks_error(
                "a chunk's log does not match it",
            ));
        }
        let mut db = ChunkDb::exact(db);
        let mut evm = self.evm((cfg, block), &mut db);
        let mut handler = OpDeferredFees::default();
        let (mut gas, mut again, mut start) = (0u64, 0u64, 0);
        let mut repaired = Vec::with_capacity(txs.len());
        for ((tx, outcome), logged) in txs.iter().zip(outcomes).zip(log.txs) {
            let LoggedTx {
                reads_end,
                committed,
            } = logged;
            let reads = log
                .reads
                .get(start..reads_end)
                .ok_or_else(|| super::round::chunks_error("a chunk's log is out of order"))?;
            start = reads_end;
            let db = evm.0.ctx.db_mut();
            let mut outcome = if db.still_gives(reads)? {
                if let Some((state, fees)) = committed {
                    db.commit(state, fees)?;
                }
                outcome
            } else {
                again += 1;
                self.run_one(&mut evm, &mut handler, tx, gas)?
            };
            if let Outcome::Executed(receipt) = &mut outcome {
                receipt.set_gas_before(gas);
                gas = gas.saturating_add(receipt.gas_used);
            }
            repaired.push(outcome);
        }
        drop(evm);
        Ok(Repaired {
            db: db.into_parts().0,
            outcomes: repaired,
            again,
        })
    }
}
