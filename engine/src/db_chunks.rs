//! What [`BlockDb`] offers the optimistic chunks of a block (see `crate::chunks`): the
//! values a chunk read from the state before it, their check against the chunks before it,
//! fee credits, and the merge of a checked chunk into the chunks before it.

use super::{BlockDb, DbError, ProviderRead};
use alloy_primitives::{Address, KECCAK256_EMPTY, U256, map::Entry};
use altius_state::Account;

impl BlockDb<'_> {
    /// Logs every value read from the provider from now on.
    pub(crate) fn recording_reads(mut self) -> Self {
        self.reads = Some(Vec::new());
        self
    }

    /// The values read from the provider so far (empty unless recording).
    pub(crate) fn take_reads(&mut self) -> Vec<ProviderRead> {
        self.reads.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Whether `address` has been read or written.
    pub(crate) fn is_cached(&self, address: &Address) -> bool {
        self.accounts.contains_key(address)
    }

    /// Pays `amount` to `address` as revm pays a fee: the account is touched (and deleted
    /// when it is left empty, EIP-161) and its balance grows unless that would overflow.
    /// Returns whether the amount was added.
    pub(crate) fn credit(&mut self, address: Address, amount: U256) -> Result<bool, DbError> {
        let cached = self.load(address)?;
        let mut account = cached.current.unwrap_or(Account {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK256_EMPTY,
        });
        let added = match account.balance.checked_add(amount) {
            Some(balance) => {
                account.balance = balance;
                true
            }
            None => false,
        };
        if is_empty(&account) {
            cached.destroy();
        } else {
            cached.current = Some(account);
        }
        Ok(added)
    }

    /// Whether `amount` can be added to the balance of `address` without overflow.
    pub(crate) fn can_credit(&mut self, address: Address, amount: U256) -> Result<bool, DbError> {
        let balance = self.account(address)?.map_or(U256::ZERO, |a| a.balance);
        Ok(balance.checked_add(amount).is_some())
    }

    /// Whether the state this database holds (its changes over the provider) still gives
    /// `read`, a value that a later part of the block read from the same provider.
    pub(crate) fn still_gives(&self, read: &ProviderRead) -> bool {
        match read {
            ProviderRead::Account(address, value) => self
                .accounts
                .get(address)
                .is_none_or(|cached| cached.current == *value),
            ProviderRead::Slot(address, slot, value) => {
                let Some(cached) = self.accounts.get(address) else {
                    return true;
                };
                match cached.storage.get(slot) {
                    Some(known) => known.current == *value,
                    // Storage wiped here reads zero; otherwise the provider answers.
                    None => !cached.wiped || value.is_zero(),
                }
            }
        }
    }

    /// Adds the changes of `later`, the next part of the block executed over the same
    /// provider, whose reads [this state still gives](Self::still_gives): the result is the
    /// state after both parts.
    pub(crate) fn absorb(&mut self, later: BlockDb<'_>) {
        for (address, next) in later.accounts {
            let cached = match self.accounts.entry(address) {
                Entry::Vacant(entry) => {
                    entry.insert(next);
                    continue;
                }
                Entry::Occupied(entry) => entry.into_mut(),
            };
            cached.current = next.current;
            if next.wiped {
                cached.storage = next.storage;
                cached.wiped = true;
                continue;
            }
            for (slot, value) in next.storage {
                match cached.storage.entry(slot) {
                    Entry::Occupied(entry) => entry.into_mut().current = value.current,
                    Entry::Vacant(entry) => {
                        entry.insert(value);
                    }
                }
            }
        }
        for (hash, code) in later.code {
            self.code.entry(hash).or_insert(code);
        }
    }
}

/// revm's empty account (EIP-161): no nonce, no balance, no code.
fn is_empty(account: &Account) -> bool {
    account.nonce == 0
        && account.balance.is_zero()
        && (account.code_hash == KECCAK256_EMPTY || account.code_hash.is_zero())
}
