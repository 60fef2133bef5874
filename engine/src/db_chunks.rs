//! What [`BlockDb`] offers the optimistic chunks of a block (see `crate::chunks`): the
//! values a chunk read from the state before it, their check against the chunks before it,
//! fee credits, and the merge of a checked chunk into the chunks before it.

use super::{
    BlockDb, CachedAccount, DbError, ProviderRead, Reads,
    filter::AddressFilter,
    layers::{Layer, SortedSlots, layers_give},
    push_account_update, push_update,
};
use alloy_primitives::{
    Address, B256, Bytes, KECCAK256_EMPTY, U256,
    map::{Entry, HashMap},
};
use altius_state::{Account, AccountChanges, AccountUpdate, StateChanges};
use rayon::prelude::*;
use revm::bytecode::Bytecode;

impl BlockDb<'_> {
    /// Logs every value read from the provider from now on (room is made for as many
    /// accounts as the database has room for).
    pub(crate) fn recording_reads(mut self) -> Self {
        self.reads = Some(Reads {
            accounts: Vec::with_capacity(self.accounts.capacity()),
            slots: Vec::new(),
        });
        self
    }

    /// The values read from the provider so far (none unless recording).
    pub(crate) fn take_reads(&mut self) -> Reads {
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
/// state before the run: each account is in one of them (a shared one with many slots may be
/// in several, as layers: see `db::layers`), so that a chunk that shares no account with the
/// ones before it is taken without copying anything.
#[derive(Default)]
pub(crate) struct ChunkedState<'a> {
    parts: Vec<BlockDb<'a>>,
    /// Per part, the updates of its accounts computed when it was added (on the thread that
    /// executed it), if any.
    updates: Vec<Option<Updates>>,
    /// Accounts changed since their part's updates were computed (taken from a later part,
    /// paid fees); their updates are computed again at the end.
    dirty: Vec<Address>,
}

/// The accounts a chunk shares with the chunks before it, and the part holding each.
pub(crate) type Shared = Vec<(Address, usize)>;

impl<'a> ChunkedState<'a> {
    /// The state after the first chunk.
    pub(crate) fn new(first: BlockDb<'a>) -> Self {
        Self::with_updates(first, None)
    }

    /// The state after the first chunk, with its updates if they are computed already.
    pub(crate) fn with_updates(first: BlockDb<'a>, updates: Option<Updates>) -> Self {
        Self {
            parts: vec![first],
            updates: vec![updates],
            dirty: Vec::new(),
        }
    }

    /// The part holding `address`, if any.
    fn holder(&self, address: &Address) -> Option<usize> {
        self.holders(address).map(|(part, _)| part)
    }

    /// Whether this state still gives every value of `reads`, which the next chunk's
    /// database `chunk` logged as it read the state before the run; if so, the accounts the
    /// chunk shares with it. Long lists are checked on all cores.
    pub(crate) fn check(&self, reads: &Reads, chunk: &BlockDb<'_>) -> Option<Shared> {
        if reads.accounts.len() + reads.slots.len() < 2 * CHECK_BATCH {
            self.check_slots(&reads.slots)?;
            return self.check_accounts(&reads.accounts, chunk);
        }
        let (slots, accounts) = rayon::join(
            || (reads.slots.par_chunks(CHECK_BATCH)).try_for_each(|batch| self.check_slots(batch)),
            || {
                (reads.accounts.par_chunks(CHECK_BATCH))
                    .map(|batch| self.check_accounts(batch, chunk))
                    .collect::<Option<Vec<Shared>>>()
            },
        );
        slots?;
        Some(accounts?.into_iter().flatten().collect())
    }

    /// [`Self::check`] of account reads, on one thread: the values read are `chunk`'s
    /// values before the run.
    fn check_accounts(&self, addresses: &[Address], chunk: &BlockDb<'_>) -> Option<Shared> {
        let mut shared = Vec::new();
        for address in addresses {
            // Most accounts of a chunk are in no part: the chunk's own is looked up only
            // for those that are.
            let Some((part, layers)) = self.holders(address) else {
                continue;
            };
            let read = ProviderRead::Account(*address, chunk.accounts.get(address)?.original);
            if !layers_give(layers, &read) {
                return None;
            }
            shared.push((*address, part));
        }
        Some(shared)
    }

