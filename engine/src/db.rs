//! The revm [`Database`] over a [`StateProvider`]: a write cache holding what the block's
//! transactions changed so far, from which the block's [`StateChanges`] are taken at the end.

use crate::BlockHashes;
use alloy_primitives::{
    Address, B256, Bytes, KECCAK256_EMPTY, U256,
    map::{Entry, HashMap},
};
use altius_state::{
    Account, AccountChanges, AccountUpdate, StateChanges, StateError, StateProvider,
};
use revm::{
    bytecode::JumpTable,
    database_interface::{DBErrorMarker, Database},
    state::{Account as EvmAccount, AccountInfo, Bytecode, EvmState},
};

/// Errors of the database adapter.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    /// The state provider failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// An account's code hash has no code in the state.
    #[error("no code for hash {0}")]
    MissingCode(B256),
    /// The block hash source failed.
    #[error("block hash {number}: {reason}")]
    BlockHash {
        /// Requested block number.
        number: u64,
        /// What went wrong.
        reason: String,
    },
}

impl DBErrorMarker for DbError {}

/// What a [`BlockDb`] read from its provider, logged when asked for
/// ([`BlockDb::recording_reads`]): an optimistic chunk's reads, checked against the chunks
/// before it.
#[derive(Debug, Default)]
pub(crate) struct Reads {
    /// The accounts read: only their addresses, since the values read are the database's
    /// `original`s (a log of them would be written at every transaction).
    pub(crate) accounts: Vec<Address>,
    /// The slots read, with the values read.
    pub(crate) slots: Vec<(Address, U256, U256)>,
}

/// A value read: by a [`BlockDb`] from its provider, or by a transaction from an
/// optimistic chunk's database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProviderRead {
    /// An account (`None`: it did not exist).
    Account(Address, Option<Account>),
    /// A storage slot of an account.
    Slot(Address, U256, U256),
}

/// A storage slot: its value before the block and its value now.
#[derive(Clone, Copy, Debug)]
struct Slot {
    original: U256,
    current: U256,
}

impl Slot {
    /// Whether the block writes it: after a wipe (of its account's storage) when it is not
    /// zero, otherwise when it differs from its value before the block.
    fn written(&self, wiped: bool) -> bool {
        match wiped {
            true => !self.current.is_zero(),
            false => self.current != self.original,
        }
    }
}

/// An account as the block sees it.
#[derive(Clone, Debug)]
struct CachedAccount {
    /// The account before the block.
    original: Option<Account>,
    /// The account now (`None`: it does not exist).
    current: Option<Account>,
    /// Storage read or written during the block.
    storage: HashMap<U256, Slot>,
    /// The storage before the block no longer applies (destroyed or created in the block).
    wiped: bool,
}

impl CachedAccount {
    /// Deletes the account and its storage.
    fn destroy(&mut self) {
        self.current = None;
        self.storage.clear();
        self.wiped = true;
    }

    /// Takes the state a transaction left for this touched account.
    fn take(&mut self, account: &EvmAccount) {
        if account.is_selfdestructed() {
            self.destroy();
            return;
        }
        if account.is_created() {
            self.storage.clear();
            self.wiped = true;
        } else if account.is_empty() {
            // EIP-161: a touched empty account is deleted.
            self.destroy();
            return;
        }
        let info = &account.info;
        self.current = Some(Account {
            nonce: info.nonce,
            balance: info.balance,
            code_hash: info.code_hash,
        });
        for (key, slot) in account.storage.iter().filter(|(_, s)| s.is_changed()) {
            let original = slot.original_value;
            let entry = self.storage.entry(*key).or_insert(Slot {
                original,
                current: original,
            });
            entry.current = slot.present_value;
        }
    }

    /// The slots to write for this account: after a wipe the non-zero ones, otherwise the
    /// ones whose value differs from the value before the block.
    fn changed_slots(&self) -> std::collections::BTreeMap<U256, U256> {
        let mut slots: Vec<(U256, U256)> = self
            .storage
            .iter()
            .filter(|(_, s)| s.written(self.wiped))
            .map(|(k, s)| (*k, s.current))
            .collect();
        // Sorted first: the map is then built in one pass, not by an insertion per slot.
        slots.sort_unstable_by_key(|a| a.0);
        slots.into_iter().collect()
    }

    /// What the block did to this account, or `None` when it changed nothing.
    fn update(&self) -> Option<AccountUpdate> {
        account_update(self.original, self.current, self.wiped, || {
            self.changed_slots()
        })
    }
}

