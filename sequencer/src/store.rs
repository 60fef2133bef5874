//! Chain storage in redb: headers, bodies, receipts and the transaction index.
//!
//! The block tables live in the same redb database as the state, so that the builder writes
//! a block and its state in one write transaction: after a crash the node reopens at the last
//! block whose transaction committed, never at half a block.

use alloy_consensus::{Header, Sealable, Sealed};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, TxHash};
use alloy_rlp::{Decodable, Encodable};
use altius_engine::RecoveredTx;
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};
use parking_lot::RwLock;
use redb::{Database, ReadableDatabase, TableDefinition, WriteTransaction};
use std::sync::Arc;

const HEADERS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("chain_headers");
const HASH_TO_NUMBER: TableDefinition<'_, &[u8; 32], u64> =
    TableDefinition::new("chain_hash_to_number");
const BODIES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("chain_bodies");
const RECEIPTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("chain_receipts");
const TX_LOOKUP: TableDefinition<'_, &[u8; 32], (u64, u32)> =
    TableDefinition::new("chain_tx_lookup");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("chain_meta");

/// Errors of the chain store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("chain database: {0}")]
    Database(String),
    /// A stored entry could not be decoded.
    #[error("corrupt chain entry {what} {number}: {message}")]
    Corrupt {
        /// Which table.
        what: &'static str,
        /// Block number.
        number: u64,
        /// The decoding error.
        message: String,
    },
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
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

/// Result alias of the chain store.
pub type StoreResult<T> = Result<T, StoreError>;

/// A block with everything the node serves about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// The sealed header (its hash is the block hash).
    pub header: Sealed<Header>,
    /// Transactions with their senders and hashes, in block order.
    pub txs: Vec<RecoveredTx>,
    /// One receipt per transaction.
    pub receipts: Vec<OpReceiptEnvelope>,
}

impl StoredBlock {
    /// The block number.
    pub fn number(&self) -> u64 {
        self.header.number
    }

    /// The block hash.
    pub fn hash(&self) -> B256 {
        self.header.hash()
    }
}

/// Where a transaction is: block number and index within the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    /// Block number.
    pub block: u64,
    /// Index in the block.
    pub index: u32,
}

/// Block data persisted in redb, with the head header cached in memory.
#[derive(Debug)]
pub struct ChainStore {
    db: Arc<Database>,
    head: RwLock<Option<Sealed<Header>>>,
}

impl ChainStore {
    /// Opens the chain tables of `db`, creating them if needed.
    pub fn open(db: Arc<Database>) -> StoreResult<Self> {
        let txn = db.begin_write()?;
        {
            txn.open_table(HEADERS)?;
            txn.open_table(HASH_TO_NUMBER)?;
            txn.open_table(BODIES)?;
            txn.open_table(RECEIPTS)?;
            txn.open_table(TX_LOOKUP)?;
            txn.open_table(META)?;
        }
        txn.commit()?;
        let store = Self {
            db,
            head: RwLock::new(None),
        };
        let head = match store.meta("head")? {
            Some(n) => store.header(n)?,
            None => None,
        };
        *store.head.write() = head;
        Ok(store)
    }

    /// The database the store lives in.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// The newest committed header, if the chain has a genesis.
    pub fn head(&self) -> Option<Sealed<Header>> {
        self.head.read().clone()
    }

    /// The newest committed block number (0 before genesis).
    pub fn head_number(&self) -> u64 {
        self.head.read().as_ref().map_or(0, |h| h.number)
    }

