//! [`ChunkDb`]: the database of one chunk, which keeps fee payments aside.

use crate::db::{BlockDb, ChunkedState, DbError, ProviderRead, Shared, account_info};
use alloy_primitives::{Address, B256, U256};
use revm::{
    Database,
    bytecode::Bytecode,
    state::{AccountInfo, EvmState},
};

/// The fees a transaction paid: recipient and amount.
pub(super) type Fees = Vec<(Address, U256)>;

/// A value a transaction read, and whether it was the provider's (the value before the
/// run: no transaction of the chunk had changed it).
pub(super) type LoggedRead = (ProviderRead, bool);

/// What the transactions of a chunk read and left, one by one (see `super::repair`).
#[derive(Default)]
pub(super) struct TxLog {
    /// Every value the chunk's transactions read from its database, in order.
    pub(super) reads: Vec<LoggedRead>,
    /// Per transaction, in order.
    pub(super) txs: Vec<LoggedTx>,
    /// What the transaction being executed left, once it is committed.
    committed: Option<(EvmState, Fees)>,
}

/// One transaction of a [`TxLog`].
pub(super) struct LoggedTx {
    /// The end of its reads in [`TxLog::reads`] (they start where the previous one's end).
    pub(super) reads_end: usize,
    /// The state it left (revm's journal) and the fees it paid; none if it failed.
    pub(super) committed: Option<(EvmState, Fees)>,
}

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
    /// What each transaction read and left, when asked for ([`Self::logging_txs`]).
    log: Option<TxLog>,
}

impl<'a> ChunkDb<'a> {
    /// The database of a chunk over the state before the run, which keeps fees aside.
    pub(super) fn new(db: BlockDb<'a>) -> Self {
        Self {
            db,
            pending: Vec::new(),
            inexact: false,
            exact: false,
            log: None,
        }
    }

    /// Logs what each transaction reads and leaves from now on, so that a chunk that does
    /// not hold can be repaired (see `super::repair`).
    pub(super) fn logging_txs(mut self) -> Self {
        self.log = Some(TxLog::default());
        self
    }

    /// Applies the state a transaction left and pays its fees (logged when logging).
    pub(super) fn commit(&mut self, state: EvmState, fees: Fees) -> Result<(), DbError> {
        self.db.apply(&state)?;
        self.pay(&fees)?;
        if let Some(log) = &mut self.log {
            log.committed = Some((state, fees));
        }
        Ok(())
    }

    /// Ends the log of a transaction (executed, or failed: then it left nothing).
    pub(super) fn end_tx(&mut self) {
        if let Some(log) = &mut self.log {
            let committed = log.committed.take();
            let reads_end = log.reads.len();
            log.txs.push(LoggedTx {
                reads_end,
                committed,
            });
        }
    }

    /// Logs `read`, a value the transaction being executed read, if logging; the database
    /// had counted `changed_before` reads of changed values before it. The read is the
    /// provider's when it did not add to that count: the database counts every read of a
    /// value that differs from the provider's or follows a wipe, so no second lookup is
    /// needed (the count marks a few more reads changed than `is_as_before` would, which
    /// only costs them a full check).
    fn log_read(&mut self, read: ProviderRead, changed_before: u64) {
        if let Some(log) = &mut self.log {
            let as_before = self.db.changed_reads() == changed_before;
            debug_assert!(!as_before || self.db.is_as_before(&read), "{read:?}");
            log.reads.push((read, as_before));
        }
    }

    /// The log of its transactions, if it kept one.
    pub(super) fn take_log(&mut self) -> Option<TxLog> {
        self.log.take()
    }

    /// Whether every value of `reads`, what one transaction of a chunk over the same state
    /// before the run read (see `super::repair`), is the value this database gives now. A
    /// value logged as the provider's, of an account or slot this database would read from
    /// the provider, is taken into its cache instead: reading the provider again (a cold
    /// read) would cost more than the rest of the check.
    pub(super) fn still_gives(&mut self, reads: &[LoggedRead]) -> Result<bool, DbError> {
        for &(read, as_before) in reads {
            if as_before && self.pending.is_empty() && self.db.seed(&read) {
                continue;
            }
            let same = match read {
                ProviderRead::Account(address, account) => self.account(address)? == account,
                ProviderRead::Slot(address, slot, value) => self.storage(address, slot)? == value,
            };
            if !same {
                return Ok(false);
            }
        }
        Ok(true)
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
    fn pay(&mut self, fees: &[(Address, U256)]) -> Result<(), DbError> {
        for &(recipient, amount) in fees {
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
        let changed = self.db.changed_reads();
        let account = self.db.account(address)?;
        self.log_read(ProviderRead::Account(address, account), changed);
        Ok(account.map(account_info))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        self.db.code_by_hash(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        if !self.pending.is_empty() {
            self.settle(address)?;
        }
        let changed = self.db.changed_reads();
        let value = self.db.storage(address, index)?;
        self.log_read(ProviderRead::Slot(address, index, value), changed);
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        self.db.block_hash(number)
    }
}
