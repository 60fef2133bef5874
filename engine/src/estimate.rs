//! `eth_estimateGas`: geth's binary search for the least gas limit a call succeeds with.

use crate::{
    BlockEnv, CallRequest, ChainSpec, EngineError, EngineResult, StateOverride,
    evm::{Evm, TxRun},
    messages,
    simulate::{CallTemplate, Simulation, capped_gas},
};
use alloy_primitives::{KECCAK256_EMPTY, U256};
use altius_state::StateProvider;
use op_revm::{OpHaltReason, OpTransactionError};
use revm::context::result::{ExecutionResult, HaltReason, InvalidTransaction};

/// Gas of a plain value transfer.
const TX_GAS: u64 = 21_000;
/// Gas stipend of a value-carrying call (geth adds it to its first guess).
const CALL_STIPEND: u64 = 2_300;

/// Estimates the gas `req` needs on `state` in block `env`, like geth's `eth_estimateGas`.
///
/// The search runs between the intrinsic gas and a cap: the request's gas (when at least
/// 21,000; at most [`crate::RPC_GAS_CAP`] or the block gas limit, whichever is higher) or
/// else the block gas limit, lowered to what the sender's balance can pay when the request
/// has a fee cap. Errors, in geth's words: `insufficient funds for transfer`
/// when `value` exceeds the balance, `execution reverted[: reason]` with the revert data
/// when the call reverts at the cap, `gas required exceeds allowance (cap)` when it runs
/// out of gas at the cap, and the EVM error when it halts otherwise.
pub fn estimate_gas(
    chain: &ChainSpec,
    state: &dyn StateProvider,
    env: &BlockEnv,
    req: &CallRequest,
    overrides: Option<&StateOverride>,
) -> EngineResult<u64> {
    let mut sim = Simulation::new(chain, state, env, req, overrides)?;
    let (db, template) = sim.parts();
    let hi = gas_cap(db, template, env, req)?;
    let is_plain_transfer = match req.to {
        Some(to) if req.input.as_ref().is_none_or(|i| i.is_empty()) => db
            .account(to)?
            .is_none_or(|a| a.code_hash == KECCAK256_EMPTY),
        _ => false,
    };
    let mut search = Search {
        evm: template.evm(db),
        template,
    };
    if is_plain_transfer && hi >= TX_GAS && search.trial(TX_GAS)?.is_success() {
        return Ok(TX_GAS);
    }
    search.run(hi)
}

/// The highest gas limit to try.
fn gas_cap(
    db: &mut crate::db::BlockDb<'_>,
    template: &CallTemplate,
    env: &BlockEnv,
    req: &CallRequest,
) -> EngineResult<u64> {
    let cap = match req.gas {
        Some(gas) if gas >= TX_GAS => capped_gas(Some(gas), env),
        _ => env.gas_limit,
    };
    let fee_cap = template.fees.fee_cap;
    if fee_cap == 0 {
        return Ok(cap);
    }
    let balance = db
        .account(req.from.unwrap_or_default())?
        .map(|a| a.balance)
        .unwrap_or_default();
    let value = req.value.unwrap_or_default();
    if value > balance {
        return Err(EngineError::InvalidTransaction(
            messages::INSUFFICIENT_FUNDS_FOR_TRANSFER.into(),
        ));
    }
    let allowance = (balance - value) / U256::from(fee_cap);
    Ok(cap.min(u64::try_from(allowance).unwrap_or(u64::MAX)))
}

/// The result of one trial run.
enum Trial {
    /// The call ran with this result.
    Ran(ExecutionResult<OpHaltReason>),
    /// The gas limit is below the intrinsic gas or the calldata floor.
    TooLittleGas,
}

impl Trial {
    /// True when the call succeeded.
    fn is_success(&self) -> bool {
        matches!(self, Self::Ran(result) if result.is_success())
    }
}

/// The binary search over one EVM.
struct Search<'t, 'db, 'a> {
    evm: Evm<'db, 'a>,
    template: &'t CallTemplate,
}

impl Search<'_, '_, '_> {
    /// Runs the call with `gas`; transaction errors other than too little gas are returned.
    fn trial(&mut self, gas: u64) -> EngineResult<Trial> {
        match self.template.execute(&mut self.evm, gas)? {
            TxRun::Executed(result) => Ok(Trial::Ran(result)),
            TxRun::Invalid(err) if is_gas_too_low(&err) => Ok(Trial::TooLittleGas),
            TxRun::Invalid(err) => Err(self.template.invalid(&err)),
        }
    }

    /// geth's search below the cap `hi`.
    fn run(&mut self, mut hi: u64) -> EngineResult<u64> {
        let result = match self.trial(hi)? {
            Trial::Ran(result) if result.is_success() => result,
            trial => return Err(failure_at_cap(trial, hi)),
        };
        let used = result.tx_gas_used();
        let mut lo = used.saturating_sub(1);
        let refunded = result.gas().inner_refunded();
        let optimistic = used
            .saturating_add(refunded)
            .saturating_add(CALL_STIPEND)
            .saturating_mul(64)
            / 63;
        if optimistic < hi {
            if self.trial(optimistic)?.is_success() {
                hi = optimistic;
            } else {
                lo = optimistic;
            }
        }
        while lo.saturating_add(1) < hi {
            let mid = (lo + (hi - lo) / 2).min(lo.saturating_mul(2)).max(lo + 1);
            if self.trial(mid)?.is_success() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}

/// True when the gas limit is below the intrinsic gas or the calldata floor.
fn is_gas_too_low(err: &OpTransactionError) -> bool {
    matches!(
        err,
        OpTransactionError::Base(
            InvalidTransaction::CallGasCostMoreThanGasLimit { .. }
                | InvalidTransaction::GasFloorMoreThanGasLimit { .. }
        )
    )
}

/// geth's error for a call that fails with the highest gas limit.
fn failure_at_cap(trial: Trial, cap: u64) -> EngineError {
    match trial {
        Trial::Ran(ExecutionResult::Revert { output, .. }) => EngineError::Reverted {
            reason: messages::decode_revert_reason(&output),
            data: output,
        },
        Trial::Ran(ExecutionResult::Halt { reason, .. })
            if !matches!(reason, OpHaltReason::Base(HaltReason::OutOfGas(_))) =>
        {
            EngineError::Halted(messages::halt_message(&reason))
        }
        _ => EngineError::GasRequiredExceedsAllowance(cap),
    }
}