/// What a block did to an account that was `original` before it and is `current` after it,
/// its storage `wiped` or not, with `changed_slots`; `None` when it changed nothing.
fn account_update(
    original: Option<Account>,
    current: Option<Account>,
    wiped: bool,
    changed_slots: impl FnOnce() -> std::collections::BTreeMap<U256, U256>,
) -> Option<AccountUpdate> {
    let wipe_storage = wiped && original.is_some();
    let Some(current) = current else {
        return original.map(|_| AccountUpdate {
            account: None,
            wipe_storage: true,
            storage: Default::default(),
        });
    };
    let storage = changed_slots();
    if Some(current) == original && storage.is_empty() && !wipe_storage {
        return None;
    }
    Some(AccountUpdate {
        account: Some(current),
        wipe_storage,
        storage,
    })
}

/// The revm database of one block (or one call): reads through to the state provider and
/// keeps every change the block's transactions committed.
pub(crate) struct BlockDb<'a> {
    provider: &'a dyn StateProvider,
    hashes: Option<&'a dyn BlockHashes>,
    accounts: HashMap<Address, CachedAccount>,
    code: HashMap<B256, Bytecode>,
    /// Every value read from the provider, when asked for ([`BlockDb::recording_reads`]).
    reads: Option<Reads>,
    /// Reads (by the EVM) of accounts and slots the block had changed when read.
    changed_reads: u64,
}

impl std::fmt::Debug for BlockDb<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockDb")
            .field("accounts", &self.accounts.len())
            .finish_non_exhaustive()
    }
}

impl<'a> BlockDb<'a> {
    /// A database over `provider`; `BLOCKHASH` asks `hashes` (zero without it).
    pub(crate) fn new(
        provider: &'a dyn StateProvider,
        hashes: Option<&'a dyn BlockHashes>,
    ) -> Self {
        Self {
            provider,
            hashes,
            accounts: HashMap::default(),
            code: HashMap::default(),
            reads: None,
            changed_reads: 0,
        }
    }

    /// Makes room for `accounts` more accounts ([`accounts_of`]), so that the map does not
    /// grow (and move them all) step by step.
    pub(crate) fn reserve(mut self, accounts: usize) -> Self {
        self.accounts.reserve(accounts);
        self
    }

    /// The cached account at `address`, read from the provider the first time.
    fn load(&mut self, address: Address) -> Result<&mut CachedAccount, DbError> {
        load_into(&mut self.accounts, &mut self.reads, self.provider, address)
    }

    /// The account at `address` as the block sees it now.
    pub(crate) fn account(&mut self, address: Address) -> Result<Option<Account>, DbError> {
        if let Some(cached) = self.accounts.get(&address) {
            if cached.current != cached.original || cached.wiped {
                self.changed_reads += 1;
            }
            return Ok(cached.current);
        }
        Ok(self.load(address)?.current)
    }

    /// Whether `read`, a value this database gave, is its provider's value (the value
    /// before the block).
    pub(crate) fn is_as_before(&self, read: &ProviderRead) -> bool {
        match *read {
            ProviderRead::Account(address, account) => {
                (self.accounts.get(&address)).is_some_and(|cached| cached.original == account)
            }
            // A slot first read after a wipe was cached as zero, not as the provider's.
            ProviderRead::Slot(address, slot, value) => {
                (self.accounts.get(&address)).is_some_and(|cached| {
                    !cached.wiped
                        && (cached.storage.get(&slot)).is_some_and(|s| s.original == value)
                })
            }
        }
    }

    /// Caches `read`, a value of the provider (see [`Self::is_as_before`]), as if it had
    /// been read from it, when this database would read it from the provider (it has not
    /// cached it, nor wiped its account); returns whether it did, in which case `read` is
    /// the value this database gives.
    pub(crate) fn seed(&mut self, read: &ProviderRead) -> bool {
        match *read {
            ProviderRead::Account(address, account) => match self.accounts.entry(address) {
                Entry::Occupied(_) => false,
                Entry::Vacant(entry) => {
                    entry.insert(CachedAccount {
                        original: account,
                        current: account,
                        storage: HashMap::default(),
                        wiped: false,
                    });
                    true
                }
            },
            ProviderRead::Slot(address, slot, value) => {
                let Some(cached) = self.accounts.get_mut(&address) else {
                    return false;
                };
                if cached.wiped {
                    return false;
                }
                match cached.storage.entry(slot) {
                    Entry::Occupied(_) => false,
                    Entry::Vacant(entry) => {
                        entry.insert(Slot {
                            original: value,
                            current: value,
                        });
                        true
                    }
                }
            }
        }
    }

