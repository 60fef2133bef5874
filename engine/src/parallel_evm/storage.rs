//! [`ProviderStorage`]: the state before the block, as the Block-STM core reads it.

use super::values::{AccountValue, EvmKey, EvmValue};
use crate::{
    db::bytecode_from_raw,
    parallel::{Storage, StorageError},
};
use alloy_primitives::{B256, map::HashMap};
use altius_state::StateProvider;
use parking_lot::RwLock;
use revm::bytecode::Bytecode;

/// The state of a [`StateProvider`] as [`EvmKey`]s and [`EvmValue`]s (storage epoch 0).
///
/// Accounts and slots are read from the provider each time (its own cache is in front of the
/// database; re-executions are rare); code is kept once read and analysed, because every call
/// of a contract reads it.
pub(crate) struct ProviderStorage<'a> {
    provider: &'a dyn StateProvider,
    code: RwLock<HashMap<B256, Option<Bytecode>>>,
}

impl<'a> ProviderStorage<'a> {
    /// Reads `provider`.
    pub(crate) fn new(provider: &'a dyn StateProvider) -> Self {
        Self {
            provider,
            code: RwLock::default(),
        }
    }

    fn code(&self, hash: B256) -> Result<Option<Bytecode>, StorageError> {
        if let Some(code) = self.code.read().get(&hash) {
            return Ok(code.clone());
        }
        let code = self
            .provider
            .code_by_hash(hash)
            .map_err(StorageError::new)?
            .map(bytecode_from_raw);
        self.code.write().insert(hash, code.clone());
        Ok(code)
    }
}

impl Storage<EvmKey, EvmValue> for ProviderStorage<'_> {
    fn base(&self, key: &EvmKey) -> Result<Option<EvmValue>, StorageError> {
        Ok(match *key {
            EvmKey::Account(address) => Some(EvmValue::Account(AccountValue {
                info: self.provider.account(address).map_err(StorageError::new)?,
                epoch: 0,
            })),
            EvmKey::Storage(address, slot) => Some(EvmValue::Storage {
                value: self
                    .provider
                    .storage(address, slot)
                    .map_err(StorageError::new)?,
                epoch: 0,
            }),
            EvmKey::Code(hash) => self.code(hash)?.map(EvmValue::Code),
        })
    }
}
