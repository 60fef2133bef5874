//! Handlers that run a transaction exactly as revm's mainnet or op-revm's handler do, except
//! that the fee payments at the end are collected as deltas instead of being applied to the
//! recipients' balances (which would make every transaction read and write them), and the
//! intrinsic gas is priced with the EVM's own gas table (see [`initial_tx_gas`]).

use super::initial_gas::initial_tx_gas;
use alloy_primitives::{Address, U256};
use op_revm::{
    OpTransactionError,
    api::exec::OpContextTr,
    constants::{BASE_FEE_RECIPIENT, L1_FEE_RECIPIENT, OPERATOR_FEE_RECIPIENT},
    handler::{IsTxError, OpHandler},
    transaction::{OpTxTr, deposit::DEPOSIT_TRANSACTION_TYPE},
};
use revm::{
    context_interface::{
        Block, Cfg, ContextTr, JournalTr, Transaction,
        result::{ExecutionResult, FromStringError, HaltReason, ResultGas},
    },
    handler::{EthFrame, EvmTr, FrameResult, Handler, evm::FrameTr, handler::EvmTrError},
    inspector::{Inspector, InspectorEvmTr, InspectorHandler},
    interpreter::{Gas, InitialAndFloorGas, interpreter::EthInterpreter},
    primitives::hardfork::SpecId,
    state::EvmState,
};
use std::{cell::RefCell, marker::PhantomData};

/// The fee payments of one transaction: recipient and amount, in payment order.
#[derive(Debug, Default)]
pub(crate) struct FeeCollector(RefCell<Vec<(Address, U256)>>);

impl FeeCollector {
    fn pay(&self, recipient: Address, amount: U256) {
        self.0.borrow_mut().push((recipient, amount));
    }

    /// The payments collected so far; the collector is left empty.
    pub(crate) fn take(&self) -> Vec<(Address, U256)> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// The beneficiary's share, as revm's `post_execution::reward_beneficiary` computes it.
fn beneficiary_fee<CTX: ContextTr>(ctx: &CTX, gas: &Gas) -> (Address, U256) {
    let basefee = ctx.block().basefee() as u128;
    let effective_gas_price = ctx.tx().effective_gas_price(basefee);
    let london = ctx.cfg().spec().into().is_enabled_in(SpecId::LONDON);
    let coinbase_gas_price = if london {
        effective_gas_price.saturating_sub(basefee)
    } else {
        effective_gas_price
    };
    // Gas held in the EIP-8037 reservoir is unused and reimbursed.
    let used = gas.used().saturating_sub(gas.reservoir());
    let amount = coinbase_gas_price.wrapping_mul(used as u128);
    (ctx.block().beneficiary(), U256::from(amount))
}

/// revm's mainnet handler with deferred fee payments.
#[derive(Debug)]
pub(crate) struct MainnetDeferredFees<EVM, ERROR> {
    /// The payments of the last transaction run.
    pub(crate) fees: FeeCollector,
    _types: PhantomData<(EVM, ERROR)>,
}

impl<EVM, ERROR> Default for MainnetDeferredFees<EVM, ERROR> {
    fn default() -> Self {
        Self {
            fees: FeeCollector::default(),
            _types: PhantomData,
        }
    }
}

impl<EVM, ERROR> Handler for MainnetDeferredFees<EVM, ERROR>
where
    EVM: EvmTr<
            Context: ContextTr<Journal: JournalTr<State = EvmState>>,
            Frame = EthFrame<EthInterpreter>,
        >,
    ERROR: EvmTrError<EVM>,
{
    type Evm = EVM;
    type Error = ERROR;
    type HaltReason = HaltReason;

    fn validate_initial_tx_gas(&self, evm: &mut EVM) -> Result<InitialAndFloorGas, ERROR> {
        Ok(initial_tx_gas(evm.ctx_ref())?)
    }

    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut <<Self::Evm as EvmTr>::Frame as FrameTr>::FrameResult,
    ) -> Result<(), Self::Error> {
        let (recipient, amount) = beneficiary_fee(evm.ctx(), exec_result.gas());
        self.fees.pay(recipient, amount);
        Ok(())
    }
}

impl<EVM, ERROR> InspectorHandler for MainnetDeferredFees<EVM, ERROR>
where
    EVM: InspectorEvmTr<
            Context: ContextTr<Journal: JournalTr<State = EvmState>>,
            Frame = EthFrame<EthInterpreter>,
            Inspector: Inspector<<<Self as Handler>::Evm as EvmTr>::Context, EthInterpreter>,
        >,
    ERROR: EvmTrError<EVM>,
{
    type IT = EthInterpreter;
}

