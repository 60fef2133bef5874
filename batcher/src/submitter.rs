//! [`BatchSubmitter`]: L2 blocks to channels to frames on a DA layer, with a persistent
//! cursor so that a restart resumes without a gap or a duplicate.

mod reorg;
mod stats;

pub use stats::SubmitterStats;

use std::{
    collections::BTreeMap,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::{B256, Bytes};
use altius_da::{DaClient, DaReference};
use redb::Database;
use tracing::{debug, info, warn};

use crate::{
    BatchKind, BatcherConfig, BatcherError, ChannelBuilder, FrameEncoder, SingularBatch,
    SpanBatchParams, SpanChannelBuilder,
    cursor::{Cursor, SubmittedFrame},
    encode_tx_data,
};

/// An L2 block as the batcher needs it, supplied by the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2BlockData {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Block timestamp (seconds).
    pub timestamp: u64,
    /// EIP-2718 encoded transactions, deposits excluded.
    pub transactions: Vec<Bytes>,
}

impl L2BlockData {
    /// The block as a singular batch. There is no L1 yet, so every block's epoch (L1 origin)
    /// is number 0 with the zero hash, and its sequence number is its block number.
    pub fn to_batch(&self) -> SingularBatch {
        SingularBatch {
            parent_hash: self.parent_hash,
            epoch_num: 0,
            epoch_hash: B256::ZERO,
            timestamp: self.timestamp,
            transactions: self.transactions.clone(),
        }
    }
}

/// Where the submitter reads committed L2 blocks from (the node's chain store).
pub trait L2BlockSource: Send + Sync {
    /// The newest committed block number.
    fn head_number(&self) -> Result<u64, BatcherError>;
    /// Committed block `number`, if it exists.
    fn block(&self, number: u64) -> Result<Option<L2BlockData>, BatcherError>;
}

/// The number of L2 blocks not yet confirmed on the DA layer, shared with the sequencer so
/// that it can throttle block production.
#[derive(Debug, Clone, Default)]
pub struct BacklogGauge(Arc<AtomicU64>);

impl BacklogGauge {
    /// A gauge reading 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current backlog in blocks.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Records the backlog (the submitter does this as it goes).
    pub fn set(&self, blocks: u64) {
        self.0.store(blocks, Ordering::Release);
    }
}

enum OpenBuilder {
    Singular(ChannelBuilder),
    Span(SpanChannelBuilder),
}

struct OpenChannel {
    builder: OpenBuilder,
    first: u64,
    last: u64,
    opened: Instant,
}

impl OpenChannel {
    fn blocks(&self) -> u64 {
        self.last - self.first + 1
    }

    fn is_full(&self) -> bool {
        match &self.builder {
            OpenBuilder::Singular(b) => b.is_full(),
            OpenBuilder::Span(b) => b.is_full(),
        }
    }
}

/// Turns consecutive L2 blocks into channels, frames them and submits every frame's
/// transaction data (`0x00 ++ frame`) to a [`DaClient`].
///
/// The cursor (`batcher_cursor`, `batcher_frames` in the given database) records the last
/// block put into a closed channel, every submitted frame with its [`DaReference`], and the
/// last *confirmed* block: the last block of the newest channel whose frames were all
/// accepted by the DA client (for the local DA, accepted means stored). After a restart the
/// submitter resumes at the block after the last confirmed one, so a channel that was open
/// or partly submitted at crash time is rebuilt from its first block under a new channel
/// ID (its orphaned frames never complete a channel, so derivation ignores them).
///
/// Failed submissions are retried with exponential backoff forever: no block is dropped.
/// [`Self::verify`] re-reads the frames of channels that are not final from the DA layer;
/// when one is gone (an L1 reorg dropped its transaction), the submitter rewinds to the
/// first block of its channel and submits everything from there again.
pub struct BatchSubmitter {
    da: Arc<dyn DaClient>,
    config: BatcherConfig,
    params: SpanBatchParams,
    encoder: FrameEncoder,
    cursor: Cursor,
    confirmed: u64,
    next_block: u64,
    open: Option<OpenChannel>,
    backlog: BacklogGauge,
    stats: SubmitterStats,
    /// Transaction bytes of every block taken in and not confirmed yet, by block number.
    unconfirmed_bytes: BTreeMap<u64, u64>,
}

