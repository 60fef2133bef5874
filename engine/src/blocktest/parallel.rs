//! [`ParallelEvmExecutor`]: a block's transactions over mainnet revm on the Block-STM core;
//! the system calls before and after them run in order, as in [`SequentialEvmExecutor`].
//!
//! [`SequentialEvmExecutor`]: super::SequentialEvmExecutor

use super::{
    collision::StorageCollision,
    executor::{
        BlockExecutor, BlockInput, BlockOutput, SignedTx, block_env, cfg, post_block,
        pre_block_calls, push_receipt, system_evm, tx_env,
    },
    world::WorldState,
};
use crate::{
    parallel::{
        self, CachedStorage, ExecutionConfig, ReadView, Storage, StorageError, TxIndex, TxOutcome,
        Vm, VmError,
    },
    parallel_evm::{
        AccountValue, BlockHashFn, EvmKey, EvmValue, MainnetDeferredFees, ViewDb, ViewDbError,
        apply_balance_delta, evm_context, final_changes, is_fee_recipient, one_sender, tx_writes,
    },
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, U256};
use revm::{
    MainBuilder,
    context::{BlockEnv, CfgEnv},
    context_interface::{
        JournalTr,
        result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction},
    },
    handler::Handler,
    inspector::InspectorHandler,
};
use std::collections::HashSet;

/// Runs a block's transactions in parallel (Block-STM) over mainnet revm.
#[derive(Debug, Clone, Copy)]
pub struct ParallelEvmExecutor {
    config: ExecutionConfig,
}

impl ParallelEvmExecutor {
    /// An executor on `threads` worker threads.
    pub fn new(threads: usize) -> Self {
        Self {
            config: ExecutionConfig::with_threads(threads.max(1)),
        }
    }
}

impl BlockExecutor for ParallelEvmExecutor {
    fn execute(
        &self,
        state: &mut WorldState,
        block: &BlockInput<'_>,
    ) -> Result<BlockOutput, String> {
        pre_block_calls(&mut system_evm(state, block), block)?;
        check_blob_gas(block)?;
        let mut out = self.execute_txs(state, block)?;
        post_block(&mut system_evm(state, block), block, &mut out)?;
        Ok(out)
    }

    fn describe(&self) -> String {
        format!(
            "parallel revm (Block-STM) on {} threads",
            self.config.threads
        )
    }
}

impl ParallelEvmExecutor {
    /// Executes the transactions and applies their changes to `state`.
    fn execute_txs(
        &self,
        state: &mut WorldState,
        block: &BlockInput<'_>,
    ) -> Result<BlockOutput, String> {
        let storage_only = state.storage_only_accounts();
        let hashes = state.block_hashes.clone();
        let block_hash = move |number: u64| Ok(hashes.get(&number).copied().unwrap_or_default());
        let vm = MainnetVm {
            cfg: cfg(block.fork),
            block: block_env(block.header, block.fork),
            txs: block.txs,
            block_hash: &block_hash,
            inspect: !storage_only.is_empty(),
            storage_only: &storage_only,
        };
        let storage = CachedStorage::new(WorldStorage(state));
        let output = parallel::execute_block(&vm, &storage, block.txs.len(), &self.config)
            .map_err(|e| format!("parallel execution: {e}"))?;
        let final_state = output.final_state;
        let mut out = BlockOutput::default();
        for (index, (tx, result)) in block.txs.iter().zip(output.txs).enumerate() {
            let result = result.result.map_err(|e| format!("tx {index}: {e}"))?;
            record(block, tx, result, &mut out).map_err(|e| format!("tx {index}: {e}"))?;
        }
        let changes = final_changes(final_state, &storage).map_err(|e| e.to_string())?;
        drop(storage);
        state.apply_changes(&changes);
        Ok(out)
    }
}

/// Blob gas of the block's transactions, checked in order before they run.
fn check_blob_gas(block: &BlockInput<'_>) -> Result<(), String> {
    let max = block
        .fork
        .blob_params()
        .map_or(0, |p| p.max_blob_gas_per_block());
    let mut used = 0u64;
    for (index, tx) in block.txs.iter().enumerate() {
        used = used.saturating_add(tx.tx.blob_gas_used().unwrap_or_default());
        if used > max {
            return Err(format!("tx {index}: blob gas above the block maximum"));
        }
    }
    Ok(())
}

