//! The EVM over the Block-STM core: state keys and values, the revm database that reads
//! through a [`ReadView`](crate::parallel::ReadView), fee payments as deltas, and the
//! conversion of revm's per-transaction state into writes and of the block's final writes
//! into [`StateChanges`](altius_state::StateChanges).
//!
//! # Keys
//!
//! An account's basic fields (nonce, balance, code hash), one storage slot, and code by hash
//! are the units of conflict. Two transactions conflict only when one reads a key the other
//! writes.
//!
//! # Destroyed accounts
//!
//! Destroying an account (SELFDESTRUCT, an EIP-161 touched empty account) or creating one
//! erases its storage. Every account value carries a storage `epoch`: `0` for the storage
//! the block started with, `tx + 1` after transaction `tx` erased it. Every storage value
//! carries the epoch it was written in; a slot whose epoch differs from its account's reads
//! zero. Reading a slot reads the account first, so erasing the storage is one write.
//!
//! # Fees
//!
//! The fee payments at the end of a transaction (the beneficiary's tip; on OP chains also the
//! base fee, L1 fee and operator fee vaults) are balance deltas, so that transactions that
//! only pay fees to the same vault do not conflict. A transaction that reads a vault's
//! balance sees every fee paid before it, exactly: the core resolves the deltas below it.
//! The recipients are [accumulators](crate::parallel::Vm::is_accumulator): their deltas stay
//! with each transaction, so paying them takes no shared lock.

mod changes;
mod db;
mod fees;
mod initial_gas;
mod op_vm;
mod ssa;
mod storage;
mod values;
mod writes;

pub(crate) use changes::final_changes;
pub(crate) use db::{BlockHashFn, ViewDb, ViewDbError, evm_context};
pub(crate) use fees::{MainnetDeferredFees, OpDeferredFees};
pub(crate) use op_vm::{OpTxFailure, OpVm, SsaRecording};
pub(crate) use storage::ProviderStorage;
pub(crate) use values::apply_balance_delta;
pub use values::{AccountValue, EvmKey, EvmValue};
pub(crate) use writes::tx_writes;

use alloy_primitives::Address;

/// Whether `key` is the account of one of the fee `recipients`.
pub(crate) fn is_fee_recipient(key: &EvmKey, recipients: &[Address]) -> bool {
    matches!(key, EvmKey::Account(address) if recipients.contains(address))
}

/// Whether every transaction of a block has the same sender: the block is then a chain of
/// nonces, serial by construction.
pub(crate) fn one_sender<'a>(mut senders: impl Iterator<Item = &'a Address>) -> bool {
    senders
        .next()
        .is_some_and(|first| senders.all(|sender| sender == first))
}
