//! Randomized differential test: conflict-heavy blocks built by the parallel engine on 1 to
//! 8 threads give exactly what the sequential executor gives (receipts, gas, logs, rejected
//! transactions, state changes).

use super::*;
use crate::{
    SequentialExecutor,
    sequential_reference::execute_with_revm_fees,
    test_utils::{
        LOG_AND_STORE, Rng, TIP, block_env, deploy_code, eip1559, revert_with, selfdestruct_to,
        word,
    },
    workload::{self, MemoryState, Wallet, Workload, amm_swap, erc20_transfer},
};
use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, Bytes, TxKind, U256, address};

const SENDERS: usize = 6;
const REVERTER: Address = address!("0x00000000000000000000000000000000000e0001");
const VAULT_READER: Address = address!("0x00000000000000000000000000000000000e0002");
const LOGGER: Address = address!("0x00000000000000000000000000000000000e0003");

/// The state: `SENDERS` funded senders holding token A, one shared AMM pool and counter
/// (from the `hot-amm` workload), plus a reverting contract, a contract storing the
/// sequencer vault's balance and a logging contract.
fn world() -> (MemoryState, Vec<Wallet>, Address, Address) {
    let block = workload::generate(Workload::HotAmm, SENDERS).expect("workload");
    let mut state = block.state;
    let vault = ChainSpec::default().fee_vaults().sequencer;
    let mut reader = vec![0x73];
    reader.extend_from_slice(vault.as_slice());
    reader.extend_from_slice(&[0x31, 0x60, 0x00, 0x55, 0x00]);
    for (address, code) in [
        (REVERTER, revert_with("no")),
        (VAULT_READER, reader),
        (LOGGER, LOG_AND_STORE.to_vec()),
    ] {
        let hash = alloy_primitives::keccak256(&code);
        state.code.insert(hash, code.into());
        let account = altius_state::Account {
            nonce: 1,
            balance: U256::ZERO,
            code_hash: hash,
        };
        state.accounts.insert(address, account);
    }
    let wallets = (0..SENDERS)
        .map(|i| Wallet::new(1_000 + i as u64))
        .collect();
    let amm = block.txs[0].tx.to().expect("a call");
    let token_a = Wallet::new(1).address.create(0);
    (state, wallets, amm, token_a)
}

/// One random transaction of `sender`.
fn random_tx(
    rng: &mut Rng,
    wallets: &[Wallet],
    nonces: &mut [u64],
    amm: Address,
    token: Address,
) -> RecoveredTx {
    let s = rng.below(SENDERS as u64) as usize;
    let sender = &wallets[s];
    let other = wallets[rng.below(SENDERS as u64) as usize].address;
    let mut nonce = nonces[s];
    match rng.below(20) {
        0 => nonce += 1,
        1 => nonce = nonce.saturating_sub(1),
        _ => {}
    }
    let (to, value, input, gas) = match rng.below(10) {
        0 => (
            TxKind::Call(other),
            U256::from(rng.below(1000)),
            Bytes::new(),
            21_000,
        ),
        1 => {
            let vault = ChainSpec::default().fee_vaults().sequencer;
            (TxKind::Call(vault), U256::from(7), Bytes::new(), 60_000)
        }
        2 => (
            TxKind::Call(token),
            U256::ZERO,
            erc20_transfer(other, U256::from(rng.below(50))),
            80_000,
        ),
        3 => {
            let amount = U256::from(1 + rng.below(1_000_000));
            (
                TxKind::Call(amm),
                U256::ZERO,
                amm_swap(token, amount, sender.address),
                200_000,
            )
        }
        4 => (
            TxKind::Call(Address::repeat_byte(0xc0)),
            U256::ZERO,
            Bytes::new(),
            60_000,
        ),
        5 => (
            TxKind::Create,
            U256::from(3),
            deploy_code(&LOG_AND_STORE),
            200_000,
        ),
        6 => (
            TxKind::Create,
            U256::from(5),
            selfdestruct_to(other).into(),
            100_000,
        ),
        7 => (TxKind::Call(REVERTER), U256::ZERO, Bytes::new(), 60_000),
        8 => (TxKind::Call(VAULT_READER), U256::ZERO, Bytes::new(), 60_000),
        _ => (TxKind::Call(LOGGER), U256::ZERO, word(rng.below(3)), 60_000),
    };
    let value = if rng.below(40) == 0 {
        U256::from(10u128.pow(30))
    } else {
        value
    };
    let tx = eip1559(sender, nonce, to, value, input, gas);
    if nonce == nonces[s] && value < U256::from(10u128.pow(30)) {
        nonces[s] += 1;
    }
    tx
}

