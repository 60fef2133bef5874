//! [`ProviderStorage`]: the state before the block, as the Block-STM core reads it.

use super::values::{AccountValue, EvmKey, EvmValue};
use crate::{
    db::bytecode_from_raw,
    parallel::{Storage, StorageError},
};
use altius_state::StateProvider;

/// The state of a [`StateProvider`] as [`EvmKey`]s and [`EvmValue`]s (storage epoch 0).
pub(crate) struct ProviderStorage<'a> {
    provider: &'a dyn StateProvider,
}

impl<'a> ProviderStorage<'a> {
    /// Reads `provider`.
    pub(crate) fn new(provider: &'a dyn StateProvider) -> Self {
        Self { provider }
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
            EvmKey::Code(hash) => self
                .provider
                .code_by_hash(hash)
                .map_err(StorageError::new)?
                .map(|raw| EvmValue::Code(bytecode_from_raw(raw))),
        })
    }
}
