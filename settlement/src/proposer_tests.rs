//! [`Proposer`] against [`LocalSettlement`], with a flaky client in front of it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    time::Duration,
};

use alloy_primitives::B256;
use tokio::sync::watch;

use crate::{
    L2Head, LocalSettlement, LocalSettlementParams, OutputRootV0, OutputSource, Proposal,
    ProposalReceipt, ProposedOutput, Proposer, ProposerTiming, SettlementClient, SettlementError,
    SettlementFuture, error::Result,
};

#[derive(Debug, Default)]
struct Source {
    safe: AtomicU64,
}

fn inputs(number: u64) -> OutputRootV0 {
    OutputRootV0 {
        state_root: B256::with_last_byte(number as u8),
        message_passer_storage_root: B256::repeat_byte(0x16),
        block_hash: B256::left_padding_from(&number.to_be_bytes()),
    }
}

impl OutputSource for Source {
    fn safe_head(&self) -> Result<u64> {
        Ok(self.safe.load(Ordering::SeqCst))
    }

    fn output_root_inputs(&self, number: u64) -> Result<Option<OutputRootV0>> {
        Ok(Some(inputs(number)))
    }
}

/// Answers `Unavailable` to the first `failures` proposals.
#[derive(Debug)]
struct Flaky {
    inner: LocalSettlement,
    failures: AtomicU32,
}

impl SettlementClient for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }

    fn latest_proposed_block(&self) -> SettlementFuture<'_, Option<u64>> {
        self.inner.latest_proposed_block()
    }

    fn next_block_number(&self) -> SettlementFuture<'_, u64> {
        self.inner.next_block_number()
    }

    fn propose(&self, proposal: Proposal) -> SettlementFuture<'_, ProposalReceipt> {
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Box::pin(async { Err(SettlementError::Unavailable("down".into())) });
        }
        self.inner.propose(proposal)
    }

    fn output_at(&self, l2_block_number: u64) -> SettlementFuture<'_, Option<ProposedOutput>> {
        self.inner.output_at(l2_block_number)
    }
}

const PARAMS: LocalSettlementParams = LocalSettlementParams {
    submission_interval: 2,
    starting_block_number: 0,
};

const FAST: ProposerTiming = ProposerTiming {
    poll: Duration::from_millis(2),
    backoff: Duration::from_millis(1),
    max_backoff: Duration::from_millis(4),
};

#[tokio::test]
async fn proposes_every_interval_once_safe_and_resumes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let source = Arc::new(Source::default());
    source.safe.store(5, Ordering::SeqCst);
    let local = LocalSettlement::open(&path, PARAMS, L2Head::at(100)).unwrap();
    let proposer = Proposer::new(Arc::new(local.clone()), source.clone(), FAST);
    assert_eq!(proposer.step().await.unwrap(), Some(2));
    assert_eq!(proposer.step().await.unwrap(), Some(4));
    assert_eq!(proposer.step().await.unwrap(), None, "6 is not safe yet");
    let output = local.output_at_blocking(4).unwrap().unwrap();
    assert_eq!(output.output_root, inputs(4).hash());
    drop((proposer, local));

    let local = LocalSettlement::open(&path, PARAMS, L2Head::at(100)).unwrap();
    let proposer = Proposer::new(Arc::new(local.clone()), source.clone(), FAST);
    source.safe.store(6, Ordering::SeqCst);
    assert_eq!(proposer.step().await.unwrap(), Some(6));
    assert_eq!(local.latest_proposed_block_blocking().unwrap(), Some(6));
}

#[tokio::test]
async fn unavailable_settlement_is_retried_without_skipping() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalSettlement::open(dir.path().join("s.redb"), PARAMS, L2Head::at(100)).unwrap();
    let flaky = Arc::new(Flaky {
        inner: local.clone(),
        failures: AtomicU32::new(5),
    });
    let source = Arc::new(Source::default());
    source.safe.store(8, Ordering::SeqCst);
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(Proposer::new(flaky.clone(), source, FAST).run(stop_rx));
    for _ in 0..500 {
        if local.latest_proposed_block_blocking().unwrap() == Some(8) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(flaky.failures.load(Ordering::SeqCst), 0);
    for block in [2, 4, 6, 8] {
        let output = local.output_at_blocking(block).unwrap().unwrap();
        assert_eq!(output.output_root, inputs(block).hash(), "block {block}");
    }
}
