//! [`ChunkDb`]: the database of one chunk, which keeps fee payments aside.

use crate::db::Shared;
use crate::db::{BlockDb, ChunkedState, DbError};
use alloy_primitives::{Address, B256, U256};
use revm::{Database, bytecode::Bytecode, state::AccountInfo};

/// The database of one chunk: a [`BlockDb`] over the state before the run, with the fees
/// paid to recipients the chunk has not read kept aside as sums, so that the chunks do not
/// all depend on the recipients' balances. A read of such a recipient first adds its sum.
pub(super) struct ChunkDb<'a> {
    pub(super) db: BlockDb<'a>,
    /// Recipient and sum of the fees it was paid, for recipients not read yet.
    pending: Vec<(Address, U256)>,
    /// A sum overflowed where revm would have dropped a single payment: the chunk cannot be
    /// taken as it is.
    inexact: bool,
    /// Fees are paid as they come (the chunk runs on the exact state before it).
    exact: bool,
}

impl<'a> ChunkDb<'a> {
    /// The database of a chunk over the state before the run, which keeps fees aside.
    pub(super) fn new(db: BlockDb<'a>) -> Self {
        Self {
            db,
            pending: Vec::new(),
            inexact: false,
            exact: false,
        }
    }

    /// The database of a chunk over the exact state before it (the first of a run), which
    /// pays fees as they come, as revm does.
    pub(super) fn exact(db: BlockDb<'a>) -> Self {
        Self {
            exact: true,
            ..Self::new(db)
        }
    }

    /// Pays one transaction's fees.
    pub(super) fn pay(&mut self, fees: Vec<(Address, U256)>) -> Result<(), DbError> {
        for (recipient, amount) in fees {
            if self.exact || self.db.is_cached(&recipient) {
                self.db.credit(recipient, amount)?;
                continue;
            }
            match self.pending.iter_mut().find(|(a, _)| *a == recipient) {
                Some((_, total)) => match total.checked_add(amount) {
                    Some(sum) => *total = sum,
                    None => self.inexact = true,
                },
                None => self.pending.push((recipient, amount)),
            }
        }
        Ok(())
    }

    /// Adds the fees kept aside for `address` before it is read.
    pub(super) fn settle(&mut self, address: Address) -> Result<(), DbError> {
        if let Some(i) = self.pending.iter().position(|(a, _)| *a == address) {
            let (_, total) = self.pending.swap_remove(i);
            if !self.db.credit(address, total)? {
                self.inexact = true;
            }
        }
        Ok(())
    }

    /// The account at `address` as the chunk sees it now.
    pub(super) fn account(
        &mut self,
        address: Address,
    ) -> Result<Option<altius_state::Account>, DbError> {
        self.settle(address)?;
        self.db.account(address)
    }

    /// Whether the chunk can be taken as it is after the chunks `before` it (every value it
    /// read from the state before the run is the value they left, and its fee sums fit); if
    /// so, the accounts it shares with them.
    pub(super) fn holds_after(
        &mut self,
        before: &mut ChunkedState<'_>,
    ) -> Result<Option<Shared>, DbError> {
        if self.inexact {
            return Ok(None);
        }
        let reads = self.db.take_reads();
        let Some(shared) = before.check(&reads, &self.db) else {
            return Ok(None);
        };
        for (recipient, total) in &self.pending {
            if !before.can_credit(*recipient, *total)? {
                return Ok(None);
            }
        }
        Ok(Some(shared))
    }

    pub(super) fn into_parts(self) -> (BlockDb<'a>, Vec<(Address, U256)>) {
        (self.db, self.pending)
    }
}

impl Database for ChunkDb<'_> {
    type Error = DbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        if !self.pending.is_empty() {
            self.settle(address)?;
        }
        self.db.basic(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        self.db.code_by_hash(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        if !self.pending.is_empty() {
            self.settle(address)?;
        }
        self.db.storage(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        self.db.block_hash(number)
    }
}