/// op-revm's handler with deferred fee payments: the sequencer vault's tip, the base fee
/// vault, the L1 fee vault and the operator fee vault.
#[derive(Debug)]
pub(crate) struct OpDeferredFees<EVM, ERROR> {
    inner: OpHandler<EVM, ERROR, EthFrame<EthInterpreter>>,
    /// The payments of the last transaction run.
    pub(crate) fees: FeeCollector,
}

impl<EVM, ERROR> Default for OpDeferredFees<EVM, ERROR> {
    fn default() -> Self {
        Self {
            inner: OpHandler::new(),
            fees: FeeCollector::default(),
        }
    }
}

type OpFrameResult = FrameResult;

impl<EVM, ERROR> Handler for OpDeferredFees<EVM, ERROR>
where
    EVM: EvmTr<Context: OpContextTr, Frame = EthFrame<EthInterpreter>>,
    ERROR: EvmTrError<EVM> + From<OpTransactionError> + FromStringError + IsTxError,
{
    type Evm = EVM;
    type Error = ERROR;
    type HaltReason = op_revm::OpHaltReason;

    fn validate_env(&self, evm: &mut EVM) -> Result<(), ERROR> {
        self.inner.validate_env(evm)
    }

    fn validate_initial_tx_gas(&self, evm: &mut EVM) -> Result<InitialAndFloorGas, ERROR> {
        Ok(initial_tx_gas(evm.ctx_ref())?)
    }

    fn validate_against_state_and_deduct_caller(
        &self,
        evm: &mut EVM,
        init_and_floor_gas: &mut InitialAndFloorGas,
    ) -> Result<(), ERROR> {
        self.inner
            .validate_against_state_and_deduct_caller(evm, init_and_floor_gas)
    }

    fn last_frame_result(
        &mut self,
        evm: &mut EVM,
        frame_result: &mut OpFrameResult,
    ) -> Result<(), ERROR> {
        self.inner.last_frame_result(evm, frame_result)
    }

    fn reimburse_caller(
        &self,
        evm: &mut EVM,
        frame_result: &mut OpFrameResult,
    ) -> Result<(), ERROR> {
        self.inner.reimburse_caller(evm, frame_result)
    }

    fn refund(&self, evm: &mut EVM, frame_result: &mut OpFrameResult, eip7702_refund: i64) {
        self.inner.refund(evm, frame_result, eip7702_refund);
    }

    fn reward_beneficiary(
        &self,
        evm: &mut EVM,
        frame_result: &mut OpFrameResult,
    ) -> Result<(), ERROR> {
        if evm.ctx().tx().tx_type() == DEPOSIT_TRANSACTION_TYPE {
            return Ok(());
        }
        let gas = *frame_result.gas();
        let (recipient, tip) = beneficiary_fee(evm.ctx(), &gas);
        self.fees.pay(recipient, tip);
        let basefee = evm.ctx().block().basefee() as u128;
        let (_, tx, cfg, _, l1_block_info, _) = evm.ctx().all_mut();
        let spec = cfg.spec();
        let Some(enveloped_tx) = tx.enveloped_tx() else {
            return Err(OpTransactionError::MissingEnvelopedTx.into());
        };
        let l1_cost = l1_block_info.calculate_tx_l1_cost(enveloped_tx, spec);
        let used = gas.used().saturating_sub(gas.reservoir());
        let operator_fee = if spec.is_enabled_in(op_revm::OpSpecId::ISTHMUS) {
            l1_block_info.operator_fee_charge(enveloped_tx, U256::from(used), spec)
        } else {
            U256::ZERO
        };
        let base_fee = U256::from(basefee.saturating_mul(used as u128));
        self.fees.pay(L1_FEE_RECIPIENT, l1_cost);
        self.fees.pay(BASE_FEE_RECIPIENT, base_fee);
        self.fees.pay(OPERATOR_FEE_RECIPIENT, operator_fee);
        Ok(())
    }

    fn execution_result(
        &mut self,
        evm: &mut EVM,
        frame_result: OpFrameResult,
        result_gas: ResultGas,
    ) -> Result<ExecutionResult<Self::HaltReason>, ERROR> {
        self.inner.execution_result(evm, frame_result, result_gas)
    }

    fn catch_error(
        &self,
        evm: &mut EVM,
        error: ERROR,
    ) -> Result<ExecutionResult<Self::HaltReason>, ERROR> {
        self.inner.catch_error(evm, error)
    }
}

impl<EVM, ERROR> InspectorHandler for OpDeferredFees<EVM, ERROR>
where
    EVM: InspectorEvmTr<
            Context: OpContextTr,
            Frame = EthFrame<EthInterpreter>,
            Inspector: Inspector<<<Self as Handler>::Evm as EvmTr>::Context, EthInterpreter>,
        >,
    ERROR: EvmTrError<EVM> + From<OpTransactionError> + FromStringError + IsTxError,
{
    type IT = EthInterpreter;
}
