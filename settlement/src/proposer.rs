//! [`Proposer`]: proposes the output root of every `submission_interval`-th L2 block once
//! that block is safe.

use std::{fmt, sync::Arc, time::Duration};

use alloy_primitives::B256;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::{OutputRootV0, Proposal, SettlementClient, SettlementError, error::Result};

/// What the proposer reads from the node (implemented by the sequencer).
pub trait OutputSource: Send + Sync {
    /// The newest `safe` L2 block number.
    fn safe_head(&self) -> Result<u64>;

    /// The output root preimage of L2 block `number`, or `None` if the block is unknown.
    fn output_root_inputs(&self, number: u64) -> Result<Option<OutputRootV0>>;
}

/// Timing of the proposer loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposerTiming {
    /// How often the loop checks for a new proposable block.
    pub poll: Duration,
    /// First delay after a failed proposal; doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest delay between retries.
    pub max_backoff: Duration,
}

impl Default for ProposerTiming {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(500),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// The proposer loop.
///
/// The block to propose always comes from the settlement layer
/// ([`SettlementClient::next_block_number`]), so the loop is idempotent across restarts and
/// never skips a block: it waits until that block is safe, computes its output root and
/// proposes it, retrying failures with backoff.
pub struct Proposer {
    client: Arc<dyn SettlementClient>,
    source: Arc<dyn OutputSource>,
    timing: ProposerTiming,
}

impl fmt::Debug for Proposer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proposer")
            .field("client", &self.client.kind())
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl Proposer {
    /// A proposer recording outputs of `source` blocks through `client`.
    pub fn new(
        client: Arc<dyn SettlementClient>,
        source: Arc<dyn OutputSource>,
        timing: ProposerTiming,
    ) -> Self {
        Self {
            client,
            source,
            timing,
        }
    }

    /// Proposes the next output if its block is safe. Returns the proposed block number,
    /// or `None` when there is nothing to propose yet.
    pub async fn step(&self) -> Result<Option<u64>> {
        let next = self.client.next_block_number().await?;
        let safe = self.source.safe_head()?;
        if next > safe {
            debug!(target: "altius::settlement", next, safe, "next output not safe yet");
            return Ok(None);
        }
        let inputs = self.source.output_root_inputs(next)?.ok_or_else(|| {
            SettlementError::InvalidResponse(format!("safe block {next} is missing"))
        })?;
        let output_root = inputs.hash();
        let proposal = Proposal {
            output_root,
            l2_block_number: next,
            l1_block_hash: B256::ZERO,
            l1_block_number: 0,
        };
        let receipt = self.client.propose(proposal).await?;
        info!(target: "altius::settlement", block = next, %output_root, tx = ?receipt.tx_hash, "output proposed");
        Ok(Some(next))
    }

    /// Runs until `shutdown` turns true, proposing every output as soon as it is safe.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = self.timing.backoff;
        while !*shutdown.borrow() {
            let delay = match self.step().await {
                Ok(Some(_)) => {
                    backoff = self.timing.backoff;
                    continue;
                }
                Ok(None) => self.timing.poll,
                Err(e) => {
                    let retryable = e.is_retryable();
                    warn!(target: "altius::settlement", error = %e, retryable, retry_in_ms = backoff.as_millis() as u64, "proposal failed");
                    let delay = backoff;
                    backoff = (backoff * 2).min(self.timing.max_backoff);
                    delay
                }
            };
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => break,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        info!(target: "altius::settlement", "proposer stopped");
    }
}
