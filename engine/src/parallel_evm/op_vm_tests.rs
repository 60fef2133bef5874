//! The SSA redo of [`OpVm`] against a full execution over the same reads: a hot ERC20
//! transfer executed over one balance of the shared recipient, then again over another.

use super::*;
use crate::{
    evm::{l1_block_info, revm_block, revm_cfg},
    parallel::{ReadError, Storage},
    parallel_evm::ProviderStorage,
    workload::{self, Workload, WorkloadBlock, amm_pool_storage, erc20_balance_slot},
};
use alloy_primitives::{Address, B256, map::HashMap};

/// The state of a workload block, with some keys set otherwise.
struct MapView<'a> {
    storage: ProviderStorage<'a>,
    set: HashMap<EvmKey, EvmValue>,
}

impl ReadView<EvmKey, EvmValue> for MapView<'_> {
    fn read(&mut self, key: &EvmKey) -> Result<Option<EvmValue>, ReadError> {
        match self.set.get(key) {
            Some(value) => Ok(Some(value.clone())),
            None => self.storage.base(key).map_err(|_| ReadError::storage()),
        }
    }
}

const TX: usize = 3;

fn vm<'a>(block: &'a WorkloadBlock, block_hash: BlockHashFn<'a>) -> OpVm<'a> {
    OpVm {
        cfg: revm_cfg(&block.chain),
        block: revm_block(&block.chain, &block.env),
        txs: &block.txs,
        block_hash,
        l1_info: l1_block_info(&block.chain, &block.state, &block.env).unwrap(),
        ssa: SsaRecording::Always,
        redos: AtomicU64::new(0),
        again: AtomicU64::new(0),
        redo_failures: AtomicU64::new(0),
    }
}

/// The key of the shared recipient's token balance, and transaction `TX`'s sender.
fn keys(block: &WorkloadBlock) -> (EvmKey, EvmKey) {
    let tx = &block.txs[TX];
    let token = tx.tx.to().unwrap();
    let recipient = Address::from_slice(&tx.tx.input()[16..36]);
    let slot = EvmKey::Storage(token, erc20_balance_slot(recipient));
    (slot, EvmKey::Account(tx.sender))
}

fn view<'a>(block: &'a WorkloadBlock, set: &[(EvmKey, EvmValue)]) -> MapView<'a> {
    MapView {
        storage: ProviderStorage::new(&block.state),
        set: set.iter().cloned().collect(),
    }
}

fn balance(value: u64) -> EvmValue {
    EvmValue::Storage {
        value: U256::from(value),
        epoch: 0,
    }
}

/// What an outcome says: result, nonce, writes as a map (their order is revm's), deltas.
type Summary = (
    ExecutionResult<OpHaltReason>,
    u64,
    HashMap<EvmKey, EvmValue>,
    Vec<(EvmKey, U256)>,
);

/// Runs transaction `TX` again over `set` from `previous`, and in full: both must agree.
/// Returns what they gave, and the output to run again from (with its record).
fn again_equals_full(
    vm: &OpVm<'_>,
    block: &WorkloadBlock,
    set: &[(EvmKey, EvmValue)],
    previous: OpTxOutput,
) -> (Summary, OpTxOutput) {
    let Ok(again) = vm.execute_again(TX, &mut view(block, set), previous) else {
        panic!("the transaction failed")
    };
    let Ok(full) = vm.execute(TX, &mut view(block, set)) else {
        panic!("the transaction failed")
    };
    let summary = |outcome: TxOutcome<EvmKey, EvmValue, U256, OpTxOutput>| -> Summary {
        let out = outcome.output;
        let writes = outcome.writes.into_iter().collect();
        (out.result, out.nonce_before, writes, outcome.deltas)
    };
    let next = OpTxOutput {
        result: again.output.result.clone(),
        nonce_before: again.output.nonce_before,
        bloom: again.output.bloom,
        ssa: None,
    };
    let record = again.output.ssa;
    let again = summary(TxOutcome {
        output: next,
        writes: again.writes,
        deltas: again.deltas,
    });
    assert_eq!(again, summary(full), "{set:?}");
    let previous = OpTxOutput {
        result: again.0.clone(),
        nonce_before: again.1,
        bloom: Bloom::default(),
        ssa: record,
    };
    (again, previous)
}

