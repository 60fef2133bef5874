//! The state root of a state built from nothing but one [`StateChanges`], such as a genesis
//! allocation, computed without a database.

use crate::{StateChanges, StateResult, tables::AccountRow, trie};
use alloy_primitives::{B256, keccak256};

/// The state root of the state holding exactly the accounts of `changes` (accounts set to
/// `None` and zero storage values are absent). Used to check a configured genesis against a
/// stored chain, and to check fixture pre-states.
pub fn state_root_of(changes: &StateChanges) -> StateResult<B256> {
    let mut rows = Vec::with_capacity(changes.accounts.len());
    for (address, update) in &changes.accounts {
        let Some(account) = update.account else {
            continue;
        };
        let mut slots: Vec<_> = update
            .storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(slot, value)| (keccak256(B256::from(*slot)), *value))
            .collect();
        slots.sort_unstable_by_key(|(k, _)| *k);
        let storage_root = trie::storage_root(slots.into_iter().map(Ok))?;
        rows.push((
            keccak256(address),
            AccountRow {
                account,
                storage_root,
            },
        ));
    }
    rows.sort_unstable_by_key(|(k, _)| *k);
    trie::state_root(rows.into_iter().map(Ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Account, AccountUpdate};
    use alloy_primitives::{Address, U256};
    use alloy_trie::EMPTY_ROOT_HASH;

    #[test]
    fn empty_and_deleted_accounts_give_the_empty_root() {
        assert_eq!(
            state_root_of(&StateChanges::default()).unwrap(),
            EMPTY_ROOT_HASH
        );
        let mut changes = StateChanges::default();
        changes
            .accounts
            .insert(Address::ZERO, AccountUpdate::default());
        assert_eq!(state_root_of(&changes).unwrap(), EMPTY_ROOT_HASH);
    }

    #[test]
    fn zero_slots_do_not_change_the_root() {
        let account = Account {
            balance: U256::from(7),
            ..Default::default()
        };
        let mut a = StateChanges::default();
        a.accounts.insert(
            Address::with_last_byte(1),
            AccountUpdate {
                account: Some(account),
                ..Default::default()
            },
        );
        let mut b = a.clone();
        b.accounts
            .get_mut(&Address::with_last_byte(1))
            .unwrap()
            .storage
            .insert(U256::from(3), U256::ZERO);
        assert_eq!(state_root_of(&a).unwrap(), state_root_of(&b).unwrap());
        assert_ne!(state_root_of(&a).unwrap(), EMPTY_ROOT_HASH);
    }
}
