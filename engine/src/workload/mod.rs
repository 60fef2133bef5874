//! Blocks for benchmarks and tests: a workload of signed transactions over an in-memory
//! state, with our ERC20 and AMM contracts (`contracts/src`) where the workload needs them.
//!
//! | workload      | each transaction                                       | conflicts         |
//! |---------------|--------------------------------------------------------|-------------------|
//! | `raw`         | sends 1 wei from its own sender to a fresh address     | none              |
//! | `erc20`       | transfers 1 token unit to a fresh address              | none              |
//! | `amm`         | swaps on its own pool of two shared tokens             | none              |
//! | `hot-erc20`   | transfers 1 token unit to one shared recipient         | every pair        |
//! | `hot-amm`     | swaps on one shared pool                               | every pair        |
//! | `mixed-erc20` | as `erc20`, but every fourth to one shared recipient   | a quarter of them |
//! | `serial`      | increments one shared counter                          | each on the last  |
//!
//! Every transaction has its own sender and pays a priority fee, so the fee vaults receive
//! a payment from each.

mod contracts;
mod state;
mod wallet;

pub use contracts::{
    amm_init_code, amm_pool_storage, amm_swap, erc20_allowance_slot, erc20_balance_slot,
    erc20_init_code, erc20_total_supply_slot, erc20_transfer,
};
pub use state::MemoryState;
pub use wallet::Wallet;

use crate::{
    BlockEnv, ChainSpec, EngineError, EngineResult, ExecutionMode, Executor, Genesis, RecoveredTx,
    SequentialExecutor,
};
use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use altius_state::Account;
use op_alloy_consensus::OpTxEnvelope;
use rayon::prelude::*;

/// The base fee of workload blocks: 1 gwei.
pub const WORKLOAD_BASE_FEE: u64 = 1_000_000_000;
/// The priority fee every workload transaction pays.
pub const WORKLOAD_TIP: u128 = 1_000_000;
/// Token units every holder, and every pool reserve, starts with.
const FUNDS: u64 = 1_000_000_000_000_000_000;

/// What the transactions of a block do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Independent ETH transfers.
    Raw,
    /// Independent ERC20 transfers.
    Erc20,
    /// Independent swaps, one pool per sender.
    Amm,
    /// ERC20 transfers to one recipient.
    HotErc20,
    /// Swaps on one pool.
    HotAmm,
    /// Increments of one counter: each transaction depends on the one before.
    Serial,
    /// ERC20 transfers to fresh addresses, every fourth to one shared recipient.
    MixedErc20,
}

impl Workload {
    /// Every workload.
    pub const ALL: [Self; 7] = [
        Self::Raw,
        Self::Erc20,
        Self::Amm,
        Self::HotErc20,
        Self::HotAmm,
        Self::Serial,
        Self::MixedErc20,
    ];

    /// Its name on the command line.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Erc20 => "erc20",
            Self::Amm => "amm",
            Self::HotErc20 => "hot-erc20",
            Self::HotAmm => "hot-amm",
            Self::Serial => "serial",
            Self::MixedErc20 => "mixed-erc20",
        }
    }

    /// The workload called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The gas limit of its transactions.
    pub const fn gas_limit(&self) -> u64 {
        match self {
            Self::Raw => 21_000,
            Self::Erc20 | Self::HotErc20 | Self::MixedErc20 => 60_000,
            Self::Amm | Self::HotAmm => 150_000,
            Self::Serial => 50_000,
        }
    }

    /// About how many of its transactions make a block of 1 Ggas.
    pub const fn txs_per_ggas(&self) -> usize {
        match self {
            Self::Raw => 47_600,
            Self::Erc20 => 19_500,
            Self::HotErc20 => 29_200,
            Self::MixedErc20 => 21_300,
            Self::Amm | Self::HotAmm => 11_600,
            Self::Serial => 38_500,
        }
    }
}

/// A block ready to execute: the state before it, its environment and transactions.
#[derive(Clone, Debug)]
pub struct WorkloadBlock {
    /// The chain.
    pub chain: ChainSpec,
    /// The state before the block.
    pub state: MemoryState,
    /// The block's environment.
    pub env: BlockEnv,
    /// The transactions, in block order.
    pub txs: Vec<RecoveredTx>,
}

