//! [`BlockExecutor`]: executes one block on a [`WorldState`]; [`SequentialEvmExecutor`]
//! runs its transactions one after another over mainnet revm.

use super::{collision::StorageCollision, fork::Fork, requests, world::WorldState};
use alloy_consensus::{
    Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction as _, TxEnvelope,
};
use alloy_eips::{
    eip2935::HISTORY_STORAGE_ADDRESS, eip4788::BEACON_ROOTS_ADDRESS, eip4895::Withdrawal,
    eip7685::Requests,
};
use alloy_primitives::{Address, Bytes, U256};
use revm::{
    Context, DatabaseCommit, ExecuteCommitEvm, InspectCommitEvm, MainBuilder, MainContext,
    MainnetEvm, SystemCallEvm,
    context::{BlockEnv, CfgEnv, TxEnv, either::Either},
    context_interface::block::BlobExcessGasAndPrice,
    handler::SYSTEM_ADDRESS,
};
use std::fmt::Debug;

/// The chain id of the Ethereum test networks.
pub const TEST_CHAIN_ID: u64 = 1;

/// A transaction with its recovered sender.
#[derive(Debug, Clone)]
pub struct SignedTx {
    /// The transaction.
    pub tx: TxEnvelope,
    /// Its sender.
    pub sender: Address,
}

/// What an executor needs to run one block.
#[derive(Debug, Clone, Copy)]
pub struct BlockInput<'a> {
    /// The block's header.
    pub header: &'a Header,
    /// The fork active at the block.
    pub fork: Fork,
    /// The transactions, in block order.
    pub txs: &'a [SignedTx],
    /// The withdrawals (empty before Shanghai).
    pub withdrawals: &'a [Withdrawal],
}

/// What executing a block gave.
#[derive(Debug, Clone, Default)]
pub struct BlockOutput {
    /// One receipt per transaction.
    pub receipts: Vec<ReceiptEnvelope>,
    /// Gas used by the transactions.
    pub gas_used: u64,
    /// Blob gas used by the transactions.
    pub blob_gas_used: u64,
    /// The EIP-7685 requests (from Prague on).
    pub requests: Option<Requests>,
}

/// Executes whole blocks with Ethereum L1 semantics: the pre-block system calls, the
/// transactions, withdrawals and the post-block requests. An error rejects the block.
pub trait BlockExecutor: Send + Sync + Debug {
    /// Executes `block` on `state`, which the block's parent left; on success `state` is
    /// the state after the block.
    fn execute(
        &self,
        state: &mut WorldState,
        block: &BlockInput<'_>,
    ) -> Result<BlockOutput, String>;

    /// A short description of how transactions run, for the runner's output.
    fn describe(&self) -> String;
}

/// Runs a block's transactions in order over mainnet revm.
#[derive(Debug, Clone, Copy, Default)]
pub struct SequentialEvmExecutor;

pub(super) type Evm<'a> =
    MainnetEvm<revm::handler::MainnetContext<&'a mut WorldState>, StorageCollision>;

impl BlockExecutor for SequentialEvmExecutor {
    fn execute(
        &self,
        state: &mut WorldState,
        block: &BlockInput<'_>,
    ) -> Result<BlockOutput, String> {
        let mut evm = system_evm(state, block);
        pre_block_calls(&mut evm, block)?;
        let mut out = BlockOutput::default();
        // Only pre-states hold storage-only accounts; without them the inspector is not needed.
        let inspect = evm.ctx.journaled_state.database.has_storage_only_accounts();
        for (index, tx) in block.txs.iter().enumerate() {
            run_tx(&mut evm, block, tx, inspect, &mut out)
                .map_err(|e| format!("tx {index}: {e}"))?;
        }
        post_block(&mut evm, block, &mut out)?;
        Ok(out)
    }

    fn describe(&self) -> String {
        "sequential revm".to_string()
    }
}

/// Withdrawals, then (from Prague on) the EIP-7685 requests.
pub(super) fn post_block(
    evm: &mut Evm<'_>,
    block: &BlockInput<'_>,
    out: &mut BlockOutput,
) -> Result<(), String> {
    for w in block.withdrawals {
        let wei = U256::from(w.amount) * U256::from(1_000_000_000u64);
        evm.ctx.journaled_state.database.credit(w.address, wei);
    }
    if block.fork.at_least(Fork::Prague) {
        let mut reqs = requests::deposit_requests(&out.receipts)?;
        for (ty, address) in requests::SYSTEM_REQUEST_CONTRACTS {
            let data = system_call(evm, block.header, address, Bytes::new(), true)?;
            reqs.push_request_with_type(ty, data);
        }
        out.requests = Some(reqs);
    }
    Ok(())
}

/// An EVM over `state` for the system calls and withdrawals around a block's transactions.
pub(super) fn system_evm<'a>(state: &'a mut WorldState, block: &BlockInput<'_>) -> Evm<'a> {
    Context::mainnet()
        .with_cfg(cfg(block.fork))
        .with_block(block_env(block.header, block.fork))
        .with_db(state)
        .build_mainnet_with_inspector(StorageCollision)
}

/// revm's configuration for `fork` on the test chain.
pub(super) fn cfg(fork: Fork) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(fork.spec_id());
    cfg.chain_id = TEST_CHAIN_ID;
    if let Some(params) = fork.blob_params() {
        cfg.max_blobs_per_tx = Some(params.max_blob_count);
        cfg.blob_base_fee_update_fraction = Some(params.update_fraction as u64);
    }
    cfg
}

