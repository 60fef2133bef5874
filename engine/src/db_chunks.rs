//! What [`BlockDb`] offers the optimistic chunks of a block (see `crate::chunks`): the
//! values a chunk read from the state before it, their check against the chunks before it,
//! fee credits, and the merge of a checked chunk into the chunks before it.

use super::{BlockDb, CachedAccount, DbError, ProviderRead, push_update};
use alloy_primitives::{
    Address, KECCAK256_EMPTY, U256,
    map::{Entry, HashMap},
};
use altius_state::{Account, StateChanges};
use rayon::prelude::*;

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

    /// Whether `cached`, an account this database holds, still gives `read` (of the same
    /// account), a value a later part of the block read from the same provider.
    fn gives(cached: &CachedAccount, read: &ProviderRead) -> bool {
        match read {
            ProviderRead::Account(_, value) => cached.current == *value,
            ProviderRead::Slot(_, slot, value) => match cached.storage.get(slot) {
                Some(known) => known.current == *value,
                // Storage wiped here reads zero; otherwise the provider answers.
                None => !cached.wiped || value.is_zero(),
            },
        }
    }

    /// Takes `next`, the state a later part of the block left for `address`.
    fn absorb_account(&mut self, address: Address, next: CachedAccount) {
        let cached = match self.accounts.entry(address) {
            Entry::Vacant(entry) => {
                entry.insert(next);
                return;
            }
            Entry::Occupied(entry) => entry.into_mut(),
        };
        cached.current = next.current;
        if next.wiped {
            cached.storage = next.storage;
            cached.wiped = true;
            return;
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

    /// Takes everything `later`, the next part of the block, left.
    fn absorb(&mut self, later: BlockDb<'_>) {
        for (address, next) in later.accounts {
            self.absorb_account(address, next);
        }
        for (hash, code) in later.code {
            self.code.entry(hash).or_insert(code);
        }
    }
}

/// The state after the chunks of a run taken so far, kept as the chunks' databases over the
/// state before the run: each account is in one of them, so that a chunk that shares no
/// account with the ones before it is taken without copying anything.
pub(crate) struct ChunkedState<'a> {
    parts: Vec<BlockDb<'a>>,
}

/// The accounts a chunk shares with the chunks before it, and the part holding each.
pub(crate) type Shared = Vec<(Address, usize)>;

impl<'a> ChunkedState<'a> {
    /// The state after the first chunk.
    pub(crate) fn new(first: BlockDb<'a>) -> Self {
        Self { parts: vec![first] }
    }

    /// The part holding `address`, if any.
    fn holder(&self, address: &Address) -> Option<usize> {
        self.parts
            .iter()
            .rposition(|part| part.accounts.contains_key(address))
    }

    /// Whether this state still gives every value of `reads` (read from the state before
    /// the run by the next chunk); if so, the accounts the chunk shares with it.
    pub(crate) fn check(&self, reads: &[ProviderRead]) -> Option<Shared> {
        let mut shared = Vec::new();
        for read in reads {
            let (ProviderRead::Account(address, _) | ProviderRead::Slot(address, ..)) = read;
            // One lookup per part, latest first; no part holds most accounts of a chunk.
            let held = self
                .parts
                .iter()
                .enumerate()
                .rev()
                .find_map(|(index, part)| part.accounts.get(address).map(|c| (index, c)));
            let Some((part, cached)) = held else {
                continue;
            };
            if !BlockDb::gives(cached, read) {
                return None;
            }
            if matches!(read, ProviderRead::Account(..)) {
                shared.push((*address, part));
            }
        }
        Some(shared)
    }

    /// Adds the next chunk, checked: its `shared` accounts go to the parts holding them.
    pub(crate) fn add(&mut self, mut next: BlockDb<'a>, shared: Shared) {
        for (address, part) in shared {
            if let Some(account) = next.accounts.remove(&address) {
                self.parts[part].absorb_account(address, account);
            }
        }
        self.parts.push(next);
    }