/// Contracts a workload runs against.
struct Deployed {
    token_a: Address,
    token_b: Address,
    amm: Address,
}

/// A block of `txs` transactions of `workload`.
///
/// # Errors
///
/// When setting up the contracts fails (a bug in this module or in the contracts).
pub fn generate(workload: Workload, txs: usize) -> EngineResult<WorkloadBlock> {
    let chain = ChainSpec::default();
    let deployer = Wallet::new(1);
    let senders: Vec<Wallet> = (0..txs)
        .into_par_iter()
        .map(|i| Wallet::new(1_000 + i as u64))
        .collect();
    let mut accounts: Vec<Address> = senders.iter().map(|w| w.address).collect();
    accounts.push(deployer.address);
    let mut state = MemoryState::from_genesis(&Genesis::dev(&accounts));
    let deployed = deploy(&chain, &mut state, &deployer)?;
    let counter = counter_address();
    install_code(&mut state, counter, &COUNTER_CODE);
    let built: Vec<RecoveredTx> = senders
        .par_iter()
        .enumerate()
        .map(|(i, sender)| {
            let (to, input) = call_of(workload, i, sender.address, &deployed, counter);
            let value = U256::from(u8::from(workload == Workload::Raw));
            sign(&chain, sender, 0, to, value, input, workload.gas_limit())
        })
        .collect::<EngineResult<_>>()?;
    fund(workload, &mut state, &senders, &deployed);
    let gas_limit = workload
        .gas_limit()
        .saturating_mul(txs as u64)
        .max(30_000_000);
    let env = BlockEnv {
        number: 2,
        timestamp: 1_700_000_004,
        gas_limit,
        base_fee: WORKLOAD_BASE_FEE,
        beneficiary: chain.fee_vaults().sequencer,
        prevrandao: B256::repeat_byte(7),
    };
    Ok(WorkloadBlock {
        chain,
        state,
        env,
        txs: built,
    })
}

/// `sload(0) + 1` into slot 0: `PUSH1 0 SLOAD PUSH1 1 ADD PUSH1 0 SSTORE STOP`.
pub const COUNTER_CODE: [u8; 10] = [0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00];

fn counter_address() -> Address {
    Address::repeat_byte(0xc0)
}

/// A distinct address for `tag` and `i`, nobody's key.
fn derived_address(tag: &str, i: usize) -> Address {
    let hash = keccak256([tag.as_bytes(), &(i as u64).to_be_bytes()].concat());
    Address::from_slice(&hash[12..])
}

/// Puts `code` at `address` as a contract with nonce 1.
fn install_code(state: &mut MemoryState, address: Address, code: &[u8]) {
    let hash = keccak256(code);
    state.code.insert(hash, Bytes::copy_from_slice(code));
    state.accounts.insert(
        address,
        Account {
            nonce: 1,
            balance: U256::ZERO,
            code_hash: hash,
        },
    );
}

/// Deploys token A, token B and an AMM of the two in block 1.
fn deploy(chain: &ChainSpec, state: &mut MemoryState, deployer: &Wallet) -> EngineResult<Deployed> {
    let token_a = deployer.address.create(0);
    let token_b = deployer.address.create(1);
    let codes = [
        erc20_init_code("Token A", "TKA"),
        erc20_init_code("Token B", "TKB"),
        amm_init_code(token_a, token_b),
    ];
    let txs = codes
        .into_iter()
        .enumerate()
        .map(|(nonce, code)| {
            let (value, gas) = (U256::ZERO, 5_000_000);
            sign(
                chain,
                deployer,
                nonce as u64,
                TxKind::Create,
                value,
                code,
                gas,
            )
        })
        .collect::<EngineResult<Vec<_>>>()?;
    let env = BlockEnv {
        number: 1,
        timestamp: 1_700_000_002,
        gas_limit: 30_000_000,
        base_fee: WORKLOAD_BASE_FEE,
        beneficiary: chain.fee_vaults().sequencer,
        prevrandao: B256::repeat_byte(7),
    };
    let out = SequentialExecutor::new(chain.clone()).execute_block(
        &*state,
        &env,
        txs,
        ExecutionMode::Validate,
    )?;
    if out.txs.iter().any(|tx| !tx.receipt.is_success()) {
        return Err(EngineError::Evm(
            "deploying the workload contracts failed".into(),
        ));
    }
    state.apply(&out.changes);
    Ok(Deployed {
        token_a,
        token_b,
        amm: deployer.address.create(2),
    })
}

