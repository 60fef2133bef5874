//! `eth_call`: running a call on a block's state without a signed transaction and without
//! keeping any of its changes, with geth's semantics and state overrides.

use crate::{
    BlockEnv, ChainSpec, EngineError, EngineResult,
    db::BlockDb,
    evm::{Evm, TxRun, build_evm, revm_block, revm_cfg, run},
    messages::{self, TxFacts},
    quantity,
};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{Address, B256, Bytes, Log, TxKind, U256};
use altius_state::StateProvider;
use op_revm::{OpHaltReason, OpTransaction, OpTransactionError};
use revm::context::{TxEnv, result::ExecutionResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::estimate::estimate_gas;

/// The most gas a call or estimation runs with, unless the block gas limit is higher:
/// geth's default `--rpc.gascap`. It bounds the memory a call can make the EVM allocate.
pub const RPC_GAS_CAP: u64 = 50_000_000;

/// The gas limit for a request's `gas`: the block gas limit when missing, and never more
/// than [`RPC_GAS_CAP`] or the block gas limit, whichever is higher.
pub(crate) fn capped_gas(gas: Option<u64>, env: &BlockEnv) -> u64 {
    gas.unwrap_or(env.gas_limit)
        .min(RPC_GAS_CAP.max(env.gas_limit))
}

/// The transaction-like request of `eth_call` and `eth_estimateGas`; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CallRequest {
    /// Sender; the zero address when missing.
    pub from: Option<Address>,
    /// Callee; `None` creates a contract with `input` as init code.
    pub to: Option<Address>,
    /// Gas limit; the block gas limit when missing.
    #[serde(with = "quantity::opt_u64")]
    pub gas: Option<u64>,
    /// Legacy gas price.
    #[serde(with = "quantity::opt_u128")]
    pub gas_price: Option<u128>,
    /// EIP-1559 fee cap.
    #[serde(with = "quantity::opt_u128")]
    pub max_fee_per_gas: Option<u128>,
    /// EIP-1559 tip cap.
    #[serde(with = "quantity::opt_u128")]
    pub max_priority_fee_per_gas: Option<u128>,
    /// Value in wei.
    pub value: Option<U256>,
    /// Call data (`data` is accepted as well).
    #[serde(alias = "data")]
    pub input: Option<Bytes>,
    /// Nonce; not checked (geth's `eth_call` skips the nonce check).
    #[serde(with = "quantity::opt_u64")]
    pub nonce: Option<u64>,
    /// EIP-2930 access list.
    pub access_list: Option<AccessList>,
}

/// geth's state override of one account for `eth_call` / `eth_estimateGas`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountOverride {
    /// Replaces the balance.
    pub balance: Option<U256>,
    /// Replaces the nonce.
    #[serde(with = "quantity::opt_u64")]
    pub nonce: Option<u64>,
    /// Replaces the code.
    pub code: Option<Bytes>,
    /// Replaces the whole storage: slots not listed read zero.
    pub state: Option<BTreeMap<B256, B256>>,
    /// Replaces the listed slots, keeping the others.
    pub state_diff: Option<BTreeMap<B256, B256>>,
}

/// State overrides by account, as `eth_call`'s third parameter.
pub type StateOverride = BTreeMap<Address, AccountOverride>;

/// What a call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallOutcome {
    /// True when the call neither reverted nor halted.
    pub success: bool,
    /// Return data, or the revert data of a revert.
    pub output: Bytes,
    /// Gas used (after refunds, as a receipt would say).
    pub gas_used: u64,
    /// Logs emitted (empty unless successful).
    pub logs: Vec<Log>,
    /// The decoded `Error(string)` (or `Panic(uint256)`) of a revert.
    pub revert_reason: Option<String>,
    /// geth's text of the EVM error a halted call stopped with (`invalid opcode: INVALID`, ...).
    pub halt: Option<String>,
}

impl CallOutcome {
    /// geth's `eth_call` answer: the output, or the error of a revert or halt.
    pub fn into_result(self) -> EngineResult<Bytes> {
        if self.success {
            return Ok(self.output);
        }
        if let Some(halt) = self.halt {
            return Err(EngineError::Halted(halt));
        }
        Err(EngineError::Reverted {
            reason: self.revert_reason,
            data: self.output,
        })
    }
}