    /// How many reads so far found an account or slot the block had changed: a transaction
    /// during which it grows depends on an earlier one.
    pub(crate) fn changed_reads(&self) -> u64 {
        self.changed_reads
    }

    /// Applies the state a transaction left (the output of revm's journal).
    pub(crate) fn apply(&mut self, state: &EvmState) -> Result<(), DbError> {
        for (address, account) in state {
            if !account.is_touched() {
                continue;
            }
            self.load(*address)?.take(account);
            let info = &account.info;
            if let Some(code) = &info.code
                && info.code_hash != KECCAK256_EMPTY
            {
                self.code
                    .entry(info.code_hash)
                    .or_insert_with(|| code.clone());
            }
        }
        Ok(())
    }

    /// Sets the balance of `address` (state overrides).
    pub(crate) fn set_balance(&mut self, address: Address, balance: U256) -> Result<(), DbError> {
        let cached = self.load(address)?;
        cached.current.get_or_insert_with(Account::default).balance = balance;
        Ok(())
    }

    /// Sets the nonce of `address` (state overrides).
    pub(crate) fn set_nonce(&mut self, address: Address, nonce: u64) -> Result<(), DbError> {
        let cached = self.load(address)?;
        cached.current.get_or_insert_with(Account::default).nonce = nonce;
        Ok(())
    }

    /// Sets the code of `address` (state overrides).
    pub(crate) fn set_code(&mut self, address: Address, code: Bytes) -> Result<(), DbError> {
        let bytecode = bytecode_from_raw(code);
        let hash = if bytecode.is_empty() {
            KECCAK256_EMPTY
        } else {
            bytecode.hash_slow()
        };
        self.code.insert(hash, bytecode);
        let cached = self.load(address)?;
        cached
            .current
            .get_or_insert_with(Account::default)
            .code_hash = hash;
        Ok(())
    }

    /// Sets one storage slot of `address` (state overrides).
    pub(crate) fn set_storage(
        &mut self,
        address: Address,
        slot: U256,
        value: U256,
    ) -> Result<(), DbError> {
        let cached = self.load(address)?;
        let entry = cached.storage.entry(slot).or_insert(Slot {
            original: value,
            current: value,
        });
        entry.current = value;
        Ok(())
    }

    /// Replaces the whole storage of `address`: every other slot reads zero (state overrides).
    pub(crate) fn clear_storage(&mut self, address: Address) -> Result<(), DbError> {
        let cached = self.load(address)?;
        cached.storage.clear();
        cached.wiped = true;
        Ok(())
    }

    /// Everything the applied transactions changed, in a deterministic order.
    pub(crate) fn into_changes(self) -> Result<StateChanges, DbError> {
        let (mut accounts, code) = self.updates(&self.code)?;
        // Sorted in place (addresses are unique, so an unstable sort is exact).
        accounts.sort_unstable_by_key(|update| update.0);
        Ok(StateChanges {
            accounts: AccountChanges::from_sorted(accounts),
            code: code.into_iter().collect(),
        })
    }

    /// The accounts this database changed and the code they were given, unsorted; new code
    /// is looked up in `code`.
    #[allow(clippy::type_complexity)]
    fn updates(
        &self,
        code: &HashMap<B256, Bytecode>,
    ) -> Result<(Vec<(Address, AccountUpdate)>, Vec<(B256, Bytes)>), DbError> {
        let mut accounts = Vec::with_capacity(self.accounts.len());
        let mut deployed = Vec::new();
        for (address, cached) in &self.accounts {
            push_update(*address, cached, code, &mut accounts, &mut deployed)?;
        }
        Ok((accounts, deployed))
    }
}

/// The accounts `txs` transactions are expected to touch (their senders and recipients),
/// at most a million.
pub(crate) fn accounts_of(txs: usize) -> usize {
    txs.saturating_mul(2).min(1 << 20)
}

/// Adds what the block did to `cached`, the account at `address`, to `accounts`, and the
/// code it was given (looked up in `code`) to `deployed`.
fn push_update(
    address: Address,
    cached: &CachedAccount,
    code: &HashMap<B256, Bytecode>,
    accounts: &mut Vec<(Address, AccountUpdate)>,
    deployed: &mut Vec<(B256, Bytes)>,
) -> Result<(), DbError> {
    push_account_update(
        address,
        cached.original,
        cached.update(),
        code,
        accounts,
        deployed,
    )
}

