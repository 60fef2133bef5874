//! Stored blocks, transactions and receipts in their JSON-RPC shapes, built with alloy's and
//! op-alloy's RPC types so that every client library parses them.

use crate::store::StoredBlock;
use alloy_consensus::{
    Header, ReceiptWithBloom, Sealed, Transaction as _, transaction::Recovered,
    transaction::TransactionInfo,
};
use alloy_primitives::{Address, U256};
use alloy_rlp::{Encodable, Header as RlpHeader};
use alloy_rpc_types_eth::{BlockTransactions, Log, TransactionReceipt, Withdrawals};
use altius_engine::RecoveredTx;
use op_alloy_consensus::{
    OpReceipt, OpReceiptEnvelope, OpTxEnvelope,
    transaction::{OpDepositInfo, OpTransactionInfo},
};

/// A transaction as JSON-RPC returns it (with OP deposit fields).
pub(crate) type RpcTransaction = op_alloy_rpc_types::Transaction;
/// A block header as JSON-RPC returns it.
pub(crate) type RpcHeader = alloy_rpc_types_eth::Header;
/// A block as JSON-RPC returns it.
pub(crate) type RpcBlock = alloy_rpc_types_eth::Block<RpcTransaction, RpcHeader>;
/// A receipt as JSON-RPC returns it (with OP fields).
pub(crate) type RpcReceipt = op_alloy_rpc_types::OpTransactionReceipt;

/// The header in its JSON-RPC shape, with `size` when known (geth's `newHeads` has none).
pub(crate) fn rpc_header(header: &Sealed<Header>, size: Option<u64>) -> RpcHeader {
    RpcHeader::from_consensus(header.clone(), None, size.map(U256::from))
}

/// Size in bytes of the block's RLP encoding (`[header, txs, ommers, withdrawals]`), as
/// geth reports it, computed without re-encoding the block.
fn block_size(block: &StoredBlock) -> u64 {
    let list_len = |payload: usize| {
        RlpHeader {
            list: true,
            payload_length: payload,
        }
        .length()
            + payload
    };
    let txs: usize = block.txs.iter().map(|t| t.tx.length()).sum();
    let ommers = list_len(0);
    let withdrawals = block.header.withdrawals_root.map_or(0, |_| list_len(0));
    let payload = block.header.inner().length() + list_len(txs) + ommers + withdrawals;
    list_len(payload) as u64
}

/// The block with full transactions or only their hashes.
pub(crate) fn rpc_block(block: &StoredBlock, full: bool) -> RpcBlock {
    let transactions = if full {
        BlockTransactions::Full(
            (0..block.txs.len())
                .filter_map(|i| block_tx(block, i))
                .collect(),
        )
    } else {
        BlockTransactions::Hashes(block.txs.iter().map(|t| t.hash).collect())
    };
    RpcBlock {
        header: rpc_header(&block.header, Some(block_size(block))),
        uncles: Vec::new(),
        transactions,
        withdrawals: block
            .header
            .withdrawals_root
            .map(|_| Withdrawals::default()),
    }
}

/// Deposit metadata of transaction `index`, read from its receipt.
fn deposit_info(block: &StoredBlock, index: usize) -> OpDepositInfo {
    let receipt = block.receipts.get(index);
    OpDepositInfo {
        deposit_nonce: receipt.and_then(OpReceiptEnvelope::deposit_nonce),
        deposit_receipt_version: receipt.and_then(OpReceiptEnvelope::deposit_receipt_version),
    }
}

/// Transaction `index` of `block`, with its block fields.
pub(crate) fn block_tx(block: &StoredBlock, index: usize) -> Option<RpcTransaction> {
    let tx = block.txs.get(index)?;
    let info = TransactionInfo {
        hash: Some(tx.hash),
        index: Some(index as u64),
        block_hash: Some(block.hash()),
        block_number: Some(block.number()),
        base_fee: block.header.base_fee_per_gas,
        block_timestamp: Some(block.header.timestamp),
    };
    let recovered = Recovered::new_unchecked(tx.tx.clone(), tx.sender);
    let info = OpTransactionInfo::new(info, deposit_info(block, index));
    Some(RpcTransaction::from_transaction(recovered, info))
}

/// A pool transaction: block fields `null`, `gasPrice` its max fee, as geth shows it.
pub(crate) fn pending_tx(tx: &RecoveredTx) -> RpcTransaction {
    let info = TransactionInfo {
        hash: Some(tx.hash),
        ..Default::default()
    };
    let recovered = Recovered::new_unchecked(tx.tx.clone(), tx.sender);
    RpcTransaction::from_transaction(recovered, OpTransactionInfo::new(info, Default::default()))
}