/// Runs `req` on `state` in block `env` like geth's `eth_call`, returning what it did.
///
/// geth's rules: a missing gas limit is the block gas limit (a given one may exceed it, up
/// to [`RPC_GAS_CAP`]); a missing sender is the zero address; the nonce is not checked and
/// contract senders are allowed. Without any gas price the price is zero, the block base
/// fee reads zero and the fee cap check is off, so only `value` must be covered by the
/// balance; with a price, the balance must cover `gas * price + value`. No L1 data fee is
/// charged. Errors carry geth's messages (`insufficient funds for gas * price + value: ...`,
/// `intrinsic gas too low: ...`).
pub fn call(
    chain: &ChainSpec,
    state: &dyn StateProvider,
    env: &BlockEnv,
    req: &CallRequest,
    overrides: Option<&StateOverride>,
) -> EngineResult<CallOutcome> {
    let mut sim = Simulation::new(chain, state, env, req, overrides)?;
    let gas = capped_gas(req.gas, env);
    let (db, template) = sim.parts();
    let mut evm = template.evm(db);
    match template.execute(&mut evm, gas)? {
        TxRun::Executed(result) => Ok(outcome(result)),
        TxRun::Invalid(err) => Err(template.invalid(&err)),
    }
}

/// The fee fields of a request, resolved the way geth does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fees {
    /// EIP-2718 type of the simulated transaction.
    tx_type: u8,
    /// Fee cap (the gas price of legacy requests).
    pub(crate) fee_cap: u128,
    /// Tip cap (EIP-1559 requests).
    tip_cap: Option<u128>,
}

impl Fees {
    /// Resolves the request's fees; `gasPrice` cannot be combined with EIP-1559 fields.
    fn from_request(req: &CallRequest) -> EngineResult<Self> {
        let eip1559 = req.max_fee_per_gas.is_some() || req.max_priority_fee_per_gas.is_some();
        match (req.gas_price, eip1559) {
            (Some(_), true) => Err(EngineError::InvalidParams(
                "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified".into(),
            )),
            (Some(price), false) => {
                let tx_type = if req.access_list.is_some() { 1 } else { 0 };
                Ok(Self {
                    tx_type,
                    fee_cap: price,
                    tip_cap: None,
                })
            }
            (None, _) => Ok(Self {
                tx_type: 2,
                fee_cap: req.max_fee_per_gas.unwrap_or_default(),
                tip_cap: Some(req.max_priority_fee_per_gas.unwrap_or_default()),
            }),
        }
    }

    /// True when the request pays nothing for gas (geth then ignores the base fee).
    fn is_free(&self) -> bool {
        self.fee_cap == 0 && self.tip_cap.unwrap_or_default() == 0
    }
}

/// A request prepared for execution: its database with the overrides applied, and the
/// EVM settings and transaction template every run uses.
pub(crate) struct Simulation<'a> {
    db: BlockDb<'a>,
    template: CallTemplate,
}

/// Everything but the gas limit of the simulated transaction.
pub(crate) struct CallTemplate {
    cfg: revm::context::CfgEnv<op_revm::OpSpecId>,
    block: revm::context::BlockEnv,
    tx: OpTransaction<TxEnv>,
    facts: TxFacts,
    /// The resolved fees.
    pub(crate) fees: Fees,
}

impl<'a> Simulation<'a> {
    /// Prepares `req` on `state` at `env` with `overrides`.
    pub(crate) fn new(
        chain: &ChainSpec,
        state: &'a dyn StateProvider,
        env: &BlockEnv,
        req: &CallRequest,
        overrides: Option<&StateOverride>,
    ) -> EngineResult<Self> {
        let mut db = BlockDb::new(state, None);
        if let Some(overrides) = overrides {
            apply_overrides(&mut db, overrides)?;
        }
        let fees = Fees::from_request(req)?;
        let from = req.from.unwrap_or_default();
        let nonce = match req.nonce {
            Some(nonce) => nonce,
            None => db.account(from)?.map_or(0, |a| a.nonce),
        };
        let template = CallTemplate {
            cfg: sim_cfg(chain, fees.is_free()),
            block: sim_block(chain, env, fees.is_free()),
            tx: call_tx(chain, req, &fees, from, nonce),
            facts: TxFacts {
                sender: from,
                max_fee_per_gas: fees.fee_cap,
                max_priority_fee_per_gas: fees.tip_cap.unwrap_or(fees.fee_cap),
                base_fee: if fees.is_free() { 0 } else { env.base_fee },
            },
            fees,
        };
        Ok(Self { db, template })
    }

    /// The database and the template, borrowed separately.
    pub(crate) fn parts(&mut self) -> (&mut BlockDb<'a>, &CallTemplate) {
        (&mut self.db, &self.template)
    }
}