/// Adds `update`, what the block did to the account at `address` (`original` before it),
/// if anything, to `accounts`, and the code it was given (looked up in `code`) to
/// `deployed`.
fn push_account_update(
    address: Address,
    original: Option<Account>,
    update: Option<AccountUpdate>,
    code: &HashMap<B256, Bytecode>,
    accounts: &mut Vec<(Address, AccountUpdate)>,
    deployed: &mut Vec<(B256, Bytes)>,
) -> Result<(), DbError> {
    let Some(update) = update else {
        return Ok(());
    };
    if let Some(account) = update.account
        && account.code_hash != KECCAK256_EMPTY
        && original.map(|a| a.code_hash) != Some(account.code_hash)
    {
        let bytes = code
            .get(&account.code_hash)
            .ok_or(DbError::MissingCode(account.code_hash))?;
        deployed.push((account.code_hash, bytes.original_bytes()));
    }
    accounts.push((address, update));
    Ok(())
}

/// The cached account at `address` in `accounts`, read from `provider` (and logged in
/// `reads`) the first time.
fn load_into<'m>(
    accounts: &'m mut HashMap<Address, CachedAccount>,
    reads: &mut Option<Reads>,
    provider: &dyn StateProvider,
    address: Address,
) -> Result<&'m mut CachedAccount, DbError> {
    match accounts.entry(address) {
        Entry::Occupied(entry) => Ok(entry.into_mut()),
        Entry::Vacant(entry) => {
            let original = provider.account(address)?;
            if let Some(reads) = reads {
                reads.accounts.push(address);
            }
            Ok(entry.insert(CachedAccount {
                original,
                current: original,
                storage: HashMap::default(),
                wiped: false,
            }))
        }
    }
}

/// An account as revm reads it: an account without code comes with [`empty_code`], others
/// have theirs loaded by hash.
pub(crate) fn account_info(account: Account) -> AccountInfo {
    let code = (account.code_hash == KECCAK256_EMPTY).then(empty_code);
    AccountInfo {
        balance: account.balance,
        nonce: account.nonce,
        code_hash: account.code_hash,
        account_id: None,
        code,
    }
}

thread_local! {
    /// This thread's [`empty_code`].
    static EMPTY_CODE: Bytecode = Bytecode::new_analyzed(
        Bytes::from_static(&[revm::bytecode::opcode::STOP]),
        0,
        JumpTable::default(),
    );
}

/// The code of an account without code: what revm's `Bytecode::default()` is, but one per
/// thread. revm's is one `Arc` for the whole process, cloned and dropped for every account
/// without code a transaction loads (and its gas table likewise, see
/// `parallel_evm::initial_gas::initial_tx_gas`): threads executing transactions at the same time
/// would all change its reference count, its cache line moving from core to core each time.
pub(crate) fn empty_code() -> Bytecode {
    EMPTY_CODE.with(Bytecode::clone)
}

/// Code bytes as revm bytecode. Bytes that start like an EIP-7702 delegation but are not a
/// valid one run as legacy code (they begin with the invalid opcode 0xEF).
pub(crate) fn bytecode_from_raw(code: Bytes) -> Bytecode {
    Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code))
}

impl Database for BlockDb<'_> {
    type Error = DbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        Ok(self.account(address)?.map(account_info))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        if code_hash == KECCAK256_EMPTY {
            return Ok(empty_code());
        }
        if let Some(code) = self.code.get(&code_hash) {
            return Ok(code.clone());
        }
        let raw = self
            .provider
            .code_by_hash(code_hash)?
            .ok_or(DbError::MissingCode(code_hash))?;
        let code = bytecode_from_raw(raw);
        self.code.insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        let provider = self.provider;
        let cached = load_into(&mut self.accounts, &mut self.reads, provider, address)?;
        if let Some(slot) = cached.storage.get(&index) {
            if slot.current != slot.original || cached.wiped {
                self.changed_reads += 1;
            }
            return Ok(slot.current);
        }
        let value = if cached.wiped {
            self.changed_reads += 1;
            U256::ZERO
        } else {
            let value = provider.storage(address, index)?;
            if let Some(reads) = &mut self.reads {
                reads.slots.push((address, index, value));
            }
            value
        };
        cached.storage.insert(
            index,
            Slot {
                original: value,
                current: value,
            },
        );
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        let Some(hashes) = self.hashes else {
            return Ok(B256::ZERO);
        };
        let hash = hashes.block_hash(number).map_err(|e| DbError::BlockHash {
            number,
            reason: e.to_string(),
        })?;
        Ok(hash.unwrap_or_default())
    }
}

#[path = "db_chunks.rs"]
mod chunks;
#[path = "db_filter.rs"]
mod filter;
#[path = "db_layers.rs"]
mod layers;

pub(crate) use chunks::{ChunkedState, Shared, Updates};

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
