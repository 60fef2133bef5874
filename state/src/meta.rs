//! The head and retention entries and the per-block state roots.

use crate::{
    StateError, StateResult,
    tables::{self, META, META_HEAD, META_OLDEST, ROOTS},
};
use alloy_primitives::B256;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

/// What the meta table says about the committed state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Last committed block and its state root.
    pub(crate) head: Option<(u64, B256)>,
    /// Oldest block whose state can still be read.
    pub(crate) oldest: u64,
}

impl Meta {
    /// Reads the meta entries of `table`.
    pub(crate) fn read<T>(table: &T) -> StateResult<Self>
    where
        T: ReadableTable<&'static str, &'static [u8]>,
    {
        let head = match table.get(META_HEAD)? {
            Some(bytes) => Some(tables::decode_head(bytes.value())?),
            None => None,
        };
        let oldest = match table.get(META_OLDEST)? {
            Some(bytes) => tables::block_at(bytes.value(), 0)?,
            None => 0,
        };
        Ok(Self { head, oldest })
    }

    /// Reads the meta entries in a read snapshot.
    pub(crate) fn read_snapshot(txn: &ReadTransaction) -> StateResult<Self> {
        Self::read(&txn.open_table(META)?)
    }

    /// Fails unless the state of `block` is retained; returns the head block number.
    pub(crate) fn check_available(&self, block: u64) -> StateResult<u64> {
        match self.head {
            Some((head, _)) if (self.oldest..=head).contains(&block) => Ok(head),
            _ => Err(StateError::BlockNotAvailable(block)),
        }
    }
}

/// Records block `number` with state root `root` as the new head.
pub(crate) fn write_head(txn: &WriteTransaction, number: u64, root: B256) -> StateResult<()> {
    txn.open_table(META)?
        .insert(META_HEAD, tables::encode_head(number, root).as_slice())?;
    txn.open_table(ROOTS)?.insert(number, &root.0)?;
    Ok(())
}

/// Records `oldest` as the oldest readable block.
pub(crate) fn write_oldest(txn: &WriteTransaction, oldest: u64) -> StateResult<()> {
    txn.open_table(META)?
        .insert(META_OLDEST, oldest.to_be_bytes().as_slice())?;
    Ok(())
}

/// The state root of `block` in a read snapshot.
pub(crate) fn root_at(txn: &ReadTransaction, block: u64) -> StateResult<B256> {
    Meta::read_snapshot(txn)?.check_available(block)?;
    let roots = txn.open_table(ROOTS)?;
    let root = roots
        .get(block)?
        .ok_or(StateError::BlockNotAvailable(block))?;
    Ok(B256::from(*root.value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability() {
        let meta = Meta {
            head: Some((10, B256::ZERO)),
            oldest: 4,
        };
        assert_eq!(meta.check_available(10).unwrap(), 10);
        assert_eq!(meta.check_available(4).unwrap(), 10);
        assert!(matches!(
            meta.check_available(3),
            Err(StateError::BlockNotAvailable(3))
        ));
        assert!(matches!(
            meta.check_available(11),
            Err(StateError::BlockNotAvailable(11))
        ));
        assert!(Meta::default().check_available(0).is_err());
    }
}