fn random_block(
    seed: u64,
    world: &(MemoryState, Vec<Wallet>, Address, Address),
) -> (BlockEnv, Vec<RecoveredTx>) {
    let (_, wallets, amm, token) = world;
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut nonces = vec![0u64; SENDERS];
    let count = 2 + rng.below(40) as usize;
    let txs = (0..count)
        .map(|_| random_tx(&mut rng, wallets, &mut nonces, *amm, *token))
        .collect();
    let mut env = block_env(2);
    if rng.below(4) == 0 {
        // A small block: transactions are left out for gas, the executor runs in rounds.
        env.gas_limit = 300_000 + rng.below(1_000_000);
    }
    (env, txs)
}

/// What the checked blocks held: parallel runs, rejected transactions, failed ones,
/// contracts created.
#[derive(Debug, Default)]
struct Coverage {
    runs: usize,
    rejected: usize,
    failed: usize,
    created: usize,
    /// Runs that ended with optimistic chunks, and those where a chunk ran again.
    chunk_runs: usize,
    chunks_again: usize,
    /// Chunks split off by idle threads.
    chunks_split: usize,
    /// Block-STM re-executions done as SSA redos (how many depends on timing).
    redos: u64,
    /// Transactions of logged chunks that did not hold, kept by their repair.
    kept: u64,
}

fn check_blocks(seeds: std::ops::Range<u64>) -> Coverage {
    let world = world();
    let sequential = SequentialExecutor::new(ChainSpec::default());
    let mut seen = Coverage::default();
    for seed in seeds {
        let (env, txs) = random_block(seed, &world);
        let expected = sequential
            .execute_block(&world.0, &env, txs.clone(), ExecutionMode::Build)
            .unwrap();
        // The executors pay fees outside revm's journal; revm paying them gives the same.
        let chain = ChainSpec::default();
        let reference =
            execute_with_revm_fees(&chain, &world.0, &env, txs.clone(), ExecutionMode::Build)
                .unwrap();
        assert_eq!(expected, reference, "seed {seed}: revm's fee payments");
        seen.rejected += expected.rejected.len();
        seen.failed += expected
            .txs
            .iter()
            .filter(|t| !t.receipt.is_success())
            .count();
        seen.created += expected
            .txs
            .iter()
            .filter(|t| t.contract_address.is_some())
            .count();
        for threads in 1..=8 {
            let probe = 2 + (seed as usize + threads) % 12;
            // A policy that gives up on conflicts early, so that blocks switch to in-order.
            let config = ExecutionConfig {
                threads,
                min_parallel_txs: 2,
                fallback: Some(crate::parallel::FallbackPolicy {
                    min_executions: 2,
                    max_conflicts_per_mille: 100,
                }),
                tx_writes: false,
            };
            let mut parallel = ParallelExecutor::new(ChainSpec::default(), threads)
                .with_probe_txs(probe)
                .with_min_split(2)
                .with_config(config);
            // After the probe: in order, optimistic chunks (checked, and run again when a
            // conflict shows), logged chunks (repaired when a conflict shows), Block-STM, or
            // as the probe decides.
            match seed % 5 {
                0 => parallel = parallel.with_rest_in_order(),
                1 => parallel = parallel.with_chunks(),
                2 => parallel = parallel.with_block_stm(),
                3 => parallel = parallel.with_logged_chunks(),
                _ => {}
            }
            // Block-STM redoes from SSA logs: recorded as the node does, or always.
            if threads % 2 == 0 {
                parallel = parallel.with_ssa_always();
            }
            let (got, stats) = parallel
                .execute_with_stats(&world.0, &env, txs.clone(), ExecutionMode::Build)
                .unwrap();
            assert_eq!(got, expected, "seed {seed}, {threads} threads");
            seen.runs += 1;
            seen.redos += stats.redos;
            seen.kept += stats.kept;
            if stats.strategy == Strategy::OptimisticChunks {
                seen.chunk_runs += 1;
                seen.chunks_again += usize::from(stats.aborts > 0);
                seen.chunks_split += stats.splits as usize;
            }
        }
    }
    seen
}