    fn meta(&self, key: &str) -> StoreResult<Option<u64>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(META)?;
        Ok(table.get(key)?.map(|v| v.value()))
    }

    /// The `safe` block number recorded by the batcher (genesis until one is).
    pub fn safe_number(&self) -> StoreResult<u64> {
        Ok(self.meta("safe")?.unwrap_or(0))
    }

    /// The `finalized` block number (genesis until one is).
    pub fn finalized_number(&self) -> StoreResult<u64> {
        Ok(self.meta("finalized")?.unwrap_or(0))
    }

    /// The header of block `number`.
    pub fn header(&self, number: u64) -> StoreResult<Option<Sealed<Header>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(HEADERS)?;
        let Some(raw) = table.get(number)? else {
            return Ok(None);
        };
        decode_header(number, raw.value()).map(Some)
    }

    /// The number of the block with hash `hash`.
    pub fn number_by_hash(&self, hash: B256) -> StoreResult<Option<u64>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(HASH_TO_NUMBER)?;
        Ok(table.get(&hash.0)?.map(|v| v.value()))
    }

    /// The whole block `number`.
    pub fn block(&self, number: u64) -> StoreResult<Option<StoredBlock>> {
        let txn = self.db.begin_read()?;
        let Some(raw) = txn.open_table(HEADERS)?.get(number)? else {
            return Ok(None);
        };
        let header = decode_header(number, raw.value())?;
        let body = txn
            .open_table(BODIES)?
            .get(number)?
            .map(|v| v.value().to_vec());
        let txs = decode_body(number, body.as_deref().unwrap_or_default())?;
        let receipts = txn
            .open_table(RECEIPTS)?
            .get(number)?
            .map(|v| v.value().to_vec());
        let receipts = decode_receipts(number, receipts.as_deref().unwrap_or_default())?;
        Ok(Some(StoredBlock {
            header,
            txs,
            receipts,
        }))
    }

    /// The receipts of block `number`.
    pub fn receipts(&self, number: u64) -> StoreResult<Option<Vec<OpReceiptEnvelope>>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(RECEIPTS)?;
        let Some(raw) = table.get(number)? else {
            return Ok(None);
        };
        decode_receipts(number, raw.value()).map(Some)
    }

    /// Where transaction `hash` was included.
    pub fn tx_location(&self, hash: TxHash) -> StoreResult<Option<TxLocation>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TX_LOOKUP)?;
        Ok(table.get(&hash.0)?.map(|v| {
            let (block, index) = v.value();
            TxLocation { block, index }
        }))
    }

    /// Writes `block` into `txn` and makes it the head once `txn` commits (call
    /// [`ChainStore::on_committed`] then).
    pub fn write_block(&self, txn: &WriteTransaction, block: &StoredBlock) -> StoreResult<()> {
        let number = block.number();
        let mut header = Vec::new();
        block.header.inner().encode(&mut header);
        txn.open_table(HEADERS)?.insert(number, header.as_slice())?;
        txn.open_table(HASH_TO_NUMBER)?
            .insert(&block.hash().0, number)?;
        txn.open_table(BODIES)?
            .insert(number, encode_body(&block.txs).as_slice())?;
        txn.open_table(RECEIPTS)?
            .insert(number, encode_receipts(&block.receipts).as_slice())?;
        let mut lookup = txn.open_table(TX_LOOKUP)?;
        for (index, tx) in block.txs.iter().enumerate() {
            lookup.insert(&tx.hash.0, (number, index as u32))?;
        }
        txn.open_table(META)?.insert("head", number)?;
        Ok(())
    }

    /// Records a new `safe` (and optionally `finalized`) block number in `txn`.
    pub fn write_safe(
        &self,
        txn: &WriteTransaction,
        safe: u64,
        finalized: Option<u64>,
    ) -> StoreResult<()> {
        let mut meta = txn.open_table(META)?;
        meta.insert("safe", safe)?;
        if let Some(f) = finalized {
            meta.insert("finalized", f)?;
        }
        Ok(())
    }

    /// Takes `header` as the new head; call after the transaction that wrote it committed.
    pub fn on_committed(&self, header: Sealed<Header>) {
        *self.head.write() = Some(header);
    }
}

impl altius_engine::BlockHashes for ChainStore {
    fn block_hash(&self, number: u64) -> altius_engine::EngineResult<Option<B256>> {
        self.header(number)
            .map(|h| h.map(|h| h.hash()))
            .map_err(|e| {
                altius_engine::EngineError::State(altius_state::StateError::Database(e.to_string()))
            })
    }
}

