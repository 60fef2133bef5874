//! The interface between the Block-STM core and a virtual machine: the [`Vm`] trait, the
//! [`ReadView`] a transaction reads through, and the [`Storage`] holding the state before the
//! block.

use std::{collections::HashMap, error::Error, fmt, hash::BuildHasher, hash::Hash};

/// Position of a transaction in its block.
pub type TxIndex = usize;

/// A virtual machine the Block-STM core can run transactions of.
///
/// The core knows nothing of the VM but this trait. A transaction is identified by its index
/// in the block; the VM holds the transactions themselves.
///
/// # Contract
///
/// - [`Vm::execute`] must be a deterministic function of the transaction index and of the
///   values its view returns: the core runs transactions speculatively, possibly several
///   times, and keeps the run whose reads match sequential execution.
/// - Every read of state written before the transaction goes through the view. Reads of the
///   transaction's own earlier writes are the VM's business (a journal, an overlay).
/// - A read error must stop the execution: return it as [`VmError::Read`] (`?` converts it).
///   The core also remembers it, so a VM that swallows it stays correct, only slower.
/// - [`Vm::apply_delta`] is total and deterministic; deltas on one key commute.
pub trait Vm: Sync {
    /// A location of state: an account, a storage slot, a key of a key-value store.
    type Key: Eq + Hash + Clone + Send + Sync;
    /// The full value stored at a key.
    type Value: Clone + PartialEq + Send + Sync;
    /// A commutative change of a value, such as an addition to a balance.
    type Delta: Clone + Send + Sync;
    /// What a successful transaction returns besides its writes (a receipt, say).
    type Output: Send;
    /// Why a transaction failed; a failed transaction writes nothing.
    type Error: Send;

    /// Executes transaction `tx` reading through `view`.
    ///
    /// `Err(VmError::Tx(..))` is the transaction's own, deterministic failure: it is part of
    /// the block's result and the transaction writes nothing.
    #[allow(clippy::type_complexity)]
    fn execute(
        &self,
        tx: TxIndex,
        view: &mut dyn ReadView<Self::Key, Self::Value>,
    ) -> Result<TxOutcome<Self::Key, Self::Value, Self::Delta, Self::Output>, VmError<Self::Error>>;

    /// Executes transaction `tx` again, after validation found a read of its last execution
    /// stale; `previous` is what that execution returned. A VM that keeps enough in its
    /// outputs redoes only what the stale reads changed; by default the transaction runs
    /// anew. The contract of [`Vm::execute`] holds: the result must be what executing the
    /// transaction against `view` returns, and every read must go through `view`.
    #[allow(clippy::type_complexity)]
    fn execute_again(
        &self,
        tx: TxIndex,
        view: &mut dyn ReadView<Self::Key, Self::Value>,
        previous: Self::Output,
    ) -> Result<TxOutcome<Self::Key, Self::Value, Self::Delta, Self::Output>, VmError<Self::Error>>
    {
        let _ = previous;
        self.execute(tx, view)
    }

    /// Applies `delta` to the value `value` stored at `key` (`None`: no value yet).
    fn apply_delta(
        &self,
        key: &Self::Key,
        value: Option<Self::Value>,
        delta: &Self::Delta,
    ) -> Self::Value;

    /// Whether deltas on `key` are kept with the transaction that made them rather than with
    /// the key: right for a key most transactions add to and few read (a fee recipient).
    /// Adding to it then takes no shared lock; a read of it costs a pass over the
    /// transactions below the reader, which must all have executed. Only the speed depends
    /// on it.
    fn is_accumulator(&self, key: &Self::Key) -> bool {
        let _ = key;
        false
    }

    /// Whether the block of `txs` transactions is clearly serial (every transaction from one
    /// sender, say), so that executing it in order is faster. Only the speed depends on it.
    fn is_clearly_serial(&self, txs: usize) -> bool {
        let _ = txs;
        false
    }
}

/// What the state looked like before a transaction, as far as it reads it.
///
/// Reads return the value left by the transactions before the reader in block order (or the
/// value in [`Storage`]), with the deltas of those transactions applied.
pub trait ReadView<K, V> {
    /// The value at `key`, `None` if there is none.
    ///
    /// # Errors
    ///
    /// A [`ReadError`] when the value is not known yet (an earlier transaction is being
    /// re-executed) or storage failed; the VM must stop and return it.
    fn read(&mut self, key: &K) -> Result<Option<V>, ReadError>;
}

/// The result of a transaction that did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOutcome<K, V, D, O> {
    /// What the transaction returns.
    pub output: O,
    /// Full values written. When a key is written twice, the last value counts.
    pub writes: Vec<(K, V)>,
    /// Commutative changes, applied after `writes`: on a key also in `writes` they are applied
    /// to the written value, otherwise to the value before the transaction. Several deltas on
    /// one key are applied in order.
    pub deltas: Vec<(K, D)>,
}

impl<K, V, D, O> TxOutcome<K, V, D, O> {
    /// An outcome with `output` and no writes.
    pub const fn new(output: O) -> Self {
        Self {
            output,
            writes: Vec::new(),
            deltas: Vec::new(),
        }
    }
}

/// Why [`Vm::execute`] returned no outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmError<E> {
    /// A read failed; the core decides what happens next.
    Read(ReadError),
    /// The transaction failed on its own: the failure is its result.
    Tx(E),
}

impl<E> From<ReadError> for VmError<E> {
    fn from(error: ReadError) -> Self {
        Self::Read(error)
    }
}

/// A read a transaction cannot complete now. Only the core creates them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadError {
    blocking_tx: Option<TxIndex>,
}

impl ReadError {
    /// The value is being recomputed by transaction `tx`.
    pub(crate) const fn blocked(tx: TxIndex) -> Self {
        Self {
            blocking_tx: Some(tx),
        }
    }

    /// Storage failed to return the value.
    pub(crate) const fn storage() -> Self {
        Self { blocking_tx: None }
    }

    /// The earlier transaction whose result the read waits for, if that is the reason.
    pub const fn blocking_tx(&self) -> Option<TxIndex> {
        self.blocking_tx
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.blocking_tx {
            Some(tx) => write!(f, "read waits for transaction {tx}"),
            None => f.write_str("storage read failed"),
        }
    }
}

impl Error for ReadError {}

/// The state before the block: values no earlier transaction of the block wrote.
pub trait Storage<K, V>: Sync {
    /// The value at `key` before the block, `None` if there is none.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] when the value cannot be read; it fails the block.
    fn base(&self, key: &K) -> Result<Option<V>, StorageError>;
}

impl<K, V, S> Storage<K, V> for HashMap<K, V, S>
where
    K: Eq + Hash + Sync,
    V: Clone + Sync,
    S: BuildHasher + Sync,
{
    fn base(&self, key: &K) -> Result<Option<V>, StorageError> {
        Ok(self.get(key).cloned())
    }
}

/// A failure of [`Storage`] (a database error, say).
#[derive(Debug)]
pub struct StorageError(Box<dyn Error + Send + Sync>);

impl StorageError {
    /// Wraps an error, or a message.
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for StorageError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}