    /// The part that holds `address`, or the last one, which then reads it.
    fn part_for(&mut self, address: &Address) -> &mut BlockDb<'a> {
        let last = self.parts.len().saturating_sub(1);
        let index = self.holder(address).unwrap_or(last);
        &mut self.parts[index]
    }

    /// Pays `amount` to `address` ([`BlockDb::credit`]).
    pub(crate) fn credit(&mut self, address: Address, amount: U256) -> Result<bool, DbError> {
        self.part_for(&address).credit(address, amount)
    }

    /// Whether `amount` can be added to the balance of `address` without overflow.
    pub(crate) fn can_credit(&mut self, address: Address, amount: U256) -> Result<bool, DbError> {
        self.part_for(&address).can_credit(address, amount)
    }

    /// The whole state as one database (`None` for no part, which [`Self::new`] rules out).
    pub(crate) fn into_one(self) -> Option<BlockDb<'a>> {
        self.parts.into_iter().reduce(|mut one, part| {
            one.absorb(part);
            one
        })
    }

    /// Everything the run changed, computed on all cores.
    pub(crate) fn into_changes(self) -> Result<StateChanges, DbError> {
        let mut code = HashMap::default();
        for part in &self.parts {
            for (hash, bytes) in &part.code {
                code.entry(*hash).or_insert_with(|| bytes.clone());
            }
        }
        // Accounts with many slots (a token every chunk used) are left to tasks of their own,
        // so that one part does not hold up the others.
        let (mut tasks, big): (Vec<_>, Vec<_>) = self
            .parts
            .par_iter()
            .map(|part| {
                let mut accounts = Vec::with_capacity(part.accounts.len());
                let mut deployed = Vec::new();
                let mut big = Vec::new();
                for (address, cached) in &part.accounts {
                    if cached.storage.len() > BIG_ACCOUNT_SLOTS {
                        big.push((*address, cached));
                    } else {
                        push_update(*address, cached, &code, &mut accounts, &mut deployed)?;
                    }
                }
                Ok(((accounts, deployed), big))
            })
            .collect::<Result<Vec<_>, DbError>>()?
            .into_iter()
            .unzip();
        let big_updates: Vec<_> = big
            .into_par_iter()
            .flatten()
            .map(|(address, cached)| {
                let (mut accounts, mut deployed) = (Vec::new(), Vec::new());
                push_update(address, cached, &code, &mut accounts, &mut deployed)?;
                Ok((accounts, deployed))
            })
            .collect::<Result<_, DbError>>()?;
        tasks.extend(big_updates);
        let parts: Vec<_> = tasks
            .into_par_iter()
            .map(|(accounts, deployed)| (by_first_byte(accounts), deployed))
            .collect();
        let mut buckets: Vec<Vec<_>> = (0..256).map(|_| Vec::new()).collect();
        let mut deployed = Vec::new();
        for (part_buckets, part_code) in parts {
            for (bucket, part_bucket) in buckets.iter_mut().zip(part_buckets) {
                if bucket.is_empty() {
                    *bucket = part_bucket;
                } else {
                    bucket.extend(part_bucket);
                }
            }
            deployed.extend(part_code);
        }
        // Small buckets sort in cache, on all cores; the map is then bulk-built in order.
        buckets
            .par_iter_mut()
            .for_each(|bucket| bucket.sort_unstable_by_key(|a| a.0));
        Ok(StateChanges {
            accounts: buckets.into_iter().flatten().collect(),
            code: deployed.into_iter().collect(),
        })
    }
}

/// Slots above which an account's changes are computed by a task of their own.
const BIG_ACCOUNT_SLOTS: usize = 2048;

/// `items` in 256 buckets by the first byte of their address, each in the order of `items`.
fn by_first_byte<T>(items: Vec<(Address, T)>) -> Vec<Vec<(Address, T)>> {
    let mut counts = [0usize; 256];
    for (address, _) in &items {
        counts[usize::from(address[0])] += 1;
    }
    let mut buckets: Vec<Vec<_>> = counts.iter().map(|n| Vec::with_capacity(*n)).collect();
    for item in items {
        buckets[usize::from(item.0[0])].push(item);
    }
    buckets
}

/// revm's empty account (EIP-161): no nonce, no balance, no code.
fn is_empty(account: &Account) -> bool {
    account.nonce == 0
        && account.balance.is_zero()
        && (account.code_hash == KECCAK256_EMPTY || account.code_hash.is_zero())
}
