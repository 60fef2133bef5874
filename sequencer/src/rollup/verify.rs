//! [`Verifier`]: when the batch submission task reads its submitted frames back from the
//! DA layer to notice data an L1 reorg dropped.

use altius_batcher::{BatchSubmitter, BatcherError};
use altius_da::DaClient;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// How long asking the DA layer for its finalized height may take here.
const FINALIZED_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs [`BatchSubmitter::verify`] every `interval`, and [`BatchSubmitter::verify_above`]
/// when the DA layer's finalized height went back since the last check.
#[derive(Debug)]
pub struct Verifier {
    interval: Duration,
    last: Instant,
    /// The highest finalized height the DA layer reported.
    highest_finalized: u64,
}

impl Verifier {
    /// Checks every `interval`, the first time one `interval` from now.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Instant::now(),
            highest_finalized: 0,
        }
    }

    /// Checks if it is time: the frames of the blocks after `finalized`, and all frames
    /// above the DA finalized height if that went back (a reorg deeper than finality, which
    /// only a development L1 does). Returns the submitter's new confirmed block if it
    /// rewound.
    pub async fn run(
        &mut self,
        sub: &mut BatchSubmitter,
        da: &dyn DaClient,
        finalized: u64,
    ) -> Result<Option<u64>, BatcherError> {
        if self.last.elapsed() < self.interval {
            return Ok(None);
        }
        self.last = Instant::now();
        if let Some(height) = finalized_height(da).await {
            let highest = self.highest_finalized;
            self.highest_finalized = height;
            if height < highest {
                warn!(target: "altius::batcher", from = highest, to = height, "the DA layer's finalized height went back: checking the data it had finalized");
                if let Some(confirmed) = sub.verify_above(height).await? {
                    return Ok(Some(confirmed));
                }
            }
        }
        sub.verify(finalized).await
    }
}

async fn finalized_height(da: &dyn DaClient) -> Option<u64> {
    match tokio::time::timeout(FINALIZED_TIMEOUT, da.finalized_height()).await {
        Ok(Ok(height)) => Some(height),
        Ok(Err(e)) => {
            debug!(target: "altius::batcher", error = %e, "cannot read the DA finalized height");
            None
        }
        Err(_) => None,
    }
}
