//! redb table definitions, key layouts and row encodings of the state store.
//!
//! All multi-field keys are fixed-size byte arrays whose fields are concatenated big-endian,
//! so that redb's lexicographic order groups keys by their leading fields.

use crate::{Account, StateError, StateResult};
use alloy_primitives::{Address, B256, U256};
use redb::TableDefinition;

/// Plain accounts: address -> [`AccountRow`] encoding.
pub(crate) const ACCOUNTS: TableDefinition<'_, &[u8; 20], &[u8]> =
    TableDefinition::new("state_accounts");
/// Accounts by keccak256(address), in account-trie order: hashed address -> [`AccountRow`].
pub(crate) const HASHED_ACCOUNTS: TableDefinition<'_, &[u8; 32], &[u8]> =
    TableDefinition::new("state_hashed_accounts");
/// Plain storage: address ++ slot -> value (never zero).
pub(crate) const STORAGE: TableDefinition<'_, &[u8; 52], &[u8; 32]> =
    TableDefinition::new("state_storage");
/// Storage in storage-trie order: address ++ keccak256(slot) -> value (never zero).
pub(crate) const HASHED_STORAGE: TableDefinition<'_, &[u8; 52], &[u8; 32]> =
    TableDefinition::new("state_hashed_storage");
/// Contract code by keccak256 hash.
pub(crate) const CODE: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("state_code");
/// Single-value entries, see [`META_HEAD`] and [`META_OLDEST`].
pub(crate) const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("state_meta");
/// State root of every retained block.
pub(crate) const ROOTS: TableDefinition<'_, u64, &[u8; 32]> = TableDefinition::new("state_roots");
/// Account change sets: block ++ address -> the [`AccountRow`] before the block (empty when
/// the account did not exist).
pub(crate) const ACCOUNT_CHANGES: TableDefinition<'_, &[u8; 28], &[u8]> =
    TableDefinition::new("state_account_changes");
/// Storage change sets: block ++ address ++ slot -> the value before the block.
pub(crate) const STORAGE_CHANGES: TableDefinition<'_, &[u8; 60], &[u8; 32]> =
    TableDefinition::new("state_storage_changes");
/// Account history index: address ++ block, one entry per block that changed the account.
pub(crate) const ACCOUNT_HISTORY: TableDefinition<'_, &[u8; 28], ()> =
    TableDefinition::new("state_account_history");
/// Storage history index: address ++ slot ++ block, one entry per block that changed the slot.
pub(crate) const STORAGE_HISTORY: TableDefinition<'_, &[u8; 60], ()> =
    TableDefinition::new("state_storage_history");

/// Meta key of the last committed block: block number (8 bytes) ++ state root (32 bytes).
pub(crate) const META_HEAD: &str = "head";
/// Meta key of the oldest block whose state can still be read (8 bytes).
pub(crate) const META_OLDEST: &str = "oldest";

/// Concatenates byte fields into a fixed-size key.
fn concat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut key = [0u8; N];
    let mut at = 0;
    for part in parts {
        key[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    key
}

/// Key of [`STORAGE`] and [`HASHED_STORAGE`].
pub(crate) fn slot_key(address: Address, slot: B256) -> [u8; 52] {
    concat(&[address.as_slice(), slot.as_slice()])
}

/// Key of [`ACCOUNT_CHANGES`].
pub(crate) fn account_change_key(block: u64, address: Address) -> [u8; 28] {
    concat(&[&block.to_be_bytes(), address.as_slice()])
}

/// Key of [`STORAGE_CHANGES`].
pub(crate) fn storage_change_key(block: u64, address: Address, slot: B256) -> [u8; 60] {
    concat(&[&block.to_be_bytes(), address.as_slice(), slot.as_slice()])
}

/// Key of [`ACCOUNT_HISTORY`].
pub(crate) fn account_history_key(address: Address, block: u64) -> [u8; 28] {
    concat(&[address.as_slice(), &block.to_be_bytes()])
}

/// Key of [`STORAGE_HISTORY`].
pub(crate) fn storage_history_key(address: Address, slot: B256, block: u64) -> [u8; 60] {
    concat(&[address.as_slice(), slot.as_slice(), &block.to_be_bytes()])
}

/// Reads the big-endian block number at `at` of a key.
pub(crate) fn block_at(key: &[u8], at: usize) -> StateResult<u64> {
    key.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StateError::Corrupt("short key".into()))
}

/// The trailing 32 bytes of a 52-byte storage key (the slot or hashed slot).
pub(crate) fn slot_of(key: &[u8; 52]) -> B256 {
    B256::from_slice(&key[20..])
}

