//! Receipts of executed transactions.

use alloy_consensus::{Receipt, ReceiptWithBloom};
use alloy_primitives::{Bloom, Log, logs_bloom};
use op_alloy_consensus::{OpDepositReceipt, OpReceiptEnvelope, OpTxEnvelope};
use op_revm::OpSpecId;

/// What a receipt records about one executed transaction.
#[derive(Clone, Debug)]
pub(crate) struct ReceiptFields {
    /// Whether execution succeeded.
    pub(crate) success: bool,
    /// Gas used by the block up to and including this transaction.
    pub(crate) cumulative_gas_used: u64,
    /// Logs emitted.
    pub(crate) logs: Vec<Log>,
    /// The sender's nonce before the transaction (deposits record it from Regolith on).
    pub(crate) nonce_before: u64,
}

/// The receipt envelope matching the type of `tx`, with its logs bloom.
///
/// Deposit receipts carry the deposit nonce from Regolith on and receipt version 1 from
/// Canyon on, as the OP Stack specifies. Returns `None` for transaction types without a
/// receipt format (post-exec), which the engine never executes.
pub(crate) fn build_receipt(
    tx: &OpTxEnvelope,
    fields: ReceiptFields,
    spec: OpSpecId,
) -> Option<OpReceiptEnvelope> {
    let mut receipt = build_receipt_without_bloom(tx, fields, spec)?;
    fill_bloom(&mut receipt);
    Some(receipt)
}

/// [`build_receipt`] with an empty logs bloom, for [`fill_bloom`] to compute later (on
/// another thread, say).
pub(crate) fn build_receipt_without_bloom(
    tx: &OpTxEnvelope,
    fields: ReceiptFields,
    spec: OpSpecId,
) -> Option<OpReceiptEnvelope> {
    fn unbloomed<R>(receipt: R) -> ReceiptWithBloom<R> {
        ReceiptWithBloom {
            receipt,
            logs_bloom: Bloom::ZERO,
        }
    }
    let receipt = Receipt {
        status: fields.success.into(),
        cumulative_gas_used: fields.cumulative_gas_used,
        logs: fields.logs,
    };
    Some(match tx {
        OpTxEnvelope::Legacy(_) => OpReceiptEnvelope::Legacy(unbloomed(receipt)),
        OpTxEnvelope::Eip2930(_) => OpReceiptEnvelope::Eip2930(unbloomed(receipt)),
        OpTxEnvelope::Eip1559(_) => OpReceiptEnvelope::Eip1559(unbloomed(receipt)),
        OpTxEnvelope::Eip7702(_) => OpReceiptEnvelope::Eip7702(unbloomed(receipt)),
        OpTxEnvelope::Deposit(_) => {
            let deposit = OpDepositReceipt {
                inner: receipt,
                deposit_nonce: spec
                    .is_enabled_in(OpSpecId::REGOLITH)
                    .then_some(fields.nonce_before),
                deposit_receipt_version: spec.is_enabled_in(OpSpecId::CANYON).then_some(1),
            };
            OpReceiptEnvelope::Deposit(unbloomed(deposit))
        }
        OpTxEnvelope::PostExec(_) => return None,
    })
}

/// Computes the logs bloom of `receipt` from its logs.
pub(crate) fn fill_bloom(receipt: &mut OpReceiptEnvelope) {
    let (bloom, logs) = bloom_and_logs(receipt);
    *bloom = logs_bloom(logs.iter());
}

/// Sets the logs bloom of `receipt` to `bloom`, computed from the same logs elsewhere.
pub(crate) fn set_bloom(receipt: &mut OpReceiptEnvelope, bloom: Bloom) {
    *bloom_and_logs(receipt).0 = bloom;
}

/// Adds `gas` to the cumulative gas of `receipt` (built for a part of the block that starts
/// after `gas` was used).
pub(crate) fn add_cumulative_gas(receipt: &mut OpReceiptEnvelope, gas: u64) {
    let cumulative = cumulative_gas_mut(receipt);
    *cumulative = cumulative.saturating_add(gas);
}

/// Sets the cumulative gas of `receipt`.
pub(crate) fn set_cumulative_gas(receipt: &mut OpReceiptEnvelope, gas: u64) {
    *cumulative_gas_mut(receipt) = gas;
}

