//! Errors of the state crate.

/// Result alias of the state crate.
pub type StateResult<T> = Result<T, StateError>;

/// Errors raised by state reads and commits.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The underlying database failed.
    #[error("state database: {0}")]
    Database(String),
    /// The state of the requested block is not retained.
    #[error("state of block {0} is not available")]
    BlockNotAvailable(u64),
    /// Stored data could not be decoded.
    #[error("corrupt state entry: {0}")]
    Corrupt(String),
    /// A commit was attempted out of order.
    #[error("cannot commit block {got}: the next block is {expected}")]
    OutOfOrder {
        /// The number that was passed.
        got: u64,
        /// The number that was expected.
        expected: u64,
    },
    /// An argument or configuration value was invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StateError {
            fn from(e: $t) -> Self {
                Self::Database(e.to_string())
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
