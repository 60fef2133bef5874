//! [`ViewDb`]: revm's [`Database`] over a transaction's [`ReadView`].

use super::values::{AccountValue, EvmKey, EvmValue};
use crate::{
    db::{account_info, empty_code},
    parallel::{ReadError, ReadView, SmallMap},
};
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256};
use revm::{
    Context, Journal,
    bytecode::Bytecode,
    context::LocalContext,
    context_interface::{Cfg, JournalTr},
    database_interface::{DBErrorMarker, Database},
    state::AccountInfo,
};
use std::collections::HashSet;

/// Answers `BLOCKHASH` for a block number: the hash, zero when unknown, or why it failed.
pub(crate) type BlockHashFn<'a> = &'a (dyn Fn(u64) -> Result<B256, String> + Sync);

/// Why a read of [`ViewDb`] failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ViewDbError {
    /// The view could not answer: the execution stops and the core decides what follows.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// An account's code hash has no code.
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

impl DBErrorMarker for ViewDbError {}

/// The revm database of one execution of one transaction: every read goes through the
/// transaction's view, so the core records it.
pub(crate) struct ViewDb<'v> {
    view: &'v mut dyn ReadView<EvmKey, EvmValue>,
    block_hash: BlockHashFn<'v>,
    storage_only: Option<&'v HashSet<Address>>,
    /// Every account read, as the transaction first saw it.
    accounts: SmallMap<Address, AccountValue>,
}

impl std::fmt::Debug for ViewDb<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewDb").finish_non_exhaustive()
    }
}

impl<'v> ViewDb<'v> {
    /// A database reading through `view`. `storage_only` lists the accounts that had
    /// storage but neither code nor nonce before the block (EIP-7610 collisions).
    pub(crate) fn new(
        view: &'v mut dyn ReadView<EvmKey, EvmValue>,
        block_hash: BlockHashFn<'v>,
        storage_only: Option<&'v HashSet<Address>>,
    ) -> Self {
        Self {
            view,
            block_hash,
            storage_only,
            accounts: SmallMap::default(),
        }
    }

    /// The account at `address` as the transaction sees it.
    pub(crate) fn account(&mut self, address: Address) -> Result<AccountValue, ReadError> {
        if let Some(account) = self.accounts.get(&address) {
            return Ok(*account);
        }
        let account = match self.view.read(&EvmKey::Account(address))? {
            Some(EvmValue::Account(account)) => account,
            _ => AccountValue::default(),
        };
        self.accounts.insert_new(address, account);
        Ok(account)
    }

    /// True when `address` still has the storage it had before the block but neither code
    /// nor nonce: creating a contract there collides (EIP-7610). A failed read answers
    /// `false`; the view remembers the failure, so the execution is discarded anyway.
    pub(crate) fn is_storage_only(&mut self, address: &Address) -> bool {
        if !self.storage_only.is_some_and(|set| set.contains(address)) {
            return false;
        }
        match self.account(*address) {
            Ok(account) => {
                account.epoch == 0
                    && account
                        .info
                        .is_none_or(|a| a.nonce == 0 && a.code_hash == KECCAK256_EMPTY)
            }
            Err(_) => false,
        }
    }
}

impl Database for ViewDb<'_> {
    type Error = ViewDbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, ViewDbError> {
        Ok(self.account(address)?.info.map(account_info))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, ViewDbError> {
        if code_hash == KECCAK256_EMPTY {
            return Ok(empty_code());
        }
        match self.view.read(&EvmKey::Code(code_hash))? {
            Some(EvmValue::Code(code)) => Ok(code),
            _ => Err(ViewDbError::MissingCode(code_hash)),
        }
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, ViewDbError> {
        let epoch = self.account(address)?.epoch;
        match self.view.read(&EvmKey::Storage(address, index))? {
            Some(EvmValue::Storage { value, epoch: e }) if e == epoch => Ok(value),
            _ => Ok(U256::ZERO),
        }
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, ViewDbError> {
        (self.block_hash)(number).map_err(|reason| ViewDbError::BlockHash { number, reason })
    }
}

/// A revm context over `db` with these environments, built directly: revm's `Context::op()`
/// and `Context::mainnet()` build a default context (journal, gas table, transaction) that
/// `with_cfg`, `with_db` and friends then replace, and that waste shows in every execution.
pub(crate) fn evm_context<'v, BLOCK, TX, CFG: Cfg, CHAIN>(
    block: BLOCK,
    tx: TX,
    cfg: CFG,
    db: ViewDb<'v>,
    chain: CHAIN,
) -> Context<BLOCK, TX, CFG, ViewDb<'v>, Journal<ViewDb<'v>>, CHAIN> {
    let mut journal = Journal::new(db);
    journal.set_spec_id(cfg.spec().into());
    journal.set_eip7708_config(
        cfg.is_eip7708_disabled(),
        cfg.is_eip7708_delayed_burn_disabled(),
    );
    Context {
        block,
        tx,
        cfg,
        journaled_state: journal,
        chain,
        local: LocalContext::default(),
        error: Ok(()),
    }
}