impl CallTemplate {
    /// Runs the call with `gas`.
    pub(crate) fn execute(&self, evm: &mut Evm<'_, '_>, gas: u64) -> EngineResult<TxRun> {
        let mut tx = self.tx.clone();
        tx.base.gas_limit = gas;
        run(evm, tx, false)
    }

    /// The error of a call that is invalid on the state, in geth's words.
    pub(crate) fn invalid(&self, err: &OpTransactionError) -> EngineError {
        EngineError::InvalidTransaction(messages::invalid_tx_message(err, &self.facts))
    }

    /// An EVM for this template over `db`.
    pub(crate) fn evm<'db, 'a>(&self, db: &'db mut BlockDb<'a>) -> Evm<'db, 'a> {
        build_evm(self.cfg.clone(), self.block.clone(), db)
    }
}

/// Applies geth's state overrides.
fn apply_overrides(db: &mut BlockDb<'_>, overrides: &StateOverride) -> EngineResult<()> {
    for (address, o) in overrides {
        let address = *address;
        if o.state.is_some() && o.state_diff.is_some() {
            return Err(EngineError::InvalidParams(format!(
                "account {address} has both 'state' and 'stateDiff'"
            )));
        }
        if let Some(balance) = o.balance {
            db.set_balance(address, balance)?;
        }
        if let Some(nonce) = o.nonce {
            db.set_nonce(address, nonce)?;
        }
        if let Some(code) = &o.code {
            db.set_code(address, code.clone())?;
        }
        if let Some(state) = &o.state {
            db.clear_storage(address)?;
            set_slots(db, address, state)?;
        }
        if let Some(diff) = &o.state_diff {
            set_slots(db, address, diff)?;
        }
    }
    Ok(())
}

/// Writes override slots.
fn set_slots(
    db: &mut BlockDb<'_>,
    address: Address,
    slots: &BTreeMap<B256, B256>,
) -> EngineResult<()> {
    for (slot, value) in slots {
        db.set_storage(address, (*slot).into(), (*value).into())?;
    }
    Ok(())
}

/// revm configuration for calls: geth's `eth_call` checks switched off.
fn sim_cfg(chain: &ChainSpec, free: bool) -> revm::context::CfgEnv<op_revm::OpSpecId> {
    let mut cfg = revm_cfg(chain);
    cfg.disable_nonce_check = true;
    cfg.disable_eip3607 = true;
    cfg.disable_block_gas_limit = true;
    cfg.disable_base_fee = free;
    cfg
}

/// The block of a call: base fee zero when the call pays nothing, as geth does.
fn sim_block(chain: &ChainSpec, env: &BlockEnv, free: bool) -> revm::context::BlockEnv {
    let mut block = revm_block(chain, env);
    if free {
        block.basefee = 0;
    }
    block
}

/// The op-revm transaction of a request (gas limit set per run). Its enveloped bytes are
/// empty, so op-revm charges no L1 data fee and no operator fee.
fn call_tx(
    chain: &ChainSpec,
    req: &CallRequest,
    fees: &Fees,
    from: Address,
    nonce: u64,
) -> OpTransaction<TxEnv> {
    let base = TxEnv {
        tx_type: fees.tx_type,
        caller: from,
        gas_limit: 0,
        gas_price: fees.fee_cap,
        kind: req.to.map_or(TxKind::Create, TxKind::Call),
        value: req.value.unwrap_or_default(),
        data: req.input.clone().unwrap_or_default(),
        nonce,
        chain_id: Some(chain.chain_id),
        access_list: req.access_list.clone().unwrap_or_default(),
        gas_priority_fee: fees.tip_cap,
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list: Vec::new(),
    };
    let mut tx = OpTransaction::new(base);
    tx.enveloped_tx = Some(Bytes::new());
    tx
}

/// The outcome of an executed call.
pub(crate) fn outcome(result: ExecutionResult<OpHaltReason>) -> CallOutcome {
    let gas_used = result.tx_gas_used();
    match result {
        ExecutionResult::Success { logs, output, .. } => CallOutcome {
            success: true,
            output: output.into_data(),
            gas_used,
            logs,
            ..Default::default()
        },
        ExecutionResult::Revert { output, .. } => CallOutcome {
            revert_reason: messages::decode_revert_reason(&output),
            output,
            gas_used,
            ..Default::default()
        },
        ExecutionResult::Halt { reason, .. } => CallOutcome {
            halt: Some(messages::halt_message(&reason)),
            gas_used,
            ..Default::default()
        },
    }
}

#[cfg(test)]
#[path = "simulate_tests.rs"]
mod tests;
