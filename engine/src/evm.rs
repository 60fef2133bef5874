//! Building the op-revm EVM over a [`BlockDb`] and running one transaction on it.

use crate::{BlockEnv, ChainSpec, EngineError, EngineResult, db::BlockDb, db::DbError};
use alloy_primitives::U256;
use altius_state::{StateError, StateProvider};
use op_revm::{
    DefaultOp, L1BlockInfo, OpBuilder, OpContext, OpHaltReason, OpSpecId, OpTransaction,
    OpTransactionError, api::builder::DefaultOpEvm,
};
use revm::{
    Context, ExecuteEvm,
    context::{BlockEnv as RevmBlockEnv, CfgEnv, TxEnv},
    context_interface::{
        ContextTr,
        block::BlobExcessGasAndPrice,
        result::{EVMError, ExecResultAndState, ExecutionResult},
    },
    primitives::{eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE, hardfork::SpecId},
};

/// The EVM the engine runs: op-revm over a [`BlockDb`].
pub(crate) type Evm<'db, 'a> = DefaultOpEvm<OpContext<&'db mut BlockDb<'a>>>;

/// What running one transaction gave.
#[derive(Debug)]
pub(crate) enum TxRun {
    /// The transaction ran (successfully, reverted or halted).
    Executed(ExecutionResult<OpHaltReason>),
    /// The transaction is invalid on the current state and did not run.
    Invalid(OpTransactionError),
}

/// revm's block environment for `env`.
pub(crate) fn revm_block(chain: &ChainSpec, env: &BlockEnv) -> RevmBlockEnv {
    // OP blocks carry no blobs: excess blob gas is zero from Ecotone (Cancun) on.
    let cancun = chain
        .spec_id()
        .into_eth_spec()
        .is_enabled_in(SpecId::CANCUN);
    let blob = cancun.then(|| BlobExcessGasAndPrice::new(0, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE));
    RevmBlockEnv {
        number: U256::from(env.number),
        beneficiary: env.beneficiary,
        timestamp: U256::from(env.timestamp),
        gas_limit: env.gas_limit,
        basefee: env.base_fee,
        difficulty: U256::ZERO,
        prevrandao: Some(env.prevrandao),
        blob_excess_gas_and_price: blob,
        slot_num: 0,
    }
}

/// revm's configuration for `chain`, with every consensus check enabled.
pub(crate) fn revm_cfg(chain: &ChainSpec) -> CfgEnv<OpSpecId> {
    let mut cfg = CfgEnv::new_with_spec(chain.spec_id());
    cfg.chain_id = chain.chain_id;
    cfg
}

/// An EVM over `db` with the given configuration and block.
pub(crate) fn build_evm<'db, 'a>(
    cfg: CfgEnv<OpSpecId>,
    block: RevmBlockEnv,
    db: &'db mut BlockDb<'a>,
) -> Evm<'db, 'a> {
    Context::op()
        .with_cfg(cfg)
        .with_block(block)
        .with_db(db)
        .build_op()
}

/// The L1 fee parameters of a block: op-revm reads them from the `L1Block` predeploy before
/// the block's first transaction, from the state before the block.
pub(crate) fn l1_block_info(
    chain: &ChainSpec,
    state: &dyn StateProvider,
    env: &BlockEnv,
) -> EngineResult<L1BlockInfo> {
    let mut db = BlockDb::new(state, None);
    Ok(L1BlockInfo::try_fetch(
        &mut db,
        U256::from(env.number),
        chain.spec_id(),
    )?)
}

/// Runs `tx`; with `commit` its state changes go into the database.
pub(crate) fn run(
    evm: &mut Evm<'_, '_>,
    tx: OpTransaction<TxEnv>,
    commit: bool,
) -> EngineResult<TxRun> {
    match evm.transact(tx) {
        Ok(ExecResultAndState { result, state }) => {
            if commit {
                evm.0.ctx.db_mut().apply(&state)?;
            }
            Ok(TxRun::Executed(result))
        }
        Err(EVMError::Transaction(err)) => Ok(TxRun::Invalid(err)),
        Err(EVMError::Database(err)) => Err(err.into()),
        Err(other) => Err(EngineError::Evm(other.to_string())),
    }
}

impl From<DbError> for EngineError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::State(e) => Self::State(e),
            DbError::MissingCode(_) => Self::State(StateError::Corrupt(err.to_string())),
            DbError::BlockHash { .. } => Self::Evm(err.to_string()),
        }
    }
}