/// revm's block environment of `header`.
pub(super) fn block_env(header: &Header, fork: Fork) -> BlockEnv {
    let blob = fork.blob_params().map(|params| {
        BlobExcessGasAndPrice::new(
            header.excess_blob_gas.unwrap_or_default(),
            params.update_fraction as u64,
        )
    });
    BlockEnv {
        number: U256::from(header.number),
        beneficiary: header.beneficiary,
        timestamp: U256::from(header.timestamp),
        gas_limit: header.gas_limit,
        basefee: header.base_fee_per_gas.unwrap_or_default(),
        difficulty: header.difficulty,
        prevrandao: Some(header.mix_hash),
        blob_excess_gas_and_price: blob,
        slot_num: 0,
    }
}

/// The EIP-4788 beacon root and EIP-2935 parent hash system calls.
pub(super) fn pre_block_calls(evm: &mut Evm<'_>, block: &BlockInput<'_>) -> Result<(), String> {
    let header = block.header;
    if block.fork.at_least(Fork::Cancun) {
        let root = header
            .parent_beacon_block_root
            .ok_or("missing parent beacon block root")?;
        system_call(evm, header, BEACON_ROOTS_ADDRESS, root.into(), false)?;
    }
    if block.fork.at_least(Fork::Prague) {
        let parent = header.parent_hash;
        system_call(evm, header, HISTORY_STORAGE_ADDRESS, parent.into(), false)?;
    }
    Ok(())
}

/// One system call, committed without the system address and the coinbase. With
/// `required`, a missing contract or a failing call rejects the block.
fn system_call(
    evm: &mut Evm<'_>,
    header: &Header,
    address: Address,
    data: Bytes,
    required: bool,
) -> Result<Bytes, String> {
    let has_code = evm
        .ctx
        .journaled_state
        .database
        .accounts()
        .get(&address)
        .is_some_and(|a| a.account.code_hash != alloy_primitives::KECCAK256_EMPTY);
    if !has_code {
        return match required {
            true => Err(format!("system contract {address} has no code")),
            false => Ok(Bytes::new()),
        };
    }
    let run = evm
        .system_call_with_caller(SYSTEM_ADDRESS, address, data)
        .map_err(|e| format!("system call to {address}: {e}"))?;
    let mut state = run.state;
    state.remove(&SYSTEM_ADDRESS);
    state.remove(&header.beneficiary);
    evm.ctx.journaled_state.database.commit(state);
    match (run.result.is_success(), required) {
        (false, true) => Err(format!("system call to {address} failed")),
        _ => Ok(run.result.output().cloned().unwrap_or_default()),
    }
}

/// Runs one transaction and records its receipt.
fn run_tx(
    evm: &mut Evm<'_>,
    block: &BlockInput<'_>,
    tx: &SignedTx,
    inspect: bool,
    out: &mut BlockOutput,
) -> Result<(), String> {
    let gas_left = block.header.gas_limit.saturating_sub(out.gas_used);
    if tx.tx.gas_limit() > gas_left {
        return Err(format!(
            "gas limit {} above the block's remaining {gas_left}",
            tx.tx.gas_limit()
        ));
    }
    let blob_gas = tx.tx.blob_gas_used().unwrap_or_default();
    let max_blob_gas = block
        .fork
        .blob_params()
        .map_or(0, |p| p.max_blob_gas_per_block());
    out.blob_gas_used = out.blob_gas_used.saturating_add(blob_gas);
    if out.blob_gas_used > max_blob_gas {
        return Err("blob gas above the block maximum".to_string());
    }
    let result = if inspect {
        evm.inspect_tx_commit(tx_env(tx))
    } else {
        evm.transact_commit(tx_env(tx))
    };
    let result = result.map_err(|e| format!("invalid transaction: {e}"))?;
    push_receipt(out, tx, result);
    Ok(())
}

/// Adds the receipt of `tx`, which gave `result`, and its gas to the block's output.
pub(super) fn push_receipt(
    out: &mut BlockOutput,
    tx: &SignedTx,
    result: revm::context_interface::result::ExecutionResult,
) {
    out.gas_used = out.gas_used.saturating_add(result.tx_gas_used());
    let receipt = Receipt {
        status: result.is_success().into(),
        cumulative_gas_used: out.gas_used,
        logs: result.into_logs(),
    };
    let with_bloom = ReceiptWithBloom::from(receipt);
    out.receipts
        .push(ReceiptEnvelope::from_typed(tx.tx.tx_type(), with_bloom));
}

/// revm's form of a transaction.
pub(super) fn tx_env(tx: &SignedTx) -> TxEnv {
    let t = &tx.tx;
    let authorization_list = t
        .authorization_list()
        .map(|list| list.iter().cloned().map(Either::Left).collect())
        .unwrap_or_default();
    TxEnv {
        tx_type: t.tx_type() as u8,
        caller: tx.sender,
        gas_limit: t.gas_limit(),
        gas_price: t.max_fee_per_gas(),
        kind: t.kind(),
        value: t.value(),
        data: t.input().clone(),
        nonce: t.nonce(),
        chain_id: t.chain_id(),
        access_list: t.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: t.max_priority_fee_per_gas(),
        blob_hashes: t
            .blob_versioned_hashes()
            .map(<[_]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: t.max_fee_per_blob_gas().unwrap_or_default(),
        authorization_list,
    }
}