/// What the sequential executor builds from a workload's block.
fn sequential_result(block: &workload::WorkloadBlock) -> BlockExecution {
    SequentialExecutor::new(block.chain.clone())
        .execute_block(
            &block.state,
            &block.env,
            block.txs.clone(),
            ExecutionMode::Build,
        )
        .unwrap()
}

#[test]
fn random_conflicting_blocks_equal_sequential() {
    let seen = check_blocks(0..150);
    assert_eq!(seen.runs, 150 * 8);
    // The blocks hold what they are meant to exercise.
    assert!(
        seen.rejected > 100
            && seen.failed > 100
            && seen.created > 100
            && seen.chunks_again > 50
            && seen.chunks_split > 50,
        "{seen:?}"
    );
}

/// The long run: `ALTIUS_SOAK_BLOCKS=100000 cargo test -p altius-engine --release soak --
/// --ignored --nocapture`.
#[test]
#[ignore = "soak: run by hand"]
fn soak_random_conflicting_blocks() {
    let blocks = std::env::var("ALTIUS_SOAK_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000u64);
    let seen = check_blocks(1_000..1_000 + blocks);
    println!("soak: {blocks} blocks, {seen:?}: every parallel run equal to sequential");
}

/// A dependent block (every transaction increments one counter) gives the sequential
/// result: the probe sees it and the rest runs in order; forced onto Block-STM or chunks
/// after the probe, the result is the same.
#[test]
fn a_dependent_block_equals_sequential() {
    let block = workload::generate(Workload::Serial, 600).unwrap();
    let env = &block.env;
    let expected = sequential_result(&block);
    let executor = ParallelExecutor::new(block.chain.clone(), 2);
    let (got, stats) = executor
        .execute_with_stats(&block.state, env, block.txs.clone(), ExecutionMode::Build)
        .unwrap();
    assert_eq!(got, expected);
    assert_eq!(stats.in_order_executions, 600, "{stats:?}");
    // The probe: as many transactions as fit in its gas (50), all but the first dependent.
    let probe = (PROBE_GAS / Workload::Serial.gas_limit()) as usize;
    assert_eq!(probe, PROBE_TXS.min(probe).max(MIN_PROBE_TXS));
    assert_eq!(stats.dependent_txs, probe as u64 - 1, "{stats:?}");
    for forced in [
        executor.clone().with_block_stm(),
        executor.clone().with_logged_chunks(),
        executor.with_chunks(),
    ] {
        let (got, _) = forced
            .execute_with_stats(&block.state, env, block.txs.clone(), ExecutionMode::Build)
            .unwrap();
        assert_eq!(got, expected);
    }
}

#[test]
fn the_tip_is_paid_to_the_vault_that_a_later_transaction_reads() {
    let world = world();
    let (state, wallets, ..) = &world;
    let txs: Vec<_> = (0..SENDERS)
        .map(|i| {
            let to = if i == SENDERS - 1 {
                VAULT_READER
            } else {
                wallets[(i + 1) % SENDERS].address
            };
            eip1559(
                &wallets[i],
                0,
                TxKind::Call(to),
                U256::ZERO,
                Bytes::new(),
                60_000,
            )
        })
        .collect();
    let env = block_env(2);
    let expected = SequentialExecutor::new(ChainSpec::default())
        .execute_block(state, &env, txs.clone(), ExecutionMode::Build)
        .unwrap();
    let got = ParallelExecutor::new(ChainSpec::default(), 4)
        .execute_block(state, &env, txs, ExecutionMode::Build)
        .unwrap();
    assert_eq!(got, expected);
    let stored = &got.changes.accounts[&VAULT_READER].storage[&U256::ZERO];
    let vault = ChainSpec::default().fee_vaults().sequencer;
    let before = state.balance(vault);
    let tips: u64 = got.txs[..SENDERS - 1]
        .iter()
        .map(|t| t.gas_used * TIP)
        .sum();
    assert_eq!(*stored, before + U256::from(tips));
}

/// Blocks without conflicts (the benchmark's workloads, small) run as optimistic chunks
/// after the probe, every chunk taken as it is, with the sequential result; a hot block
/// gives it too, whatever path it takes.
#[test]
fn workload_blocks_run_as_chunks_with_the_sequential_result() {
    for (workload, chunks) in [
        (Workload::Raw, true),
        (Workload::Erc20, true),
        (Workload::Amm, true),
        (Workload::HotErc20, false),
    ] {
        let block = workload::generate(workload, 400).unwrap();
        let expected = sequential_result(&block);
        let reference = execute_with_revm_fees(
            &block.chain,
            &block.state,
            &block.env,
            block.txs.clone(),
            ExecutionMode::Build,
        )
        .unwrap();
        assert_eq!(expected, reference, "{workload:?}: revm's fee payments");
        for threads in [2, 3] {
            let executor = ParallelExecutor::new(block.chain.clone(), threads).with_probe_txs(16);
            let (got, stats) = executor
                .execute_with_stats(
                    &block.state,
                    &block.env,
                    block.txs.clone(),
                    ExecutionMode::Build,
                )
                .unwrap();
            assert_eq!(got, expected, "{workload:?} on {threads} threads");
            if chunks {
                assert_eq!(
                    stats.strategy,
                    Strategy::OptimisticChunks,
                    "{workload:?}: {stats:?}"
                );
                assert_eq!(stats.aborts, 0, "{workload:?}: {stats:?}");
            }
        }
    }
}

/// Mostly independent blocks (the ERC20 workload's transfers, one sender each) with a few
/// dependencies put in at random places: a transfer to a sender whose own transaction comes
/// later, a sender's second transaction, a payment to the sequencer vault (whose fees the
/// chunks keep aside), a read of that vault's balance. Chunks, forced or chosen by the
/// probe, give the sequential result; chunks are taken as they are in some blocks and run
/// again in others.
#[test]
fn mostly_independent_blocks_equal_sequential() {
    const TXS: usize = 90;
    let mut block = workload::generate(Workload::Erc20, TXS).unwrap();
    let (world_state, ..) = world();
    block
        .state
        .accounts
        .insert(VAULT_READER, world_state.accounts[&VAULT_READER]);
    let reader_code = world_state.accounts[&VAULT_READER].code_hash;
    block
        .state
        .code
        .insert(reader_code, world_state.code[&reader_code].clone());
    let wallets: Vec<Wallet> = (0..TXS).map(|i| Wallet::new(1_000 + i as u64)).collect();
    let vault = block.chain.fee_vaults().sequencer;
    let sequential = SequentialExecutor::new(block.chain.clone());
    let (mut taken, mut again, mut kept) = (0, 0, 0);
    for seed in 0..60u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut txs = block.txs.clone();
        for _ in 0..rng.below(3) {
            let i = rng.below(TXS as u64) as usize;
            let j = rng.below(TXS as u64) as usize;
            let call = |to, value, gas| (TxKind::Call(to), U256::from(value), Bytes::new(), gas);
            let (to, value, input, gas) = match rng.below(4) {
                0 => call(wallets[j].address, 1_000, 21_000),
                1 => call(vault, 5, 60_000),
                2 => call(VAULT_READER, 0, 60_000),
                _ => {
                    // Sender `i`'s second transaction, where `j`'s was.
                    txs[j] = eip1559(
                        &wallets[i],
                        1,
                        TxKind::Call(vault),
                        U256::from(1),
                        Bytes::new(),
                        60_000,
                    );
                    continue;
                }
            };
            txs[i] = eip1559(&wallets[i], 0, to, value, input, gas);
        }
        let expected = sequential
            .execute_block(&block.state, &block.env, txs.clone(), ExecutionMode::Build)
            .unwrap();
        for threads in [2, 3, 4] {
            let mut executor =
                ParallelExecutor::new(block.chain.clone(), threads).with_probe_txs(8);
            match seed % 3 {
                0 => executor = executor.with_chunks(),
                1 => executor = executor.with_logged_chunks(),
                _ => {}
            }
            let (got, stats) = executor
                .execute_with_stats(&block.state, &block.env, txs.clone(), ExecutionMode::Build)
                .unwrap();
            assert_eq!(got, expected, "seed {seed}, {threads} threads");
            kept += stats.kept;
            if stats.strategy == Strategy::OptimisticChunks {
                if stats.aborts == 0 {
                    taken += 1;
                } else {
                    again += 1;
                }
            }
        }
    }
    assert!(
        taken > 20 && again > 20 && kept > 100,
        "taken {taken}, again {again}, kept {kept}"
    );
}