impl fmt::Debug for BatchSubmitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchSubmitter")
            .field("da", &self.da.kind())
            .field("confirmed", &self.confirmed)
            .field("next_block", &self.next_block)
            .finish_non_exhaustive()
    }
}

impl BatchSubmitter {
    /// Opens the submitter on `db`. `genesis_number` is the L2 genesis block, which is never
    /// batched: without a cursor, submission starts at the block after it.
    pub fn open(
        db: Arc<Database>,
        da: Arc<dyn DaClient>,
        config: BatcherConfig,
        params: SpanBatchParams,
        genesis_number: u64,
    ) -> Result<Self, BatcherError> {
        config.validate()?;
        let encoder = FrameEncoder::new(config.max_frame_size)?;
        let cursor = Cursor::open(db)?;
        let confirmed = cursor.confirmed()?.unwrap_or(genesis_number);
        if cursor.closed()?.is_some_and(|closed| closed > confirmed) {
            cursor.set_closed(confirmed)?;
        }
        info!(target: "altius::batcher", da = da.kind(), confirmed, "batch submitter opened");
        let stats = SubmitterStats::new();
        stats.set_confirmed_block(confirmed);
        let last_height = cursor.last_frame()?.map_or(0, |f| f.reference.height);
        stats.set_last_da_height(last_height);
        Ok(Self {
            da,
            config,
            params,
            encoder,
            cursor,
            confirmed,
            next_block: confirmed.saturating_add(1),
            open: None,
            backlog: BacklogGauge::default(),
            stats,
            unconfirmed_bytes: BTreeMap::new(),
        })
    }

    /// The last block whose data is confirmed on the DA layer (the genesis before any).
    pub const fn confirmed_block(&self) -> u64 {
        self.confirmed
    }

    /// The next block the submitter needs.
    pub const fn next_block(&self) -> u64 {
        self.next_block
    }

    /// Reports the backlog through `gauge` (shared with the sequencer) from now on.
    pub fn with_backlog(mut self, gauge: BacklogGauge) -> Self {
        self.backlog = gauge;
        self
    }

    /// A handle on the backlog, updated by [`Self::catch_up`].
    pub fn backlog(&self) -> BacklogGauge {
        self.backlog.clone()
    }

    /// Reports the submitter's figures through `stats` (shared with the metrics) from now on.
    pub fn with_stats(mut self, stats: SubmitterStats) -> Self {
        stats.set_confirmed_block(self.stats.confirmed_block());
        stats.set_last_da_height(self.stats.last_da_height());
        self.stats = stats;
        self
    }

    /// A handle on the submitter's figures.
    pub fn stats(&self) -> SubmitterStats {
        self.stats.clone()
    }

    /// Every frame submitted so far, oldest first.
    pub fn submitted_frames(&self) -> Result<Vec<SubmittedFrame>, BatcherError> {
        self.cursor.frames()
    }

    /// Feeds every committed block after the last one fed, then closes the open channel
    /// if it is too old. Returns the confirmed block number afterwards.
    pub async fn catch_up(&mut self, source: &dyn L2BlockSource) -> Result<u64, BatcherError> {
        let head = source.head_number()?;
        self.backlog.set(head.saturating_sub(self.confirmed));
        while self.next_block <= head {
            let number = self.next_block;
            let block = source.block(number)?.ok_or_else(|| {
                BatcherError::Source(format!("block {number} is below the head but missing"))
            })?;
            self.add_block(block).await?;
            self.backlog.set(head.saturating_sub(self.confirmed));
        }
        self.close_if_old().await?;
        self.backlog.set(head.saturating_sub(self.confirmed));
        Ok(self.confirmed)
    }

    /// Adds the next block. A block that was already added is ignored; a later one is an
    /// [`BatcherError::UnexpectedBlock`] error (feed the blocks in between first).
    pub async fn add_block(&mut self, block: L2BlockData) -> Result<(), BatcherError> {
        if block.number < self.next_block {
            return Ok(());
        }
        if block.number > self.next_block {
            return Err(BatcherError::UnexpectedBlock {
                expected: self.next_block,
                got: block.number,
            });
        }
        let batch = block.to_batch();
        let bytes = block.transactions.iter().map(|t| t.len() as u64).sum();
        self.unconfirmed_bytes.insert(block.number, bytes);
        self.stats
            .set_backlog_bytes(self.unconfirmed_bytes.values().sum());
        let added = match self.open.as_mut() {
            Some(open) => add_to(open, batch.clone(), block.number).is_ok(),
            None => false,
        };
        if !added {
            // The open channel is full or cannot take this block: close it and start anew.
            self.close_channel().await?;
            let mut open = self.new_channel(block.number)?;
            add_to(&mut open, batch, block.number)?;
            self.open = Some(open);
        }
        self.next_block = block.number.saturating_add(1);
        let close = self
            .open
            .as_ref()
            .is_some_and(|o| o.is_full() || o.blocks() >= self.config.max_channel_duration_blocks);
        if close {
            self.close_channel().await?;
        }
        Ok(())
    }