fn cumulative_gas_mut(receipt: &mut OpReceiptEnvelope) -> &mut u64 {
    match receipt {
        OpReceiptEnvelope::Legacy(r)
        | OpReceiptEnvelope::Eip2930(r)
        | OpReceiptEnvelope::Eip1559(r)
        | OpReceiptEnvelope::Eip7702(r)
        | OpReceiptEnvelope::PostExec(r) => &mut r.receipt.cumulative_gas_used,
        OpReceiptEnvelope::Deposit(r) => &mut r.receipt.inner.cumulative_gas_used,
    }
}

fn bloom_and_logs(receipt: &mut OpReceiptEnvelope) -> (&mut Bloom, &[Log]) {
    match receipt {
        OpReceiptEnvelope::Legacy(r)
        | OpReceiptEnvelope::Eip2930(r)
        | OpReceiptEnvelope::Eip1559(r)
        | OpReceiptEnvelope::Eip7702(r)
        | OpReceiptEnvelope::PostExec(r) => (&mut r.logs_bloom, &r.receipt.logs),
        OpReceiptEnvelope::Deposit(r) => (&mut r.logs_bloom, &r.receipt.inner.logs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Signed, TxEip7702, TxLegacy, TxReceipt};
    use alloy_primitives::{Address, B256, Bytes, LogData, Signature, U256};
    use op_alloy_consensus::TxDeposit;

    fn fields() -> ReceiptFields {
        let log = Log {
            address: Address::repeat_byte(9),
            data: LogData::new_unchecked(vec![B256::repeat_byte(1)], Bytes::new()),
        };
        ReceiptFields {
            success: true,
            cumulative_gas_used: 42,
            logs: vec![log],
            nonce_before: 3,
        }
    }

    #[test]
    fn envelope_follows_tx_type_and_has_bloom() {
        let sig = Signature::new(U256::from(1), U256::from(1), false);
        let legacy = OpTxEnvelope::Legacy(Signed::new_unhashed(TxLegacy::default(), sig));
        let receipt = build_receipt(&legacy, fields(), OpSpecId::JOVIAN).unwrap();
        assert!(matches!(receipt, OpReceiptEnvelope::Legacy(_)));
        assert!(receipt.status());
        assert_eq!(receipt.cumulative_gas_used(), 42);
        assert!(
            receipt
                .bloom()
                .contains_input(alloy_primitives::BloomInput::Raw(&[9; 20]))
        );

        let eip7702 = OpTxEnvelope::Eip7702(Signed::new_unhashed(TxEip7702::default(), sig));
        let receipt = build_receipt(&eip7702, fields(), OpSpecId::JOVIAN).unwrap();
        assert!(matches!(receipt, OpReceiptEnvelope::Eip7702(_)));
    }

    #[test]
    fn a_bloom_filled_later_is_the_same() {
        let sig = Signature::new(U256::from(1), U256::from(1), false);
        let legacy = OpTxEnvelope::Legacy(Signed::new_unhashed(TxLegacy::default(), sig));
        for tx in [legacy, OpTxEnvelope::from(TxDeposit::default())] {
            let mut later = build_receipt_without_bloom(&tx, fields(), OpSpecId::JOVIAN).unwrap();
            assert_eq!(*later.logs_bloom(), Bloom::ZERO);
            let mut set = later.clone();
            fill_bloom(&mut later);
            let expected = build_receipt(&tx, fields(), OpSpecId::JOVIAN);
            assert_eq!(Some(&later), expected.as_ref());
            set_bloom(&mut set, logs_bloom(fields().logs.iter()));
            assert_eq!(Some(set), expected);
        }
    }

    #[test]
    fn deposit_receipts_carry_nonce_and_version() {
        let deposit = OpTxEnvelope::from(TxDeposit::default());
        let OpReceiptEnvelope::Deposit(receipt) =
            build_receipt(&deposit, fields(), OpSpecId::JOVIAN).unwrap()
        else {
            panic!("not a deposit receipt");
        };
        assert_eq!(receipt.receipt.deposit_nonce, Some(3));
        assert_eq!(receipt.receipt.deposit_receipt_version, Some(1));
        let OpReceiptEnvelope::Deposit(bedrock) =
            build_receipt(&deposit, fields(), OpSpecId::BEDROCK).unwrap()
        else {
            panic!("not a deposit receipt");
        };
        assert_eq!(bedrock.receipt.deposit_nonce, None);
    }
}
