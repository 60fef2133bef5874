//! Executing a block in order on the calling thread: the reference semantics of the core.

use super::{
    output::{ExecutionStats, ParallelError, Strategy, TxResult, VmBlockOutput},
    view::{SeqView, State},
    vm::{Storage, TxIndex, Vm, VmError},
    write_set::normalize,
};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The result of one transaction of a [`Vm`].
type VmTxResult<M> =
    TxResult<<M as Vm>::Key, <M as Vm>::Value, <M as Vm>::Output, <M as Vm>::Error>;

/// The final value of every key a [`Vm`]'s block wrote.
type VmFinalState<M> = Vec<(<M as Vm>::Key, <M as Vm>::Value)>;

/// The per-transaction results of a [`Vm`].
type VmTxResults<M> = Vec<VmTxResult<M>>;

/// Executes transactions `0..txs` in order. A VM panic becomes [`ParallelError::VmPanicked`].
pub(crate) fn execute<M, S>(
    vm: &M,
    storage: &S,
    txs: usize,
    strategy: Strategy,
    tx_writes: bool,
) -> Result<VmBlockOutput<M>, ParallelError>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    let mut current = 0;
    let run = catch_unwind(AssertUnwindSafe(|| {
        run(vm, storage, txs, tx_writes, &mut current)
    }));
    let (txs, final_state) = match run {
        Ok(results) => results?,
        Err(_) => return Err(ParallelError::VmPanicked { tx: current }),
    };
    let stats = ExecutionStats {
        strategy,
        threads: 1,
        executions: txs.len() as u64,
        ..ExecutionStats::default()
    };
    Ok(VmBlockOutput::<M> {
        txs,
        final_state,
        stats,
    })
}

fn run<M, S>(
    vm: &M,
    storage: &S,
    txs: usize,
    tx_writes: bool,
    current: &mut TxIndex,
) -> Result<(VmTxResults<M>, VmFinalState<M>), ParallelError>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    let mut state = State::new();
    let mut results = Vec::with_capacity(txs);
    for tx in 0..txs {
        *current = tx;
        results.push(step(vm, storage, &mut state, tx, tx_writes)?);
    }
    Ok((results, state.into_final_state()))
}

fn step<M, S>(
    vm: &M,
    storage: &S,
    state: &mut State<M::Key, M::Value>,
    tx: TxIndex,
    tx_writes: bool,
) -> Result<VmTxResult<M>, ParallelError>
where
    M: Vm,
    S: Storage<M::Key, M::Value>,
{
    let mut view = SeqView::new(state, storage);
    let result = vm.execute(tx, &mut view);
    if let Some(source) = view.failure {
        return Err(ParallelError::Storage { tx, source });
    }
    match result {
        Ok(outcome) => {
            let write_set = normalize(vm, outcome.writes, outcome.deltas);
            let mut writes = Vec::new();
            state
                .apply(vm, storage, write_set, tx_writes.then_some(&mut writes))
                .map_err(|source| ParallelError::Storage { tx, source })?;
            Ok(TxResult {
                result: Ok(outcome.output),
                writes,
            })
        }
        Err(VmError::Tx(error)) => Ok(TxResult {
            result: Err(error),
            writes: Vec::new(),
        }),
        Err(VmError::Read(_)) => Err(ParallelError::ForeignReadError { tx }),
    }
}
