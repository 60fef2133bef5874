//! Helpers shared by the unit tests: an in-memory state, signing wallets, transactions.

use crate::{BlockEnv, Genesis, RecoveredTx, recover};
use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use op_alloy_consensus::OpTxEnvelope;

/// The chain id the tests sign for.
pub(crate) const CHAIN_ID: u64 = 901_337;
/// The base fee of the test blocks: 1 gwei.
pub(crate) const BASE_FEE: u64 = 1_000_000_000;

pub(crate) use crate::workload::{MemoryState as MemState, Wallet};

/// An EIP-1559 transaction paying `BASE_FEE + tip`.
pub(crate) fn eip1559(
    wallet: &Wallet,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
) -> RecoveredTx {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: u128::from(BASE_FEE) * 2,
        max_priority_fee_per_gas: u128::from(TIP),
        to,
        value,
        access_list: Default::default(),
        input,
    };
    recover(OpTxEnvelope::Eip1559(wallet.sign_tx(tx))).expect("signed")
}

/// A legacy transfer envelope.
pub(crate) fn legacy_transfer(
    wallet: &Wallet,
    nonce: u64,
    to: Address,
    value: U256,
    chain_id: u64,
) -> OpTxEnvelope {
    let tx = TxLegacy {
        chain_id: Some(chain_id),
        nonce,
        gas_price: u128::from(BASE_FEE) + 7,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value,
        input: Bytes::new(),
    };
    OpTxEnvelope::Legacy(wallet.sign_tx(tx))
}

/// The block environment of the test blocks.
pub(crate) fn block_env(number: u64) -> BlockEnv {
    BlockEnv {
        number,
        timestamp: 1_700_000_000 + number * 2,
        gas_limit: 30_000_000,
        base_fee: BASE_FEE,
        beneficiary: crate::FeeVaults::OP_STACK.sequencer,
        prevrandao: B256::repeat_byte(7),
    }
}

/// Init code that deploys `runtime` (at most 255 bytes).
pub(crate) fn deploy_code(runtime: &[u8]) -> Bytes {
    let len = u8::try_from(runtime.len()).expect("short runtime");
    // PUSH1 len DUP1 PUSH1 11 PUSH1 0 CODECOPY PUSH1 0 RETURN: copies the 11-byte header's
    // trailer (the runtime) to memory and returns it.
    let mut code = vec![
        0x60, len, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3,
    ];
    code.extend_from_slice(runtime);
    code.into()
}

/// Alice (key 1) and Bob (key 2), funded with 10,000 ETH each.
pub(crate) fn alice_bob() -> (Wallet, Wallet) {
    (Wallet::new(1), Wallet::new(2))
}

/// The dev genesis state for Alice and Bob plus `extra` accounts.
pub(crate) fn dev_state(extra: &[(Address, crate::GenesisAccount)]) -> MemState {
    let (alice, bob) = alice_bob();
    let mut genesis = Genesis::dev(&[alice.address, bob.address]);
    genesis.alloc.extend(extra.iter().cloned());
    MemState::from_genesis(&genesis)
}

/// A genesis account holding `code` and `storage`.
pub(crate) fn contract(code: &[u8], storage: &[(u64, u64)]) -> crate::GenesisAccount {
    crate::GenesisAccount {
        code: Bytes::copy_from_slice(code),
        storage: storage
            .iter()
            .map(|(k, v)| (U256::from(*k), U256::from(*v)))
            .collect(),
        ..Default::default()
    }
}

/// A 32-byte big-endian word holding `n`.
pub(crate) fn word(n: u64) -> Bytes {
    Bytes::copy_from_slice(&U256::from(n).to_be_bytes::<32>())
}

/// Runtime: `LOG1(mem[0..32] = 42, topic 0xaa)`, then `sstore(0, calldata[0..32])`.
pub(crate) const LOG_AND_STORE: [u8; 19] = [
    0x60, 0x2a, 0x60, 0x00, 0x52, // mstore(0, 42)
    0x60, 0xaa, 0x60, 0x20, 0x60, 0x00, 0xa1, // log1(0, 32, 0xaa)
    0x60, 0x00, 0x35, 0x60, 0x00, 0x55, // sstore(0, calldataload(0))
    0x00, // stop
];

/// Runtime: returns `calldata[0..32] + 1`.
pub(crate) const ADD_ONE: [u8; 14] = [
    0x60, 0x00, 0x35, 0x60, 0x01, 0x01, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
];

/// Runtime: returns storage slot 0.
pub(crate) const READ_SLOT0: [u8; 11] = [
    0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
];

/// Runtime: `selfdestruct(beneficiary)`.
pub(crate) fn selfdestruct_to(beneficiary: Address) -> Vec<u8> {
    let mut code = vec![0x73];
    code.extend_from_slice(beneficiary.as_slice());
    code.push(0xff);
    code
}

/// Runtime that reverts with `Error(reason)`.
pub(crate) fn revert_with(reason: &str) -> Vec<u8> {
    let mut data = vec![0x08, 0xc3, 0x79, 0xa0];
    data.extend_from_slice(&U256::from(32).to_be_bytes::<32>());
    data.extend_from_slice(&U256::from(reason.len()).to_be_bytes::<32>());
    let mut padded = reason.as_bytes().to_vec();
    padded.resize(reason.len().div_ceil(32) * 32, 0);
    data.extend_from_slice(&padded);
    let len = u8::try_from(data.len()).expect("short reason");
    // PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 REVERT, then the data.
    let mut code = vec![
        0x60, len, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xfd,
    ];
    code.extend_from_slice(&data);
    code
}

/// The priority fee of the test transactions.
pub(crate) const TIP: u64 = 1_000;
/// 10^18 wei.
pub(crate) const ONE_ETH: u64 = 1_000_000_000_000_000_000;

/// A sequential executor for the default chain.
pub(crate) fn executor() -> crate::SequentialExecutor {
    crate::SequentialExecutor::new(crate::ChainSpec::default())
}

/// Builds block 1 on `state` with `txs`.
pub(crate) fn build(state: &MemState, txs: Vec<RecoveredTx>) -> crate::BlockExecution {
    use crate::Executor;
    executor()
        .execute_block(state, &block_env(1), txs, crate::ExecutionMode::Build)
        .unwrap()
}

/// A plain EIP-1559 transfer.
pub(crate) fn transfer(from: &Wallet, nonce: u64, to: Address, value: u64) -> RecoveredTx {
    eip1559(
        from,
        nonce,
        TxKind::Call(to),
        U256::from(value),
        Bytes::new(),
        21_000,
    )
}

/// A small deterministic generator (xorshift64*) for randomized tests; seeded with a
/// non-zero state.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