    /// [`Self::check`] of slot reads, on one thread.
    fn check_slots(&self, slots: &[(Address, U256, U256)]) -> Option<()> {
        for (address, slot, value) in slots {
            let Some((_, layers)) = self.holders(address) else {
                continue;
            };
            if !layers_give(layers, &ProviderRead::Slot(*address, *slot, *value)) {
                return None;
            }
        }
        Some(())
    }

    /// The parts holding `address`, latest first, and the latest one's index: one lookup
    /// per part.
    fn holders<'s>(
        &'s self,
        address: &'s Address,
    ) -> Option<(usize, impl Iterator<Item = &'s CachedAccount>)> {
        let parts = self.parts.iter().zip(&self.updates).enumerate().rev();
        let mut held = parts.filter_map(|(index, (part, updates))| {
            let filter = updates.as_ref().and_then(|updates| updates.filter.as_ref());
            if filter.is_some_and(|filter| !filter.may_contain(address)) {
                return None;
            }
            part.accounts.get(address).map(|cached| (index, cached))
        });
        let (part, latest) = held.next()?;
        Some((
            part,
            std::iter::once(latest).chain(held.map(|(_, cached)| cached)),
        ))
    }

    /// Adds the next chunk, checked, and its `updates` (if computed already): its `shared` accounts go to the
    /// parts holding them, except those with many slots (a token every chunk uses), which
    /// stay in the chunk as a layer over the parts before it: moving their slots would take
    /// long on one thread, and their changes are computed from all their layers at the
    /// end, on all cores.
    pub(crate) fn add(&mut self, mut next: BlockDb<'a>, shared: Shared, updates: Option<Updates>) {
        for (address, part) in shared {
            let Some(account) = next.accounts.get(&address) else {
                continue;
            };
            self.dirty.push(address);
            let held = self.parts[part].accounts.get(&address);
            let slots = held.map_or(0, |held| held.storage.len()) + account.storage.len();
            if slots > BIG_ACCOUNT_SLOTS {
                continue;
            }
            if let Some(account) = next.accounts.remove(&address) {
                self.part_mut(part, &address)
                    .absorb_account(address, account);
            }
        }
        self.parts.push(next);
        self.updates.push(updates);
    }

    /// The part that holds `address`, or the last one, which then reads it.
    fn part_for(&mut self, address: &Address) -> &mut BlockDb<'a> {
        let last = self.parts.len().saturating_sub(1);
        let index = self.holder(address).unwrap_or(last);
        self.part_mut(index, address)
    }

    /// Part `index`, to hold `address` (added to its filter).
    fn part_mut(&mut self, index: usize, address: &Address) -> &mut BlockDb<'a> {
        let updates = self.updates[index].as_mut();
        if let Some(filter) = updates.and_then(|updates| updates.filter.as_mut()) {
            filter.insert(address);
        }
        &mut self.parts[index]
    }

    /// Pays `amount` to `address` ([`BlockDb::credit`]).
    pub(crate) fn credit(&mut self, address: Address, amount: U256) -> Result<bool, DbError> {
        self.dirty.push(address);
        self.part_for(&address).credit(address, amount)
    }

    /// Whether `amount` can be added to the balance of `address` without overflow.
    pub(crate) fn can_credit(&mut self, address: Address, amount: U256) -> Result<bool, DbError> {
        self.part_for(&address).can_credit(address, amount)
    }

    /// The whole state as one database.
    ///
    /// # Panics
    ///
    /// On an empty state (taken by [`std::mem::take`]), which holds no database.
    pub(crate) fn into_one(self) -> BlockDb<'a> {
        let mut parts = self.parts.into_iter();
        let mut one = parts.next().expect("a chunked state holds a part");
        for part in parts {
            one.absorb(part);
        }
        one
    }

    /// Everything the run changed, computed on all cores: the updates computed when the
    /// parts were added, and those of the other accounts.
    pub(crate) fn into_changes(mut self) -> Result<StateChanges, DbError> {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        let mut code = HashMap::default();
        for part in &self.parts {
            for (hash, bytes) in &part.code {
                code.entry(*hash).or_insert_with(|| bytes.clone());
            }
        }
        let code = &code;
        let tasks = self.tasks(&dirty);
        let computed: Vec<(Updates, bool)> = tasks
            .into_par_iter()
            .map(|task| {
                let filtered = !matches!(task, Task::Dirty(..));
                let updates = match task {
                    Task::Part(part) => {
                        Updates::sorted(part.small_accounts(), part.accounts.len(), code)
                    }
                    Task::Account(address, layer) => Updates::layered(address, &[layer], code),
                    Task::Dirty(address, layers) => Updates::layered(&address, &layers, code),
                }?;
                Ok((updates, filtered))
            })
            .collect::<Result<_, DbError>>()?;
        // The code a dirty account was given, if any, is the same in its part's updates and in
        // the ones computed again: a later chunk that read the account (a shared one) read
        // the code the earlier one left, so only the later chunk can have changed it, and fee
        // payments change no code.
        let (mut lists, mut deployed) = (Vec::new(), Vec::new());
        let precomputed = self
            .updates
            .drain(..)
            .flatten()
            .map(|updates| (updates, true));
        for (updates, filtered) in precomputed.chain(computed) {
            lists.push((updates.accounts, filtered));
            deployed.extend(updates.deployed);
        }
        // Every account is in one list (a dirty one, layered or not, only in its own): the
        // lists merge in order into the changes (each update goes last there, so the order is
        // checked as it is written), while the chunks' databases are freed.
        let parts = std::mem::take(&mut self.parts);
        let merge = || {
            let len = lists.iter().map(|(list, _)| list.len()).sum();
            let mut accounts = AccountChanges::with_capacity(len);
            merge_sorted(lists, &dirty, |address, update| {
                accounts.insert(address, update);
            });
            accounts
        };
        let (accounts, ()) = rayon::join(merge, || parts.into_par_iter().for_each(drop));
        Ok(StateChanges {
            accounts,
            code: deployed.into_iter().collect(),
        })
    }

    /// What is left to compute (see [`Task`]), given the `dirty` accounts (sorted).
    fn tasks<'s>(&'s self, dirty: &[Address]) -> Vec<Task<'s, 'a>> {
        let mut tasks: Vec<Task<'s, 'a>> = (self.parts.iter().zip(&self.updates))
            .filter_map(|(part, updates)| updates.is_none().then_some(Task::Part(part)))
            .collect();
        let clean = |address: &Address| dirty.binary_search(address).is_err();
        for (part, updates) in self.parts.iter().zip(&self.updates) {
            // The parts' threads listed (and sorted) their big accounts; the others are
            // searched.
            let Some(updates) = updates else {
                tasks.extend(
                    (part.accounts.iter())
                        .filter(|(address, cached)| cached.is_big() && clean(address))
                        .map(|(address, cached)| Task::Account(address, (cached, None))),
                );
                continue;
            };
            for (address, sorted) in &updates.big {
                if let Some((address, cached)) = part.accounts.get_key_value(address)
                    && clean(address)
                {
                    tasks.push(Task::Account(address, (cached, Some(sorted))));
                }
            }
        }
        tasks.extend(
            dirty
                .iter()
                .map(|address| Task::Dirty(*address, self.layers(address))),
        );
        // The longest first: rayon's threads start from the front, so a long task taken
        // last (when the other thread has recorded the receipts) does not end alone.
        tasks.sort_by_key(|task| std::cmp::Reverse(task.weight()));
        tasks
    }

    /// The parts' states of `address`, in block order, each with its slots sorted if its
    /// chunk's thread sorted them.
    fn layers(&self, address: &Address) -> Vec<Layer<'_>> {
        let parts = self.parts.iter().zip(&self.updates);
        parts
            .filter_map(|(part, updates)| {
                let cached = part.accounts.get(address)?;
                let big = updates.as_ref().map_or(&[][..], |updates| &updates.big[..]);
                let sorted = big.iter().find(|(big, _)| big == address);
                Some((cached, sorted.map(|(_, sorted)| sorted)))
            })
            .collect()
    }
}