fn decode_header(number: u64, mut raw: &[u8]) -> StoreResult<Sealed<Header>> {
    Header::decode(&mut raw)
        .map(Header::seal_slow)
        .map_err(|e| StoreError::Corrupt {
            what: "header",
            number,
            message: e.to_string(),
        })
}

fn encode_body(txs: &[RecoveredTx]) -> Vec<u8> {
    let raw: Vec<Bytes> = txs.iter().map(|t| t.tx.encoded_2718().into()).collect();
    let senders: Vec<Address> = txs.iter().map(|t| t.sender).collect();
    let mut out = Vec::new();
    raw.encode(&mut out);
    senders.encode(&mut out);
    out
}

fn decode_body(number: u64, mut raw: &[u8]) -> StoreResult<Vec<RecoveredTx>> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let corrupt = |message: String| StoreError::Corrupt {
        what: "body",
        number,
        message,
    };
    let txs = Vec::<Bytes>::decode(&mut raw).map_err(|e| corrupt(e.to_string()))?;
    let senders = Vec::<Address>::decode(&mut raw).map_err(|e| corrupt(e.to_string()))?;
    if txs.len() != senders.len() {
        return Err(corrupt("transaction and sender counts differ".into()));
    }
    txs.iter()
        .zip(senders)
        .map(|(bytes, sender)| {
            let tx = OpTxEnvelope::decode_2718(&mut bytes.as_ref())
                .map_err(|e| corrupt(e.to_string()))?;
            let hash = tx.tx_hash();
            Ok(RecoveredTx { tx, sender, hash })
        })
        .collect()
}

fn encode_receipts(receipts: &[OpReceiptEnvelope]) -> Vec<u8> {
    let raw: Vec<Bytes> = receipts.iter().map(|r| r.encoded_2718().into()).collect();
    let mut out = Vec::new();
    raw.encode(&mut out);
    out
}

fn decode_receipts(number: u64, mut raw: &[u8]) -> StoreResult<Vec<OpReceiptEnvelope>> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let corrupt = |message: String| StoreError::Corrupt {
        what: "receipts",
        number,
        message,
    };
    let list = Vec::<Bytes>::decode(&mut raw).map_err(|e| corrupt(e.to_string()))?;
    list.iter()
        .map(|b| {
            OpReceiptEnvelope::decode_2718(&mut b.as_ref()).map_err(|e| corrupt(e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_entries_are_errors_not_panics() {
        let err = decode_body(3, &[0xc1, 0x80]).unwrap_err();
        assert!(
            err.to_string().contains("corrupt chain entry body 3"),
            "{err}"
        );
        assert!(decode_receipts(4, &[0xff]).is_err());
        assert!(decode_header(5, &[0x01, 0x02]).is_err());
    }

    #[test]
    fn empty_blocks_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Database::create(dir.path().join("db")).unwrap());
        let store = ChainStore::open(db.clone()).unwrap();
        assert!(store.head().is_none());
        let header = Sealed::new(Header {
            number: 0,
            ..Default::default()
        });
        let block = StoredBlock {
            header: header.clone(),
            txs: vec![],
            receipts: vec![],
        };
        let txn = db.begin_write().unwrap();
        store.write_block(&txn, &block).unwrap();
        drop(txn);
        assert!(
            store.block(0).unwrap().is_none(),
            "an uncommitted block is invisible"
        );
        let txn = db.begin_write().unwrap();
        store.write_block(&txn, &block).unwrap();
        txn.commit().unwrap();
        store.on_committed(header.clone());
        assert_eq!(store.block(0).unwrap().unwrap(), block);
        assert_eq!(store.number_by_hash(header.hash()).unwrap(), Some(0));
        drop(store);
        let reopened = ChainStore::open(db).unwrap();
        assert_eq!(reopened.head().map(|h| h.hash()), Some(header.hash()));
    }
}