/// A U256 as its 32 big-endian bytes.
pub(crate) fn u256_bytes(value: U256) -> [u8; 32] {
    value.to_be_bytes()
}

/// The U256 of 32 big-endian bytes.
pub(crate) fn u256_from(bytes: &[u8; 32]) -> U256 {
    U256::from_be_bytes(*bytes)
}

/// Encoded length of an [`AccountRow`].
const ROW_LEN: usize = 8 + 32 + 32 + 32;

/// An account as stored: the account and the root of its storage trie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccountRow {
    /// Nonce, balance and code hash.
    pub(crate) account: Account,
    /// Root of the account's storage trie.
    pub(crate) storage_root: B256,
}

impl AccountRow {
    /// Fixed-size encoding: nonce ++ balance ++ code hash ++ storage root.
    pub(crate) fn encode(&self) -> [u8; ROW_LEN] {
        concat(&[
            &self.account.nonce.to_be_bytes(),
            &self.account.balance.to_be_bytes::<32>(),
            self.account.code_hash.as_slice(),
            self.storage_root.as_slice(),
        ])
    }

    /// Decodes [`Self::encode`]'s output.
    pub(crate) fn decode(bytes: &[u8]) -> StateResult<Self> {
        if bytes.len() != ROW_LEN {
            return Err(StateError::Corrupt(format!(
                "account row of {} bytes",
                bytes.len()
            )));
        }
        let nonce = block_at(bytes, 0)?;
        let balance = U256::from_be_slice(&bytes[8..40]);
        let account = Account {
            nonce,
            balance,
            code_hash: B256::from_slice(&bytes[40..72]),
        };
        Ok(Self {
            account,
            storage_root: B256::from_slice(&bytes[72..]),
        })
    }

    /// Encodes an optional row for a change set: empty when the account did not exist.
    pub(crate) fn encode_opt(row: Option<&Self>) -> Vec<u8> {
        row.map(|r| r.encode().to_vec()).unwrap_or_default()
    }

    /// Decodes [`Self::encode_opt`]'s output.
    pub(crate) fn decode_opt(bytes: &[u8]) -> StateResult<Option<Self>> {
        if bytes.is_empty() {
            Ok(None)
        } else {
            Self::decode(bytes).map(Some)
        }
    }
}

/// Encodes the head meta entry.
pub(crate) fn encode_head(number: u64, root: B256) -> [u8; 40] {
    concat(&[&number.to_be_bytes(), root.as_slice()])
}

/// Decodes the head meta entry.
pub(crate) fn decode_head(bytes: &[u8]) -> StateResult<(u64, B256)> {
    if bytes.len() != 40 {
        return Err(StateError::Corrupt(format!(
            "head entry of {} bytes",
            bytes.len()
        )));
    }
    Ok((block_at(bytes, 0)?, B256::from_slice(&bytes[8..])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    #[test]
    fn account_row_roundtrip() {
        let account = Account {
            nonce: 7,
            balance: U256::from(123_456_789u64),
            code_hash: b256!("0101010101010101010101010101010101010101010101010101010101010101"),
        };
        let row = AccountRow {
            account,
            storage_root: B256::repeat_byte(9),
        };
        assert_eq!(AccountRow::decode(&row.encode()).unwrap(), row);
        assert_eq!(
            AccountRow::decode_opt(&AccountRow::encode_opt(Some(&row))).unwrap(),
            Some(row)
        );
        assert_eq!(
            AccountRow::decode_opt(&AccountRow::encode_opt(None)).unwrap(),
            None
        );
    }

    #[test]
    fn bad_rows_are_errors() {
        assert!(matches!(
            AccountRow::decode(&[1, 2, 3]),
            Err(StateError::Corrupt(_))
        ));
        assert!(matches!(decode_head(&[0; 39]), Err(StateError::Corrupt(_))));
    }

    #[test]
    fn key_layouts() {
        let a = address!("00000000000000000000000000000000000000aa");
        let s = B256::repeat_byte(0x11);
        let key = storage_history_key(a, s, 0x0102);
        assert_eq!(&key[..20], a.as_slice());
        assert_eq!(&key[20..52], s.as_slice());
        assert_eq!(block_at(&key, 52).unwrap(), 0x0102);
        assert_eq!(block_at(&account_change_key(5, a), 0).unwrap(), 5);
        assert_eq!(slot_of(&slot_key(a, s)), s);
        assert_eq!(decode_head(&encode_head(3, s)).unwrap(), (3, s));
        assert!(block_at(&[0; 4], 0).is_err());
    }
}