/// Blocks in which every fourth transfer goes to one holder, and hot blocks, run as logged
/// chunks (as the probe chooses for the first, forced for the others), give the sequential
/// result; a chunk after the first, which read the holder's balance before the first chunk
/// changed it, is repaired: its transfers to others are kept, only those to the holder and
/// those after them that read what these changed run again.
#[test]
fn logged_chunks_that_do_not_hold_are_repaired_with_the_sequential_result() {
    for workload in [Workload::MixedErc20, Workload::HotErc20, Workload::HotAmm] {
        let block = workload::generate(workload, 400).unwrap();
        let txs = || block.txs.clone();
        let expected = sequential_result(&block);
        for threads in [2, 3] {
            let executor = ParallelExecutor::new(block.chain.clone(), threads);
            let executor = match workload {
                Workload::MixedErc20 => executor,
                _ => executor.with_logged_chunks(),
            };
            let (got, stats) = executor
                .execute_with_stats(&block.state, &block.env, txs(), ExecutionMode::Build)
                .unwrap();
            assert_eq!(got, expected, "{workload:?}, {threads} threads");
            assert_eq!(stats.strategy, Strategy::OptimisticChunks, "{stats:?}");
            assert!(stats.aborts > 0, "{workload:?}: {stats:?}");
            if workload == Workload::MixedErc20 {
                // Three in four transfers of the repaired chunks are kept.
                assert!(stats.kept > 100, "{stats:?}");
                assert!(stats.in_order_executions < 300, "{stats:?}");
            }
        }
    }
}