/// A part of [`ChunkedState::into_changes`]'s work, run on any core.
enum Task<'s, 'a> {
    /// The accounts with few slots of a part whose updates were not computed when it was
    /// added.
    Part(&'s BlockDb<'a>),
    /// An account with many slots (a token every chunk used), on its own so that one part
    /// does not hold up the others.
    Account(&'s Address, Layer<'s>),
    /// An account changed since its part's updates were computed (taken from a later part,
    /// paid fees), with the parts' states of it, in block order: one, or the layers of an
    /// account with many slots (see [`ChunkedState::add`]).
    Dirty(Address, Vec<Layer<'s>>),
}

impl Task<'_, '_> {
    /// About how long it takes: the accounts or slots it goes through.
    fn weight(&self) -> usize {
        match self {
            Task::Part(part) => part.accounts.len(),
            Task::Account(_, (cached, _)) => cached.storage.len(),
            Task::Dirty(_, layers) => layers
                .iter()
                .map(|(cached, _)| cached.storage.len() + 1)
                .sum(),
        }
    }
}

impl BlockDb<'_> {
    /// Its accounts with few slots (see [`BIG_ACCOUNT_SLOTS`]).
    fn small_accounts(&self) -> impl Iterator<Item = (&Address, &CachedAccount)> {
        self.accounts.iter().filter(|(_, cached)| !cached.is_big())
    }

