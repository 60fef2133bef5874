//! EIP-7610: creating a contract at an address with non-empty storage collides. revm only
//! checks the nonce and the code of the target, so this inspector intercepts such creates
//! and fails them as revm fails a collision: the caller's nonce is bumped, the target is
//! warmed and all gas given to the create is consumed.

use super::world::WorldState;
use crate::parallel_evm::ViewDb;
use alloy_primitives::{Address, Bytes, keccak256};
use revm::{
    Inspector,
    context_interface::{JournalTr, journaled_state::account::JournaledAccountTr},
    handler::MainnetContext,
    interpreter::{
        CreateInputs, CreateOutcome, CreateScheme, Gas, InstructionResult, InterpreterResult,
    },
    primitives::constants::CALL_STACK_LIMIT,
};

/// A database that knows which accounts hold storage but neither code nor nonce.
pub(super) trait StorageOnly {
    /// True when creating a contract at `address` collides on its storage alone.
    fn is_storage_only(&mut self, address: &Address) -> bool;
}

impl StorageOnly for &mut WorldState {
    fn is_storage_only(&mut self, address: &Address) -> bool {
        WorldState::is_storage_only(self, address)
    }
}

impl StorageOnly for ViewDb<'_> {
    fn is_storage_only(&mut self, address: &Address) -> bool {
        ViewDb::is_storage_only(self, address)
    }
}

/// The inspector that makes creates at storage-only addresses collide.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StorageCollision;

impl<DB> Inspector<MainnetContext<DB>> for StorageCollision
where
    DB: revm::Database + StorageOnly,
{
    fn create(
        &mut self,
        context: &mut MainnetContext<DB>,
        inputs: &mut CreateInputs,
    ) -> Option<CreateOutcome> {
        let journal = &mut context.journaled_state;
        if journal.depth() as u64 > CALL_STACK_LIMIT {
            return None;
        }
        let caller = inputs.caller();
        let account = journal.load_account(caller).ok()?.data;
        if account.info.balance < inputs.value() {
            return None;
        }
        let nonce = account.info.nonce;
        let target = match inputs.scheme() {
            CreateScheme::Create => caller.create(nonce),
            CreateScheme::Create2 { salt } => {
                caller.create2(salt.to_be_bytes(), keccak256(inputs.init_code()))
            }
            CreateScheme::Custom { address } => address,
        };
        if !StorageOnly::is_storage_only(&mut journal.database, &target) {
            return None;
        }
        if !journal.load_account_mut(caller).ok()?.data.bump_nonce() {
            return None;
        }
        journal.load_account(target).ok()?;
        let gas = Gas::new_with_regular_gas_and_reservoir(inputs.gas_limit(), inputs.reservoir());
        let result = InterpreterResult::new(InstructionResult::CreateCollision, Bytes::new(), gas);
        Some(CreateOutcome::new(result, None))
    }
}
