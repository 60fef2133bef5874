//! Sending a submission: nonce, gas and fees, replacement of stuck transactions, and
//! waiting for the receipt and confirmations.

use alloy::{
    network::{TransactionBuilder, TransactionBuilder4844},
    primitives::{B256, Bytes},
    providers::Provider,
    rpc::types::{TransactionReceipt, TransactionRequest},
};
use tokio::time::{Instant, sleep, timeout};
use tracing::{debug, info, warn};

use super::{
    EthereumCalldataDa, MAX_CALLDATA_SUBMISSION_SIZE,
    errors::{from_rpc, nonce_already_used},
    fees::Fees,
};
use crate::{DaError, DaReference};

/// The transaction of a submission that has not been confirmed yet.
#[derive(Debug, Clone, Copy)]
pub(super) struct InFlight {
    nonce: u64,
    fees: Fees,
}

impl EthereumCalldataDa {
    /// [`crate::DaClient::submit`]: one transaction at a time, within the overall timeout.
    pub(super) async fn submit_data(&self, data: Bytes) -> Result<DaReference, DaError> {
        if data.is_empty() {
            return Err(DaError::EmptySubmission);
        }
        if data.len() > MAX_CALLDATA_SUBMISSION_SIZE {
            return Err(DaError::TooLarge {
                size: data.len(),
                max: MAX_CALLDATA_SUBMISSION_SIZE,
            });
        }
        let size = data.len();
        let receipt = self
            .send_request(TransactionRequest::default().with_input(data))
            .await?;
        reference(&receipt, size)
    }

    /// Sends `request` (its payload: calldata, or a blob sidecar) from the batcher to the
    /// inbox and waits until it is confirmed: nonce, chain id, gas and fees are filled in
    /// here, a stuck transaction is replaced with bumped fees, and a transaction that timed
    /// out in an earlier call is replaced rather than queued behind. Calls are serialized.
    /// Returns the receipt of the confirmed, successful transaction.
    pub(crate) async fn send_request(
        &self,
        request: TransactionRequest,
    ) -> Result<TransactionReceipt, DaError> {
        let mut in_flight = self.in_flight.lock().await;
        timeout(self.timeout, self.send_and_confirm(request, &mut in_flight))
            .await
            .map_err(|_| {
                DaError::Unavailable(format!(
                    "no confirmed batcher transaction within {:?}",
                    self.timeout
                ))
            })?
    }

    async fn send_and_confirm(
        &self,
        request: TransactionRequest,
        in_flight: &mut Option<InFlight>,
    ) -> Result<TransactionReceipt, DaError> {
        let blobs = request.sidecar.is_some();
        let (request, stuck) = self.prepare(request, *in_flight).await?;
        let mut fees = self.initial_fees(stuck, blobs).await?;
        let nonce = request.nonce.unwrap_or_default();
        let mut sent = vec![self.send(&request, fees).await?];
        *in_flight = Some(InFlight { nonce, fees });
        loop {
            if let Some(receipt) = self.wait_for_any(&sent).await? {
                *in_flight = None;
                return self.confirm(receipt).await;
            }
            let Some(bumped) = self.caps.bump(fees) else {
                warn!(target: "altius::da", nonce = ?request.nonce, max_fee = fees.max_fee, blob_fee = ?fees.blob, "batcher transaction stuck at the fee caps; waiting");
                continue;
            };
            match self.send(&request, bumped).await {
                Ok(hash) => {
                    warn!(target: "altius::da", %hash, nonce = ?request.nonce, max_fee = bumped.max_fee, priority = bumped.priority, blob_fee = ?bumped.blob, "replaced a stuck batcher transaction");
                    fees = bumped;
                    sent.push(hash);
                    *in_flight = Some(InFlight { nonce, fees });
                }
                Err(e) if e.is_retryable() => return Err(e),
                Err(e) if nonce_already_used(&e) => {
                    debug!(target: "altius::da", error = %e, "replacement not needed");
                }
                Err(e) => warn!(target: "altius::da", error = %e, "replacement rejected; waiting"),
            }
        }
    }