    /// Closes the open channel if it has been open for `max_channel_age_ms`.
    pub async fn close_if_old(&mut self) -> Result<(), BatcherError> {
        let max_age = Duration::from_millis(self.config.max_channel_age_ms);
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.opened.elapsed() >= max_age)
        {
            self.close_channel().await?;
        }
        Ok(())
    }

    /// Closes the open channel now (if any) and submits its frames.
    pub async fn close_channel(&mut self) -> Result<(), BatcherError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let channel = match open.builder {
            OpenBuilder::Singular(b) => b.finish()?,
            OpenBuilder::Span(b) => b.finish()?,
        };
        let frames = self.encoder.encode(&channel)?;
        self.cursor.set_closed(open.last)?;
        for (i, frame) in frames.iter().enumerate() {
            self.stats.set_pending_frames((frames.len() - i) as u64);
            let data = encode_tx_data(std::slice::from_ref(frame))?;
            let reference = self.submit_with_retry(data).await;
            let height = reference.height.max(self.stats.last_da_height());
            self.stats.set_last_da_height(height);
            self.cursor.record_frame(&SubmittedFrame {
                channel_id: channel.id,
                first_block: open.first,
                last_block: open.last,
                frame_number: frame.number,
                reference,
            })?;
        }
        self.stats.set_pending_frames(0);
        self.cursor.set_confirmed(open.last)?;
        self.confirmed = open.last;
        self.stats.set_confirmed_block(open.last);
        self.unconfirmed_bytes = self
            .unconfirmed_bytes
            .split_off(&open.last.saturating_add(1));
        self.stats
            .set_backlog_bytes(self.unconfirmed_bytes.values().sum());
        info!(target: "altius::batcher", channel = %channel.id, first = open.first, last = open.last, frames = frames.len(), bytes = channel.data.len(), "channel submitted");
        Ok(())
    }

    fn new_channel(&self, first: u64) -> Result<OpenChannel, BatcherError> {
        let channel = self.config.channel_config();
        let mut rng = rand::rng();
        let builder = match self.config.batch_type {
            BatchKind::Singular => OpenBuilder::Singular(ChannelBuilder::new(channel, &mut rng)?),
            BatchKind::Span => {
                OpenBuilder::Span(SpanChannelBuilder::new(channel, self.params, &mut rng)?)
            }
        };
        Ok(OpenChannel {
            builder,
            first,
            last: first,
            opened: Instant::now(),
        })
    }

    async fn submit_with_retry(&self, data: Bytes) -> DaReference {
        let max = Duration::from_millis(self.config.max_retry_backoff_ms);
        let mut delay = Duration::from_millis(self.config.retry_backoff_ms);
        let mut attempt: u64 = 1;
        loop {
            match self.da.submit(data.clone()).await {
                Ok(reference) => {
                    debug!(target: "altius::batcher", height = reference.height, size = data.len(), "frame submitted");
                    return reference;
                }
                Err(e) => {
                    warn!(target: "altius::batcher", error = %e, attempt, retry_in_ms = delay.as_millis() as u64, "DA submission failed");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(max);
                    attempt += 1;
                }
            }
        }
    }
}

/// Adds `batch` (block `number`) to `open`; on error the channel is unchanged.
fn add_to(open: &mut OpenChannel, batch: SingularBatch, number: u64) -> Result<(), BatcherError> {
    match &mut open.builder {
        OpenBuilder::Singular(b) => b.add_batch(&crate::Batch::Singular(batch))?,
        // No L1 yet: every block is in epoch 0, so its sequence number is its number.
        OpenBuilder::Span(b) => b.add_block(batch, number)?,
    }
    open.last = number;
    Ok(())
}
