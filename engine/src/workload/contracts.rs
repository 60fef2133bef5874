//! Our ERC20 and AMM contracts (`contracts/src`), their storage layout and calls.

use alloy_primitives::{Address, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolValue, sol};
use serde::Deserialize;
use std::sync::LazyLock;

sol! {
    function transfer(address to, uint256 amount) external returns (bool);
    function swap(address tokenIn, uint256 amountIn, uint256 minOut, address to)
        external returns (uint256 amountOut);
}

#[derive(Deserialize)]
struct Artifact {
    bytecode: Bytes,
}

fn creation_code(json: &str) -> Bytes {
    serde_json::from_str::<Artifact>(json)
        .map(|a| a.bytecode)
        .unwrap_or_default()
}

static ERC20_CREATION: LazyLock<Bytes> =
    LazyLock::new(|| creation_code(include_str!("../../../contracts/artifacts/ERC20.json")));
static AMM_CREATION: LazyLock<Bytes> =
    LazyLock::new(|| creation_code(include_str!("../../../contracts/artifacts/Amm.json")));

/// Storage slots of `ERC20` (`contracts/src/ERC20.sol`).
const ERC20_TOTAL_SUPPLY_SLOT: u64 = 2;
const ERC20_BALANCES_SLOT: u64 = 3;
const ERC20_ALLOWANCES_SLOT: u64 = 4;
/// Storage slots of `Amm` (`contracts/src/Amm.sol`).
const AMM_RESERVES_SLOT: u64 = 0;
const AMM_TOTAL_SUPPLY_SLOT: u64 = 1;
const AMM_UNLOCKED_SLOT: u64 = 3;

/// The slot of `mapping[key]` for a mapping at `slot`.
fn mapping_slot(key: Address, slot: U256) -> U256 {
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(key.as_slice());
    preimage[32..].copy_from_slice(&slot.to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(preimage).0)
}

/// Init code deploying an `ERC20` named `name` whose minter is the deployer.
pub fn erc20_init_code(name: &str, symbol: &str) -> Bytes {
    let args = (name.to_string(), symbol.to_string()).abi_encode_params();
    [ERC20_CREATION.as_ref(), &args].concat().into()
}

/// Init code deploying an `Amm` pair of `token0` and `token1`.
pub fn amm_init_code(token0: Address, token1: Address) -> Bytes {
    let args = (token0, token1).abi_encode_params();
    [AMM_CREATION.as_ref(), &args].concat().into()
}

/// The ERC20 slot of `owner`'s balance.
pub fn erc20_balance_slot(owner: Address) -> U256 {
    mapping_slot(owner, U256::from(ERC20_BALANCES_SLOT))
}

/// The ERC20 slot of what `spender` may take from `owner`.
pub fn erc20_allowance_slot(owner: Address, spender: Address) -> U256 {
    let inner = mapping_slot(owner, U256::from(ERC20_ALLOWANCES_SLOT));
    mapping_slot(spender, inner)
}

/// The ERC20 total supply slot.
pub fn erc20_total_supply_slot() -> U256 {
    U256::from(ERC20_TOTAL_SUPPLY_SLOT)
}

/// The storage of a funded `Amm` pool holding `reserve0` and `reserve1` (below 2^112).
pub fn amm_pool_storage(reserve0: U256, reserve1: U256, supply: U256) -> [(U256, U256); 3] {
    let packed = reserve0 | (reserve1 << 112);
    [
        (U256::from(AMM_RESERVES_SLOT), packed),
        (U256::from(AMM_TOTAL_SUPPLY_SLOT), supply),
        (U256::from(AMM_UNLOCKED_SLOT), U256::from(1)),
    ]
}

/// Calldata of `ERC20.transfer(to, amount)`.
pub fn erc20_transfer(to: Address, amount: U256) -> Bytes {
    transferCall { to, amount }.abi_encode().into()
}

/// Calldata of `Amm.swap(token_in, amount_in, 0, to)`.
pub fn amm_swap(token_in: Address, amount_in: U256, to: Address) -> Bytes {
    swapCall {
        tokenIn: token_in,
        amountIn: amount_in,
        minOut: U256::ZERO,
        to,
    }
    .abi_encode()
    .into()
}
