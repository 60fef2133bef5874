//! `eth_call` and `eth_estimateGas`: simulations on any retained block's state, with geth's
//! gas cap and state overrides.

use super::{
    block_id::{StateBlock, state_block},
    error::{RpcError, RpcResult, to_json},
    misc::quantity,
    params::Params,
};
use crate::node::Node;
use alloy_consensus::{Header, Sealed};
use alloy_eips::BlockId;
use altius_engine::{BlockEnv, CallRequest, EngineError, StateOverride};
use altius_state::StateProvider;
use serde_json::Value;

/// The block values a simulation on top of `header`'s state sees (geth's: the block itself).
fn block_env(header: &Header) -> BlockEnv {
    BlockEnv {
        number: header.number,
        timestamp: header.timestamp,
        gas_limit: header.gas_limit,
        base_fee: header.base_fee_per_gas.unwrap_or_default(),
        beneficiary: header.beneficiary,
        prevrandao: header.mix_hash,
    }
}

/// The state of `at` and its header, taken from the same snapshot for `latest`.
fn state_and_header(
    node: &Node,
    at: StateBlock,
) -> RpcResult<(Box<dyn StateProvider + '_>, Sealed<Header>)> {
    let (state, number): (Box<dyn StateProvider>, u64) = if at.latest {
        let state = node.state.latest()?;
        let number = state.head().map_or(at.number, |(n, _)| n);
        (Box::new(state), number)
    } else {
        (Box::new(node.state.at_block(at.number)?), at.number)
    };
    let header = node
        .store
        .header(number)?
        .ok_or_else(RpcError::header_not_found)?;
    Ok((state, header))
}

/// A decoded simulation request.
struct Simulation {
    request: CallRequest,
    at: StateBlock,
    overrides: Option<StateOverride>,
}

/// Decodes the request object. Clients such as alloy and cast send the call data as both
/// `input` and `data`: geth accepts that when both are equal, and so do we.
pub(crate) fn call_request(params: &Params) -> RpcResult<CallRequest> {
    let mut value: Value = params.required(0)?;
    if let Some(obj) = value.as_object_mut()
        && let (Some(input), Some(data)) = (obj.get("input"), obj.get("data"))
    {
        if input != data {
            return Err(RpcError::server(
                "both \"data\" and \"input\" are set and not equal. Please use \"input\" to \
                 pass transaction call data",
            ));
        }
        obj.remove("data");
    }
    serde_json::from_value(value)
        .map_err(|e| RpcError::invalid_params(format!("invalid argument 0: {e}")))
}

fn parse(node: &Node, params: &Params) -> RpcResult<Simulation> {
    let request = call_request(params)?;
    let at = state_block(node, params.optional::<BlockId>(1)?)?;
    let overrides: Option<StateOverride> = params.optional(2)?;
    Ok(Simulation {
        request,
        at,
        overrides,
    })
}

/// An engine error as geth answers it: reverts with code 3 and the revert data.
pub(crate) fn engine_error(e: EngineError) -> RpcError {
    match e {
        EngineError::Reverted { reason, data } => RpcError::reverted(reason.as_deref(), &data),
        EngineError::State(e) => e.into(),
        EngineError::Evm(_) | EngineError::Config(_) => RpcError::internal(e),
        other => RpcError::new(other.rpc_code(), other.to_string()),
    }
}

/// `eth_call(request, block, stateOverrides)`: the return data, or geth's error.
pub(crate) fn eth_call(node: &Node, params: &Params) -> RpcResult<Value> {
    let Simulation {
        mut request,
        at,
        overrides,
    } = parse(node, params)?;
    let cap = node.config.rpc.gas_cap;
    // geth: a missing gas limit is the RPC gas cap, a larger one is lowered to it.
    request.gas = Some(request.gas.map_or(cap, |g| g.min(cap)));
    let (state, header) = state_and_header(node, at)?;
    let outcome = altius_engine::call(
        &node.chain,
        &*state,
        &block_env(&header),
        &request,
        overrides.as_ref(),
    )
    .and_then(|o| o.into_result())
    .map_err(engine_error)?;
    to_json(outcome)
}

/// `eth_estimateGas(request, block, stateOverrides)`.
pub(crate) fn estimate_gas(node: &Node, params: &Params) -> RpcResult<Value> {
    let Simulation {
        mut request,
        at,
        overrides,
    } = parse(node, params)?;
    let (state, header) = state_and_header(node, at)?;
    let env = block_env(&header);
    let cap = node.config.rpc.gas_cap;
    // geth: the search starts at the request's gas or the block gas limit, at most the cap.
    request.gas = match request.gas {
        Some(g) if g > cap => Some(cap),
        None if env.gas_limit > cap => Some(cap),
        other => other,
    };
    let gas = altius_engine::estimate_gas(&node.chain, &*state, &env, &request, overrides.as_ref())
        .map_err(engine_error)?;
    Ok(quantity(gas))
}