    /// The updates of its accounts with few slots, sorted by address, the list of the
    /// others (a chunk's, computed on its thread; accounts with many slots are computed
    /// when the chunks are merged), and the filter of all their addresses.
    pub(crate) fn small_updates(&self) -> Result<Updates, DbError> {
        let mut big = Vec::new();
        let mut filter = AddressFilter::with_capacity(self.accounts.len());
        let small = self.accounts.iter().filter(|(address, cached)| {
            filter.insert(address);
            let small = !cached.is_big();
            if !small {
                big.push((**address, cached.sorted_slots()));
            }
            small
        });
        let mut updates = Updates::sorted(small, self.accounts.len(), &self.code)?;
        updates.big = big;
        updates.filter = Some(filter);
        Ok(updates)
    }
}

/// Reads checked by one task (few in the unit tests, so that their small blocks are
/// checked in batches too).
#[cfg(not(test))]
const CHECK_BATCH: usize = 4096;
#[cfg(test)]
const CHECK_BATCH: usize = 8;

/// Slots above which an account's changes are computed by a task of their own, and a
/// shared account stays in each chunk as a layer (few in the unit tests, so that their small
/// blocks have such accounts too).
#[cfg(not(test))]
const BIG_ACCOUNT_SLOTS: usize = 2048;
#[cfg(test)]
const BIG_ACCOUNT_SLOTS: usize = 2;

/// The updates of some accounts and the code they were given.
#[derive(Default)]
pub(crate) struct Updates {
    accounts: Vec<(Address, AccountUpdate)>,
    deployed: Vec<(B256, Bytes)>,
    /// The accounts with many slots left out, with their slots sorted (see
    /// [`BlockDb::small_updates`]).
    big: Vec<(Address, SortedSlots)>,
    /// The addresses of all the part's accounts, when computed with the updates: the checks
    /// of the parts after it ask it first. Every address the part takes in afterwards is
    /// added to it ([`ChunkedState::part_mut`]).
    filter: Option<AddressFilter>,
}

impl CachedAccount {
    /// Whether it has many slots ([`BIG_ACCOUNT_SLOTS`]).
    fn is_big(&self) -> bool {
        self.storage.len() > BIG_ACCOUNT_SLOTS
    }
}

impl Updates {
    /// Adds `update`, what the block did to the account at `address` (`original` before
    /// it), if anything, and the code it was given (looked up in `code`).
    pub(super) fn push(
        &mut self,
        address: Address,
        original: Option<Account>,
        update: Option<AccountUpdate>,
        code: &HashMap<B256, Bytecode>,
    ) -> Result<(), DbError> {
        let (accounts, deployed) = (&mut self.accounts, &mut self.deployed);
        push_account_update(address, original, update, code, accounts, deployed)
    }