    /// The complete request except fees: nonce, chain id and estimated gas.
    ///
    /// The nonce is the node's `pending` count, except when the previous submission's
    /// transaction (`in_flight`) is still unmined: then it is replaced, and its fees are
    /// returned so the new ones can be bumped above them.
    async fn prepare(
        &self,
        request: TransactionRequest,
        in_flight: Option<InFlight>,
    ) -> Result<(TransactionRequest, Option<Fees>), DaError> {
        let provider = &self.provider;
        let pending = provider
            .get_transaction_count(self.batcher)
            .pending()
            .await
            .map_err(|e| from_rpc("reading the batcher nonce", e))?;
        let mined = provider
            .get_transaction_count(self.batcher)
            .latest()
            .await
            .map_err(|e| from_rpc("reading the batcher nonce", e))?;
        let stuck = in_flight.filter(|f| f.nonce >= mined && f.nonce < pending);
        let nonce = stuck.map_or(pending, |f| f.nonce);
        if let Some(f) = stuck {
            warn!(target: "altius::da", nonce = f.nonce, "replacing the pending transaction of a timed-out submission");
        }
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|e| from_rpc("eth_chainId", e))?;
        let request = request
            .with_from(self.batcher)
            .with_to(self.inbox)
            .with_nonce(nonce)
            .with_chain_id(chain_id);
        // Blobs cost blob gas, not gas: estimate the plain transfer.
        let mut call = request.clone();
        call.sidecar = None;
        call.blob_versioned_hashes = None;
        let gas = provider
            .estimate_gas(call)
            .await
            .map_err(|e| from_rpc("eth_estimateGas", e))?;
        Ok((request.with_gas_limit(gas), stuck.map(|f| f.fees)))
    }

    /// Node-estimated fees within the caps (with a blob fee of twice the current blob base
    /// fee when `blobs`); when replacing `stuck` fees, bumped above them (or the caps, if
    /// that is all that is left).
    async fn initial_fees(&self, stuck: Option<Fees>, blobs: bool) -> Result<Fees, DaError> {
        let estimate = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| from_rpc("estimating EIP-1559 fees", e))?;
        let blob = if blobs {
            let base = self
                .provider
                .get_blob_base_fee()
                .await
                .map_err(|e| from_rpc("eth_blobBaseFee", e))?;
            Some(base.saturating_mul(2).max(1))
        } else {
            None
        };
        let fees = self.caps.clamp(Fees {
            blob,
            ..Fees::new(estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas)
        });
        Ok(match stuck {
            None => fees,
            Some(old) => self.caps.replacement(old, fees),
        })
    }

    async fn send(&self, request: &TransactionRequest, fees: Fees) -> Result<B256, DaError> {
        let mut request = request
            .clone()
            .with_max_fee_per_gas(fees.max_fee)
            .with_max_priority_fee_per_gas(fees.priority);
        if let Some(blob) = fees.blob {
            request = request.with_max_fee_per_blob_gas(blob);
        }
        let pending = self
            .provider
            .send_transaction(request)
            .await
            .map_err(|e| from_rpc("sending the batcher transaction", e))?;
        let hash = *pending.tx_hash();
        debug!(target: "altius::da", %hash, max_fee = fees.max_fee, priority = fees.priority, "batcher transaction sent");
        Ok(hash)
    }

    /// Polls for a receipt of any of `hashes` (the same nonce) until `resubmit_after`.
    async fn wait_for_any(&self, hashes: &[B256]) -> Result<Option<TransactionReceipt>, DaError> {
        let deadline = Instant::now() + self.resubmit_after;
        loop {
            for hash in hashes {
                if let Some(receipt) = self.receipt(*hash).await? {
                    return Ok(Some(receipt));
                }
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            sleep(self.poll_interval).await;
        }
    }

    async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, DaError> {
        self.provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| from_rpc("eth_getTransactionReceipt", e))
    }

    /// Waits for the confirmations and returns the re-read receipt of a successful
    /// transaction.
    async fn confirm(&self, first: TransactionReceipt) -> Result<TransactionReceipt, DaError> {
        let hash = first.transaction_hash;
        let mut receipt = first;
        loop {
            let included = receipt.block_number.ok_or_else(|| {
                DaError::Backend(format!("receipt of {hash} has no block number"))
            })?;
            let latest = self
                .provider
                .get_block_number()
                .await
                .map_err(|e| from_rpc("eth_blockNumber", e))?;
            if latest.saturating_add(1) >= included.saturating_add(self.confirmations) {
                let Some(current) = self.receipt(hash).await? else {
                    return Err(DaError::NotCanonical {
                        height: included,
                        tx_hash: hash,
                        reason: "reorged out while waiting for confirmations".into(),
                    });
                };
                if current.block_number == Some(included) {
                    return check_status(current);
                }
                receipt = current;
                continue;
            }
            sleep(self.poll_interval).await;
        }
    }
}

fn check_status(receipt: TransactionReceipt) -> Result<TransactionReceipt, DaError> {
    if receipt.status() {
        return Ok(receipt);
    }
    Err(DaError::Backend(format!(
        "batcher transaction {} failed on L1 (is the inbox a reverting contract?)",
        receipt.transaction_hash
    )))
}

/// The position `(L1 block, tx index)` of a confirmed transaction.
pub(crate) fn position(receipt: &TransactionReceipt) -> Result<(u64, u32), DaError> {
    let hash = receipt.transaction_hash;
    let height = receipt
        .block_number
        .ok_or_else(|| DaError::Backend(format!("receipt of {hash} has no block number")))?;
    let index = receipt
        .transaction_index
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| DaError::Backend(format!("receipt of {hash} has no usable tx index")))?;
    Ok((height, index))
}

fn reference(receipt: &TransactionReceipt, size: usize) -> Result<DaReference, DaError> {
    let hash = receipt.transaction_hash;
    let (height, index) = position(receipt)?;
    info!(target: "altius::da", %hash, l1_block = height, index, size, "batcher transaction confirmed");
    Ok(DaReference::l1_tx(height, index, hash))
}