/// The contract transaction `i` calls and its calldata.
fn call_of(
    workload: Workload,
    i: usize,
    sender: Address,
    deployed: &Deployed,
    counter: Address,
) -> (TxKind, Bytes) {
    let one = U256::from(1);
    match workload {
        Workload::Raw => (TxKind::Call(derived_address("to", i)), Bytes::new()),
        Workload::Erc20 => (
            TxKind::Call(deployed.token_a),
            erc20_transfer(derived_address("to", i), one),
        ),
        Workload::HotErc20 => (
            TxKind::Call(deployed.token_a),
            erc20_transfer(derived_address("to", 0), one),
        ),
        Workload::MixedErc20 => {
            let to = if i % 4 == 3 { 0 } else { i + 1 };
            (
                TxKind::Call(deployed.token_a),
                erc20_transfer(derived_address("to", to), one),
            )
        }
        Workload::Amm => (
            TxKind::Call(derived_address("pool", i)),
            amm_swap(deployed.token_a, U256::from(1_000_000u64), sender),
        ),
        Workload::HotAmm => (
            TxKind::Call(deployed.amm),
            amm_swap(deployed.token_a, U256::from(1_000_000u64), sender),
        ),
        Workload::Serial => (TxKind::Call(counter), Bytes::new()),
    }
}

/// Gives senders their tokens, allowances and pools.
fn fund(workload: Workload, state: &mut MemoryState, senders: &[Wallet], deployed: &Deployed) {
    let funds = U256::from(FUNDS);
    let mut set = |token: Address, slot: U256, value: U256| {
        state.storage.insert((token, slot), value);
    };
    let pools = senders.len() + 1;
    let supply = funds * U256::from(pools + senders.len());
    set(deployed.token_a, erc20_total_supply_slot(), supply);
    set(deployed.token_b, erc20_total_supply_slot(), supply);
    for (i, sender) in senders.iter().enumerate() {
        let sender = sender.address;
        set(deployed.token_a, erc20_balance_slot(sender), funds);
        let pool = match workload {
            Workload::Amm => derived_address("pool", i),
            _ => deployed.amm,
        };
        set(
            deployed.token_a,
            erc20_allowance_slot(sender, pool),
            U256::MAX,
        );
    }
    let pool_addresses: Vec<Address> = match workload {
        Workload::Amm => (0..senders.len())
            .map(|i| derived_address("pool", i))
            .collect(),
        _ => vec![deployed.amm],
    };
    for pool in &pool_addresses {
        set(deployed.token_a, erc20_balance_slot(*pool), funds);
        set(deployed.token_b, erc20_balance_slot(*pool), funds);
        for (slot, value) in amm_pool_storage(funds, funds, funds) {
            set(*pool, slot, value);
        }
    }
    if workload == Workload::Amm {
        let amm = state.accounts.get(&deployed.amm).copied();
        for pool in pool_addresses {
            if let Some(account) = amm {
                state.accounts.insert(pool, account);
            }
        }
    }
}

/// A signed EIP-1559 transaction of `wallet` paying [`WORKLOAD_TIP`].
fn sign(
    chain: &ChainSpec,
    wallet: &Wallet,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas_limit: u64,
) -> EngineResult<RecoveredTx> {
    let tx = TxEip1559 {
        chain_id: chain.chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: u128::from(WORKLOAD_BASE_FEE) * 2 + WORKLOAD_TIP,
        max_priority_fee_per_gas: WORKLOAD_TIP,
        to,
        value,
        access_list: Default::default(),
        input,
    };
    let tx = OpTxEnvelope::Eip1559(wallet.sign_tx(tx));
    // The sender is known: no need to recover it from the signature.
    let hash = tx.tx_hash();
    Ok(RecoveredTx {
        tx,
        sender: wallet.address,
        hash,
    })
}

#[cfg(test)]
mod tests;
