//! EIP-7685 requests: EIP-6110 deposits from receipts, and the contracts of EIP-7002 and
//! EIP-7251 that the block's system calls read them from.

use alloy_consensus::ReceiptEnvelope;
use alloy_eips::{
    eip6110::MAINNET_DEPOSIT_CONTRACT_ADDRESS, eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
    eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, eip7685::Requests,
};
use alloy_primitives::{Address, B256, Bytes, b256};

/// Request types and the contracts read by a system call after the transactions.
pub(super) const SYSTEM_REQUEST_CONTRACTS: [(u8, Address); 2] = [
    (0x01, WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS),
    (0x02, CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS),
];

/// keccak256 of `DepositEvent(bytes,bytes,bytes,bytes,bytes)`.
const DEPOSIT_EVENT: B256 =
    b256!("649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");

/// The offsets and sizes of the five fields of a deposit event's data.
const FIELDS: [(usize, usize); 5] = [(160, 48), (256, 32), (320, 8), (384, 96), (512, 8)];

/// The deposit requests (type 0) of a block's receipts; a malformed deposit event rejects
/// the block.
pub(super) fn deposit_requests(receipts: &[ReceiptEnvelope]) -> Result<Requests, String> {
    let mut data = Vec::new();
    for log in receipts.iter().flat_map(|r| r.logs()) {
        if log.address == MAINNET_DEPOSIT_CONTRACT_ADDRESS
            && log.topics().first() == Some(&DEPOSIT_EVENT)
        {
            parse_deposit(&log.data.data, &mut data)?;
        }
    }
    let mut requests = Requests::default();
    requests.push_request_with_type(0x00, Bytes::from(data));
    Ok(requests)
}

/// Appends the request of one deposit event's data to `out`.
fn parse_deposit(data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    if data.len() != 576 {
        return Err(format!("deposit event of {} bytes", data.len()));
    }
    for (index, (offset, size)) in FIELDS.into_iter().enumerate() {
        let head = word(data, index * 32)?;
        let len = word(data, offset)?;
        if head != offset as u64 || len != size as u64 {
            return Err("malformed deposit event".to_string());
        }
        let start = offset + 32;
        out.extend_from_slice(data.get(start..start + size).ok_or("short deposit event")?);
    }
    Ok(())
}

/// The 32-byte word at `at` as a u64, or an error when it does not fit.
fn word(data: &[u8], at: usize) -> Result<u64, String> {
    let bytes = data.get(at..at + 32).ok_or("short deposit event")?;
    if bytes[..24].iter().any(|b| *b != 0) {
        return Err("deposit event offset overflows".to_string());
    }
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&bytes[24..]);
    Ok(u64::from_be_bytes(tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ABI encoding of a deposit event with fields filled with 1, 2, 3, 4, 5.
    fn event_data() -> Vec<u8> {
        let mut data = vec![0u8; 576];
        for (index, (offset, size)) in FIELDS.into_iter().enumerate() {
            data[index * 32 + 24..index * 32 + 32].copy_from_slice(&(offset as u64).to_be_bytes());
            data[offset + 24..offset + 32].copy_from_slice(&(size as u64).to_be_bytes());
            data[offset + 32..offset + 32 + size].fill(index as u8 + 1);
        }
        data
    }

    #[test]
    fn parses_deposit_events() {
        let mut out = Vec::new();
        parse_deposit(&event_data(), &mut out).unwrap();
        assert_eq!(out.len(), 48 + 32 + 8 + 96 + 8);
        assert_eq!(out[0], 1);
        assert_eq!(out[48], 2);
        assert_eq!(out[191], 5);
    }

    #[test]
    fn rejects_malformed_deposit_events() {
        let mut out = Vec::new();
        assert!(parse_deposit(&[0u8; 10], &mut out).is_err());
        let mut data = event_data();
        data[31] = 0;
        assert!(parse_deposit(&data, &mut out).is_err());
        let mut data = event_data();
        data[160] = 1;
        assert!(parse_deposit(&data, &mut out).is_err());
    }
}
