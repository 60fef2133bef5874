//! Tests only: the block executed in order with revm paying every fee itself (its journal
//! loads the fee recipients and pays them in each transaction), the reference against which
//! the executors' own fee payments (kept out of the journal and paid to the block's
//! database) are checked.

use crate::{
    BlockEnv, BlockExecution, ChainSpec, EngineResult, ExecutionMode, RecoveredTx,
    db::BlockDb,
    evm::{Evm, TxRun, build_evm, revm_block, revm_cfg, run},
    messages,
    sequential::BlockRun,
    tx::to_op_tx,
};
use alloy_consensus::Transaction as _;
use altius_state::StateProvider;
use revm::context_interface::ContextTr;

/// Executes `txs` in order over `state` with revm's own fee payments.
pub(crate) fn execute_with_revm_fees(
    chain: &ChainSpec,
    state: &dyn StateProvider,
    env: &BlockEnv,
    txs: Vec<RecoveredTx>,
    mode: ExecutionMode,
) -> EngineResult<BlockExecution> {
    let mut db = BlockDb::new(state, None);
    let mut block = BlockRun {
        chain,
        env,
        mode,
        out: BlockExecution::default(),
    };
    {
        let mut evm = build_evm(revm_cfg(chain), revm_block(chain, env), &mut db);
        for (index, tx) in txs.into_iter().enumerate() {
            execute(&mut block, &mut evm, index, tx)?;
        }
    }
    let mut out = block.out;
    out.changes = db.into_changes()?;
    Ok(out)
}

/// Executes one transaction, or rejects it, as sequential execution does.
fn execute(
    block: &mut BlockRun<'_>,
    evm: &mut Evm<'_, '_>,
    index: usize,
    tx: RecoveredTx,
) -> EngineResult<()> {
    let gas_left = block.env.gas_limit.saturating_sub(block.out.gas_used);
    if tx.tx.gas_limit() > gas_left {
        return block.reject(index, &tx, messages::GAS_LIMIT_REACHED.to_string());
    }
    if tx.tx.is_post_exec() {
        return block.reject_failed(index, &tx, None);
    }
    let nonce_before = evm
        .0
        .ctx
        .db_mut()
        .account(tx.sender)?
        .map_or(0, |a| a.nonce);
    match run(evm, to_op_tx(&tx), true)? {
        TxRun::Executed(result) => block.push_executed(tx, result, nonce_before, None),
        TxRun::Invalid(err) => block.reject_failed(index, &tx, Some(&err)),
    }
}