    /// The updates of `accounts` (about `len` of them), sorted by address; new code is
    /// looked up in `code`.
    fn sorted<'c>(
        accounts: impl IntoIterator<Item = (&'c Address, &'c CachedAccount)>,
        len: usize,
        code: &HashMap<B256, Bytecode>,
    ) -> Result<Self, DbError> {
        let mut updates = Vec::with_capacity(len);
        let mut deployed = Vec::new();
        for (address, cached) in accounts {
            push_update(*address, cached, code, &mut updates, &mut deployed)?;
        }
        updates.sort_unstable_by_key(|update| update.0);
        Ok(Self {
            accounts: updates,
            deployed,
            ..Self::default()
        })
    }
}

/// Lists sorted by address, with no address in two of them, merged in order into `merged`;
/// the addresses in `skip` (sorted) are left out of the lists marked to be filtered.
fn merge_sorted<T>(
    lists: Vec<(Vec<(Address, T)>, bool)>,
    skip: &[Address],
    mut merged: impl FnMut(Address, T),
) {
    // Each list is read by reference up to its next item, which is then moved out.
    let mut lists: Vec<_> = lists
        .into_iter()
        .filter(|(list, _)| !list.is_empty())
        .map(|(list, filtered)| (list.into_iter(), filtered && !skip.is_empty()))
        .collect();
    let mut push = |(address, item): (Address, T), filtered: bool| {
        if !filtered || skip.binary_search(&address).is_err() {
            merged(address, item);
        }
    };
    while lists.len() > 1 {
        // The list whose next address is the lowest.
        let mut lowest = 0;
        for index in 1..lists.len() {
            if next_address(&lists[index].0) < next_address(&lists[lowest].0) {
                lowest = index;
            }
        }
        let (list, filtered) = &mut lists[lowest];
        if let Some(item) = list.next() {
            push(item, *filtered);
        }
        if list.as_slice().is_empty() {
            drop(lists.swap_remove(lowest));
        }
    }
    if let Some((list, filtered)) = lists.pop() {
        list.for_each(|item| push(item, filtered));
    }
}

/// The address of the next item of `list`, which has one (`None` otherwise).
fn next_address<T>(list: &std::vec::IntoIter<(Address, T)>) -> Option<&Address> {
    list.as_slice().first().map(|(address, _)| address)
}

/// revm's empty account (EIP-161): no nonce, no balance, no code.
fn is_empty(account: &Account) -> bool {
    account.nonce == 0
        && account.balance.is_zero()
        && (account.code_hash == KECCAK256_EMPTY || account.code_hash.is_zero())
}

#[cfg(test)]
mod tests {
    use super::merge_sorted;
    use alloy_primitives::Address;

    fn a(byte: u8) -> Address {
        Address::repeat_byte(byte)
    }

    #[test]
    fn sorted_lists_merge_in_order_without_the_skipped_addresses_of_filtered_lists() {
        let lists = vec![
            (vec![(a(1), 'a'), (a(4), 'b'), (a(6), 'c')], true),
            (vec![(a(2), 'd'), (a(3), 'e')], true),
            (vec![], true),
            // The skipped addresses' own list.
            (vec![(a(3), 'f'), (a(5), 'g')], false),
        ];
        let got = merged(lists, &[a(3), a(4)]);
        assert_eq!(
            got,
            [
                (a(1), 'a'),
                (a(2), 'd'),
                (a(3), 'f'),
                (a(5), 'g'),
                (a(6), 'c')
            ]
        );
        let got = merged(vec![(vec![(a(1), 'x'), (a(2), 'y')], true)], &[a(2)]);
        assert_eq!(got, [(a(1), 'x')]);
        assert!(merged::<char>(vec![], &[]).is_empty());
    }

    /// [`merge_sorted`] into a list.
    fn merged<T>(lists: Vec<(Vec<(Address, T)>, bool)>, skip: &[Address]) -> Vec<(Address, T)> {
        let mut merged = Vec::new();
        merge_sorted(lists, skip, |address, item| merged.push((address, item)));
        merged
    }
}