/// On a pool of one thread, the first chunk's thread, which checks the others' chunks as
/// they come, runs the others itself while it waits for them (rather than waiting forever).
#[test]
fn logged_chunks_complete_on_a_pool_of_one_thread() {
    let block = workload::generate(Workload::MixedErc20, 400).unwrap();
    let expected = sequential_result(&block);
    let (sender, receiver) = std::sync::mpsc::channel();
    let txs = block.txs.clone();
    // On a thread of its own, so that a wait that never ends fails the test.
    std::thread::spawn(move || {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let executed = pool.install(|| {
            ParallelExecutor::new(block.chain.clone(), 2)
                .execute_with_stats(&block.state, &block.env, txs, ExecutionMode::Build)
                .unwrap()
        });
        let _ = sender.send(executed);
    });
    let (got, stats) = receiver
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the block completes");
    assert_eq!(got, expected);
    assert!(stats.kept > 100, "{stats:?}");
}

/// Hot blocks (every transfer to one holder, every swap on one pool) forced onto Block-STM,
/// with every execution recording its SSA log, give the sequential result with the redo and
/// without it. (How many transactions are redone depends on timing: the redo's own result
/// is checked in `parallel_evm::op_vm_tests`.)
#[test]
fn hot_blocks_on_block_stm_are_redone_with_the_sequential_result() {
    for workload in [Workload::HotErc20, Workload::HotAmm] {
        let block = workload::generate(workload, 300).unwrap();
        let txs = || block.txs.clone();
        let expected = sequential_result(&block);
        for threads in [2, 4] {
            for redo in [true, false] {
                let config = ExecutionConfig {
                    fallback: None,
                    ..ExecutionConfig::with_threads(threads)
                };
                let executor = ParallelExecutor::new(block.chain.clone(), threads)
                    .with_config(config)
                    .with_probe_txs(2)
                    .with_block_stm();
                let executor = if redo {
                    executor.with_ssa_always()
                } else {
                    executor.with_ssa_redo(false)
                };
                let (got, stats) = executor
                    .execute_with_stats(&block.state, &block.env, txs(), ExecutionMode::Build)
                    .unwrap();
                assert_eq!(
                    got, expected,
                    "{workload:?}, {threads} threads, redo {redo}"
                );
                if !redo {
                    assert_eq!(stats.redos, 0, "{workload:?}: {stats:?}");
                }
            }
        }
    }
}
