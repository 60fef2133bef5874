use super::*;
use crate::ParallelExecutor;

/// Transactions of each workload's block.
const TXS: usize = 100;

/// Every workload's transactions succeed, and the parallel engine gives the sequential
/// result on each (its chunks keep the shared tokens as layers: see `db::layers`).
#[test]
fn workloads_succeed_and_parallel_equals_sequential() {
    for workload in Workload::ALL {
        let block = generate(workload, TXS).unwrap();
        let sequential = SequentialExecutor::new(block.chain.clone())
            .execute_block(
                &block.state,
                &block.env,
                block.txs.clone(),
                ExecutionMode::Validate,
            )
            .unwrap();
        assert_eq!(sequential.txs.len(), TXS, "{}", workload.name());
        for tx in &block.txs {
            assert_eq!(crate::recover(tx.tx.clone()).unwrap(), *tx);
        }
        for tx in &sequential.txs {
            assert!(
                tx.receipt.is_success(),
                "{}: a transaction failed",
                workload.name()
            );
            assert!(tx.gas_used <= workload.gas_limit());
        }
        for threads in [1, 2, 4] {
            // A short probe, and chunks split small: the block's rounds run as chunks, which
            // share the workload's tokens.
            let parallel = ParallelExecutor::new(block.chain.clone(), threads)
                .with_probe_txs(8)
                .with_min_split(2)
                .execute_block(
                    &block.state,
                    &block.env,
                    block.txs.clone(),
                    ExecutionMode::Validate,
                )
                .unwrap();
            assert_eq!(
                parallel,
                sequential,
                "{} on {threads} threads",
                workload.name()
            );
        }
    }
}
