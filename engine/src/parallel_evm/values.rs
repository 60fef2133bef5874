//! [`EvmKey`] and [`EvmValue`]: the EVM state as the Block-STM core sees it.

use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256};
use altius_state::Account;
use revm::bytecode::Bytecode;

/// A unit of EVM state the core tracks reads and writes of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvmKey {
    /// Nonce, balance and code hash of an account (and its storage epoch).
    Account(Address),
    /// One storage slot of an account.
    Storage(Address, U256),
    /// The code with this keccak256 hash.
    Code(B256),
}

/// An account as the core stores it: its fields, or `None` when it does not exist, and the
/// epoch of its storage (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AccountValue {
    /// The account, `None` when it does not exist.
    pub info: Option<Account>,
    /// `0`: the storage the block started with; `tx + 1`: erased by transaction `tx`.
    pub epoch: u32,
}

/// The value at an [`EvmKey`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvmValue {
    /// At an [`EvmKey::Account`].
    Account(AccountValue),
    /// At an [`EvmKey::Storage`]: the value and the storage epoch it was written in.
    Storage {
        /// The slot's value.
        value: U256,
        /// The epoch of the account's storage when it was written.
        epoch: u32,
    },
    /// At an [`EvmKey::Code`].
    Code(Bytecode),
}

impl EvmValue {
    /// The account, when this is an account value.
    pub const fn as_account(&self) -> Option<&AccountValue> {
        match self {
            Self::Account(account) => Some(account),
            _ => None,
        }
    }
}

/// The storage epoch of an account a fee payment deleted (a touched empty account): no
/// transaction index maps to it, so its storage reads zero afterwards.
pub(crate) const FEE_DELETION_EPOCH: u32 = u32::MAX;

/// Whether `account` is empty in the EIP-161 sense.
pub(crate) fn is_empty(account: &Account) -> bool {
    account.nonce == 0 && account.balance.is_zero() && account.code_hash == KECCAK256_EMPTY
}

/// Adds `amount` to the balance of the account in `value`, as revm's `incr_balance` does in
/// a fee payment: the account is touched, so an account left empty is deleted (EIP-161); an
/// overflowing addition leaves the balance unchanged. Deltas only ever target accounts.
pub(crate) fn apply_balance_delta(value: Option<EvmValue>, amount: &U256) -> EvmValue {
    let mut account = match value {
        Some(EvmValue::Account(account)) => account,
        // Deltas are only emitted on account keys; any other value is left as it is.
        Some(other) => return other,
        None => AccountValue::default(),
    };
    let mut info = account.info.unwrap_or(Account {
        nonce: 0,
        balance: U256::ZERO,
        code_hash: KECCAK256_EMPTY,
    });
    if let Some(balance) = info.balance.checked_add(*amount) {
        info.balance = balance;
    }
    let existed = account.info.is_some();
    account.info = (!is_empty(&info)).then_some(info);
    if existed && account.info.is_none() {
        // A deleted account loses its storage, as any deletion does.
        account.epoch = FEE_DELETION_EPOCH;
    }
    EvmValue::Account(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_creates_funds_and_deletes_touched_empty_accounts() {
        let one = U256::from(1);
        let created = apply_balance_delta(None, &one);
        assert_eq!(created.as_account().unwrap().info.unwrap().balance, one);
        let untouched = apply_balance_delta(None, &U256::ZERO);
        assert_eq!(untouched, EvmValue::Account(AccountValue::default()));
        let empty = EvmValue::Account(AccountValue {
            info: Some(Account {
                nonce: 0,
                balance: U256::ZERO,
                code_hash: KECCAK256_EMPTY,
            }),
            epoch: 3,
        });
        let deleted = apply_balance_delta(Some(empty), &U256::ZERO);
        assert_eq!(
            deleted,
            EvmValue::Account(AccountValue {
                info: None,
                epoch: FEE_DELETION_EPOCH
            })
        );
        let full = EvmValue::Account(AccountValue {
            info: Some(Account {
                nonce: 1,
                balance: U256::MAX,
                code_hash: KECCAK256_EMPTY,
            }),
            epoch: 0,
        });
        assert_eq!(apply_balance_delta(Some(full.clone()), &one), full);
    }
}
