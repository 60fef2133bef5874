//! EIP-7610: creating a contract at an address with non-empty storage collides. revm only
//! checks the nonce and the code of the target, so this inspector intercepts such creates
//! and fails them as revm fails a collision: the caller's nonce is bumped, the target is
//! warmed and all gas given to the create is consumed.

use super::world::WorldState;
use alloy_primitives::{Bytes, keccak256};
use revm::{
    Inspector,
    context_interface::{JournalTr, journaled_state::account::JournaledAccountTr},
    handler::MainnetContext,
    interpreter::{
        CreateInputs, CreateOutcome, CreateScheme, Gas, InstructionResult, InterpreterResult,
    },
    primitives::constants::CALL_STACK_LIMIT,
};

/// The inspector that makes creates at storage-only addresses collide.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StorageCollision;

impl<'a> Inspector<MainnetContext<&'a mut WorldState>> for StorageCollision {
    fn create(
        &mut self,
        context: &mut MainnetContext<&'a mut WorldState>,
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
        if !journal.database.is_storage_only(&target) {
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