/// Where the receipt of a transaction starts within its block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ReceiptOffsets {
    /// Index in the block of its first log.
    first_log: u64,
    /// Cumulative gas used by the transactions before it.
    gas_before: u64,
}

/// Receipts of all transactions of `block`, in order.
pub(crate) fn block_receipts(block: &StoredBlock) -> Vec<RpcReceipt> {
    let mut offsets = ReceiptOffsets::default();
    let mut out = Vec::with_capacity(block.receipts.len());
    for index in 0..block.receipts.len().min(block.txs.len()) {
        out.push(build_receipt(block, index, offsets));
        offsets = next_offsets(&block.receipts[index], offsets);
    }
    out
}

/// The receipt of transaction `index` of `block`.
pub(crate) fn tx_receipt(block: &StoredBlock, index: usize) -> Option<RpcReceipt> {
    if index >= block.txs.len() || index >= block.receipts.len() {
        return None;
    }
    let offsets = block.receipts[..index]
        .iter()
        .fold(ReceiptOffsets::default(), |acc, r| next_offsets(r, acc));
    Some(build_receipt(block, index, offsets))
}

fn next_offsets(receipt: &OpReceiptEnvelope, at: ReceiptOffsets) -> ReceiptOffsets {
    ReceiptOffsets {
        first_log: at.first_log + receipt.logs().len() as u64,
        gas_before: receipt.cumulative_gas_used(),
    }
}

/// The JSON-RPC log `log_index` of the block, emitted by transaction `tx_index`.
pub(crate) fn rpc_log(
    block: &StoredBlock,
    tx_index: usize,
    log_index: u64,
    log: alloy_primitives::Log,
) -> Log {
    Log {
        inner: log,
        block_hash: Some(block.hash()),
        block_number: Some(block.number()),
        block_timestamp: Some(block.header.timestamp),
        transaction_hash: block.txs.get(tx_index).map(|t| t.hash),
        transaction_index: Some(tx_index as u64),
        log_index: Some(log_index),
        removed: false,
    }
}

fn build_receipt(block: &StoredBlock, index: usize, at: ReceiptOffsets) -> RpcReceipt {
    let tx = &block.txs[index];
    let envelope = &block.receipts[index];
    let mut next_log = at.first_log;
    let with_logs = envelope.clone().map_logs(|log| {
        next_log += 1;
        rpc_log(block, index, next_log - 1, log)
    });
    let inner = TransactionReceipt {
        inner: with_bloom(with_logs),
        transaction_hash: tx.hash,
        transaction_index: Some(index as u64),
        block_hash: Some(block.hash()),
        block_number: Some(block.number()),
        gas_used: envelope.cumulative_gas_used().saturating_sub(at.gas_before),
        effective_gas_price: effective_gas_price(&tx.tx, block.header.base_fee_per_gas),
        blob_gas_used: None,
        blob_gas_price: None,
        from: tx.sender,
        to: tx.tx.to(),
        contract_address: created_address(tx),
    };
    RpcReceipt {
        inner,
        l1_block_info: Default::default(),
        op_gas_refund: None,
    }
}

/// What the sender paid per gas: zero for deposits, base fee plus tip otherwise.
pub(crate) fn effective_gas_price(tx: &OpTxEnvelope, base_fee: Option<u64>) -> u128 {
    if tx.is_deposit() {
        0
    } else {
        tx.effective_gas_price(base_fee)
    }
}

/// The contract a creation transaction deployed (from sender and nonce).
fn created_address(tx: &RecoveredTx) -> Option<Address> {
    tx.tx.is_create().then(|| tx.sender.create(tx.tx.nonce()))
}

fn with_bloom(envelope: OpReceiptEnvelope<Log>) -> ReceiptWithBloom<OpReceipt<Log>> {
    let (receipt, logs_bloom) = match envelope {
        OpReceiptEnvelope::Legacy(r) => (OpReceipt::Legacy(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Eip2930(r) => (OpReceipt::Eip2930(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Eip1559(r) => (OpReceipt::Eip1559(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Eip7702(r) => (OpReceipt::Eip7702(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::PostExec(r) => (OpReceipt::PostExec(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Deposit(r) => (OpReceipt::Deposit(r.receipt), r.logs_bloom),
    };
    ReceiptWithBloom {
        receipt,
        logs_bloom,
    }
}