/// Checks the transaction against the gas left in the block and adds its receipt.
fn record(
    block: &BlockInput<'_>,
    tx: &SignedTx,
    result: ExecutionResult<HaltReason>,
    out: &mut BlockOutput,
) -> Result<(), String> {
    let gas_left = block.header.gas_limit.saturating_sub(out.gas_used);
    if tx.tx.gas_limit() > gas_left {
        return Err(format!(
            "gas limit {} above the block's remaining {gas_left}",
            tx.tx.gas_limit()
        ));
    }
    out.blob_gas_used = out
        .blob_gas_used
        .saturating_add(tx.tx.blob_gas_used().unwrap_or_default());
    push_receipt(out, tx, result);
    Ok(())
}

/// The world before the block's transactions, as the Block-STM core reads it.
struct WorldStorage<'a>(&'a WorldState);

impl Storage<EvmKey, EvmValue> for WorldStorage<'_> {
    fn base(&self, key: &EvmKey) -> Result<Option<EvmValue>, StorageError> {
        let world = self.0;
        Ok(match *key {
            EvmKey::Account(address) => Some(EvmValue::Account(AccountValue {
                info: world.accounts().get(&address).map(|a| a.account),
                epoch: 0,
            })),
            EvmKey::Storage(address, slot) => Some(EvmValue::Storage {
                value: world
                    .accounts()
                    .get(&address)
                    .and_then(|a| a.storage.get(&slot).copied())
                    .unwrap_or_default(),
                epoch: 0,
            }),
            EvmKey::Code(hash) => world.code_if_known(&hash).map(EvmValue::Code),
        })
    }
}

/// Why a transaction of a block under test did not run: the block is invalid.
#[derive(Debug)]
struct InvalidTx(String);

impl std::fmt::Display for InvalidTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Mainnet revm as a [`Vm`].
struct MainnetVm<'a> {
    cfg: CfgEnv,
    block: BlockEnv,
    txs: &'a [SignedTx],
    block_hash: BlockHashFn<'a>,
    /// Whether some account is storage-only (EIP-7610 collisions need the inspector).
    inspect: bool,
    storage_only: &'a HashSet<Address>,
}

impl Vm for MainnetVm<'_> {
    type Key = EvmKey;
    type Value = EvmValue;
    type Delta = U256;
    type Output = ExecutionResult<HaltReason>;
    type Error = InvalidTx;

    fn execute(
        &self,
        tx: TxIndex,
        view: &mut dyn ReadView<EvmKey, EvmValue>,
    ) -> Result<TxOutcome<EvmKey, EvmValue, U256, Self::Output>, VmError<InvalidTx>> {
        let Some(signed) = self.txs.get(tx) else {
            return Err(VmError::Tx(InvalidTx(format!("no transaction {tx}"))));
        };
        let db = ViewDb::new(view, self.block_hash, Some(self.storage_only));
        let mut evm = evm_context(self.block.clone(), tx_env(signed), self.cfg.clone(), db, ())
            .build_mainnet_with_inspector(StorageCollision);
        let mut handler =
            MainnetDeferredFees::<_, EVMError<ViewDbError, InvalidTransaction>>::default();
        let result = if self.inspect {
            handler.inspect_run(&mut evm)
        } else {
            handler.run(&mut evm)
        };
        match result {
            Ok(result) => {
                let state = evm.ctx.journaled_state.finalize();
                let db = &mut evm.ctx.journaled_state.database;
                let writes = tx_writes(tx, state, db, handler.fees.take())?;
                Ok(TxOutcome {
                    output: result,
                    writes: writes.writes,
                    deltas: writes.deltas,
                })
            }
            Err(EVMError::Database(ViewDbError::Read(err))) => Err(VmError::Read(err)),
            Err(EVMError::Transaction(err)) => Err(VmError::Tx(InvalidTx(format!(
                "invalid transaction: transaction validation error: {err}"
            )))),
            Err(other) => Err(VmError::Tx(InvalidTx(format!(
                "invalid transaction: {other}"
            )))),
        }
    }

    fn apply_delta(&self, _key: &EvmKey, value: Option<EvmValue>, delta: &U256) -> EvmValue {
        apply_balance_delta(value, delta)
    }

    fn is_accumulator(&self, key: &EvmKey) -> bool {
        is_fee_recipient(key, &[self.block.beneficiary])
    }

    fn is_clearly_serial(&self, txs: usize) -> bool {
        one_sender(self.txs.iter().take(txs).map(|tx| &tx.sender))
    }
}
