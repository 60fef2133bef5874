//! The SSA redo of [`OpVm`] against a full execution over the same reads: a hot ERC20
//! transfer executed over one balance of the shared recipient, then again over another.

use super::*;
use crate::{
    evm::{l1_block_info, revm_block, revm_cfg},
    parallel::{ReadError, Storage},
    parallel_evm::ProviderStorage,
    workload::{self, Workload, WorkloadBlock, erc20_balance_slot},
};
use alloy_consensus::Transaction as _;
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

/// What an outcome says, with its writes as a map (their order is revm's).
#[allow(clippy::type_complexity)]
fn summary(
    run: Run,
) -> (
    ExecutionResult<OpHaltReason>,
    u64,
    HashMap<EvmKey, EvmValue>,
    Vec<(EvmKey, U256)>,
) {
    let Ok(outcome) = run else {
        panic!("the transfer failed")
    };
    let out = outcome.output;
    (
        out.result,
        out.nonce_before,
        outcome.writes.into_iter().collect(),
        outcome.deltas,
    )
}

/// Runs transaction `TX` again over `set` from `previous`, and in full: both must agree, and
/// the recipient's balance must go up by the one unit transferred.
fn again_equals_full(
    vm: &OpVm<'_>,
    block: &WorkloadBlock,
    set: &[(EvmKey, EvmValue)],
    previous: OpTxOutput,
) -> OpTxOutput {
    let (slot, _) = keys(block);
    let Ok(again) = vm.execute_again(TX, &mut view(block, set), previous) else {
        panic!("the transfer failed")
    };
    let full = vm.execute(TX, &mut view(block, set));
    let next = OpTxOutput {
        result: again.output.result.clone(),
        nonce_before: again.output.nonce_before,
        bloom: again.output.bloom,
        ssa: None,
    };
    let record = again.output.ssa;
    let again = summary(Ok(TxOutcome {
        output: next,
        writes: again.writes,
        deltas: again.deltas,
    }));
    assert_eq!(again, summary(full), "{set:?}");
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
    OpTxOutput {
        result: again.0,
        nonce_before: again.1,
        bloom: Bloom::default(),
        ssa: record,
    }
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
    let redone = again_equals_full(&vm, &block, &[(slot, balance(20))], recorded(10));
    assert_eq!(vm.redos.load(Relaxed), 1);
    again_equals_full(&vm, &block, &[(slot, balance(35))], redone);
    assert_eq!(vm.redos.load(Relaxed), 2);
    // From zero the store creates the slot and costs more: run in full.
    again_equals_full(&vm, &block, &[(slot, balance(0))], recorded(10));
    assert_eq!(vm.redo_failures.load(Relaxed), 1);
    // The sender's account changed: run in full.
    let Some(EvmValue::Account(mut account)) = view(&block, &[]).read(&sender).unwrap() else {
        panic!("no sender")
    };
    if let Some(info) = account.info.as_mut() {
        info.balance += U256::from(1);
    }
    let richer = [(slot, balance(10)), (sender, EvmValue::Account(account))];
    again_equals_full(&vm, &block, &richer, recorded(10));
    assert_eq!(
        (vm.redos.load(Relaxed), vm.redo_failures.load(Relaxed)),
        (2, 2)
    );
}