/// [`again_equals_full`] for a hot transfer: the recipient's balance must also go up by the
/// one unit transferred.
fn transfer_again(
    vm: &OpVm<'_>,
    block: &WorkloadBlock,
    set: &[(EvmKey, EvmValue)],
    previous: OpTxOutput,
) -> OpTxOutput {
    let (slot, _) = keys(block);
    let (again, previous) = again_equals_full(vm, block, set, previous);
    let Some(EvmValue::Storage { value, .. }) =
        set.iter().find(|(k, _)| *k == slot).map(|(_, v)| v)
    else {
        panic!("no balance set")
    };
    let expected = EvmValue::Storage {
        value: value + U256::from(1),
        epoch: 0,
    };
    assert_eq!(again.2.get(&slot), Some(&expected), "{set:?}");
    previous
}

#[test]
fn a_redo_gives_what_a_full_execution_over_the_new_reads_gives() {
    let block = workload::generate(Workload::HotErc20, 8).unwrap();
    let hashes = |_| Ok(B256::ZERO);
    let vm = vm(&block, &hashes);
    let (slot, sender) = keys(&block);
    let recorded = |value| {
        let run = vm.execute(TX, &mut view(&block, &[(slot, balance(value))]));
        let output = run.unwrap().output;
        assert!(output.ssa.is_some(), "the execution was not recorded");
        output
    };
    // The recipient's balance grew: redone, twice in a row (the second from the first).
    let redone = transfer_again(&vm, &block, &[(slot, balance(20))], recorded(10));
    assert_eq!(vm.redos.load(Relaxed), 1);
    transfer_again(&vm, &block, &[(slot, balance(35))], redone);
    assert_eq!(vm.redos.load(Relaxed), 2);
    // From zero the store creates the slot and costs more: run in full.
    transfer_again(&vm, &block, &[(slot, balance(0))], recorded(10));
    assert_eq!(vm.redo_failures.load(Relaxed), 1);
    // The sender's account changed: run in full.
    let Some(EvmValue::Account(mut account)) = view(&block, &[]).read(&sender).unwrap() else {
        panic!("no sender")
    };
    if let Some(info) = account.info.as_mut() {
        info.balance += U256::from(1);
    }
    let richer = [(slot, balance(10)), (sender, EvmValue::Account(account))];
    transfer_again(&vm, &block, &richer, recorded(10));
    assert_eq!(
        (vm.redos.load(Relaxed), vm.redo_failures.load(Relaxed)),
        (2, 2)
    );
}

/// A swap on the shared pool whose reserves changed: the amount out changes, and with it
/// the token transfer the pool calls (its calldata), the `Transfer` and `Swap` logs' data and
/// the returned amount. The redo gives what a full execution gives.
#[test]
fn a_swap_is_redone_through_its_call_its_logs_and_its_output() {
    let block = workload::generate(Workload::HotAmm, 8).unwrap();
    let hashes = |_| Ok(B256::ZERO);
    let vm = vm(&block, &hashes);
    let pool = block.txs[TX].tx.to().unwrap();
    let [(reserves_slot, ..), ..] = amm_pool_storage(U256::ZERO, U256::ZERO, U256::ZERO);
    let reserves = EvmKey::Storage(pool, reserves_slot);
    let set = |reserve0: u64, reserve1: u64| {
        let packed = amm_pool_storage(U256::from(reserve0), U256::from(reserve1), U256::ZERO)[0].1;
        [(
            reserves,
            EvmValue::Storage {
                value: packed,
                epoch: 0,
            },
        )]
    };
    let e18 = 1_000_000_000_000_000_000;
    let first = vm
        .execute(TX, &mut view(&block, &set(e18, e18)))
        .unwrap()
        .output;
    assert!(first.ssa.is_some(), "the swap was not recorded");
    let first_result = first.result.clone();
    let (again, previous) =
        again_equals_full(&vm, &block, &set(e18 + e18 / 10, e18 - e18 / 7), first);
    assert_eq!(vm.redos.load(Relaxed), 1, "the swap was run in full");
    // The amount out changed: the output and the logs' data are not those recorded.
    assert_ne!(again.0.output(), first_result.output());
    assert_ne!(again.0.logs(), first_result.logs());
    again_equals_full(&vm, &block, &set(e18 / 2, 3 * e18), previous);
    assert_eq!(vm.redos.load(Relaxed), 2, "the second redo ran in full");
}
