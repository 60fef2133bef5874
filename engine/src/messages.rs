//! geth's wording for transaction validation errors, EVM halts and revert reasons.

use alloy_primitives::{Address, Bytes, U256};
use op_revm::{OpHaltReason, OpTransactionError};
use revm::context_interface::result::{HaltReason, InvalidTransaction, OutOfGasError};

/// Selector of `Error(string)`.
const ERROR_SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
/// Selector of `Panic(uint256)`.
const PANIC_SELECTOR: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];

/// geth's `gas limit reached` (`core.ErrGasLimitReached`): the transaction asks for more gas
/// than is left in the block.
pub(crate) const GAS_LIMIT_REACHED: &str = "gas limit reached";
/// geth's `core.ErrInsufficientFundsForTransfer`.
pub(crate) const INSUFFICIENT_FUNDS_FOR_TRANSFER: &str = "insufficient funds for transfer";
/// geth's `core.ErrTxTypeNotSupported`.
pub(crate) const TX_TYPE_NOT_SUPPORTED: &str = "transaction type not supported";

/// What the transaction looked like, for the numbers geth puts into its messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TxFacts {
    /// The sender.
    pub(crate) sender: Address,
    /// Max fee per gas (the gas price of legacy transactions).
    pub(crate) max_fee_per_gas: u128,
    /// Max priority fee per gas (the gas price of legacy transactions).
    pub(crate) max_priority_fee_per_gas: u128,
    /// Block base fee.
    pub(crate) base_fee: u64,
}

/// geth's message for an op-revm transaction validation error.
pub(crate) fn invalid_tx_message(err: &OpTransactionError, facts: &TxFacts) -> String {
    match err {
        OpTransactionError::Base(base) => invalid_base_tx_message(base, facts),
        OpTransactionError::DepositSystemTxPostRegolith => {
            "system transactions are not supported after Regolith".to_string()
        }
        OpTransactionError::HaltedDepositPostRegolith => "failed deposit".to_string(),
        OpTransactionError::MissingEnvelopedTx => err.to_string(),
    }
}

/// geth's message for a revm transaction validation error.
fn invalid_base_tx_message(err: &InvalidTransaction, f: &TxFacts) -> String {
    use InvalidTransaction as E;
    let sender = f.sender;
    match err {
        E::NonceTooLow { tx, state } => {
            format!("nonce too low: address {sender}, tx: {tx} state: {state}")
        }
        E::NonceTooHigh { tx, state } => {
            format!("nonce too high: address {sender}, tx: {tx} state: {state}")
        }
        E::NonceOverflowInTransaction => format!("nonce has max value: address {sender}"),
        E::GasPriceLessThanBasefee => format!(
            "max fee per gas less than block base fee: address {sender}, maxFeePerGas: {}, baseFee: {}",
            f.max_fee_per_gas, f.base_fee
        ),
        E::PriorityFeeGreaterThanMaxFee => format!(
            "max priority fee per gas higher than max fee per gas: address {sender}, maxPriorityFeePerGas: {}, maxFeePerGas: {}",
            f.max_priority_fee_per_gas, f.max_fee_per_gas
        ),
        E::LackOfFundForMaxFee { fee, balance } => format!(
            "insufficient funds for gas * price + value: address {sender} have {balance} want {fee}"
        ),
        E::OverflowPaymentInTransaction => {
            format!("insufficient funds for gas * price + value: address {sender}")
        }
        E::CallerGasLimitMoreThanBlock => GAS_LIMIT_REACHED.to_string(),
        E::CallGasCostMoreThanGasLimit {
            initial_gas,
            gas_limit,
        } => {
            format!("intrinsic gas too low: have {gas_limit}, want {initial_gas}")
        }
        E::GasFloorMoreThanGasLimit {
            gas_floor,
            gas_limit,
        } => {
            format!("insufficient gas for floor data gas cost: have {gas_limit}, want {gas_floor}")
        }
        E::RejectCallerWithCode => format!("sender not an eoa: address {sender}"),
        E::CreateInitCodeSizeLimit => "max initcode size exceeded".to_string(),
        E::InvalidChainId | E::MissingChainId => "invalid chain id for signer".to_string(),
        E::TxGasLimitGreaterThanCap { gas_limit, cap } => {
            format!("transaction gas limit too high (cap: {cap}, tx: {gas_limit})")
        }
        E::EmptyAuthorizationList => "EIP-7702 transaction with empty auth list".to_string(),
        E::Eip2930NotSupported
        | E::Eip1559NotSupported
        | E::Eip4844NotSupported
        | E::Eip7702NotSupported
        | E::Eip7873NotSupported
        | E::AccessListNotSupported
        | E::AuthorizationListNotSupported
        | E::MaxFeePerBlobGasNotSupported
        | E::BlobVersionedHashesNotSupported => TX_TYPE_NOT_SUPPORTED.to_string(),
        other => other.to_string(),
    }
}

/// geth's text for an EVM halt (`core/vm/errors.go`).
pub(crate) fn halt_message(reason: &OpHaltReason) -> String {
    match reason {
        OpHaltReason::Base(base) => base_halt_message(base).to_string(),
        OpHaltReason::FailedDeposit => "failed deposit".to_string(),
    }
}

/// geth's text for a revm halt reason.
fn base_halt_message(reason: &HaltReason) -> &'static str {
    use HaltReason as H;
    match reason {
        H::OutOfGas(OutOfGasError::InvalidOperand) => "invalid operand",
        H::OutOfGas(_) => "out of gas",
        H::OpcodeNotFound | H::NotActivated => "invalid opcode",
        H::InvalidFEOpcode => "invalid opcode: INVALID",
        H::InvalidJump => "invalid jump destination",
        H::StackUnderflow => "stack underflow",
        H::StackOverflow => "stack limit reached 1024",
        H::OutOfOffset => "return data out of bounds",
        H::CreateCollision => "contract address collision",
        H::PrecompileError | H::PrecompileErrorWithContext(_) => "precompiled contract failed",
        H::NonceOverflow => "nonce uint64 overflow",
        H::CreateContractSizeLimit => "max code size exceeded",
        H::CreateContractStartingWithEF => "invalid code: must not begin with 0xef",
        H::CreateInitCodeSizeLimit => "max initcode size exceeded",
        H::OverflowPayment => "gas uint64 overflow",
        H::StateChangeDuringStaticCall | H::CallNotAllowedInsideStatic => "write protection",
        H::OutOfFunds => "insufficient balance for transfer",
        H::CallTooDeep => "max call depth exceeded",
    }
}

/// Decodes revert data the way geth's `abi.UnpackRevert` does: the string of
/// `Error(string)`, or the meaning of a Solidity `Panic(uint256)` code.
pub(crate) fn decode_revert_reason(data: &Bytes) -> Option<String> {
    let (selector, body) = data.split_first_chunk::<4>()?;
    match *selector {
        ERROR_SELECTOR => decode_abi_string(body),
        PANIC_SELECTOR => decode_panic(body),
        _ => None,
    }
}

/// Decodes one ABI-encoded `string` argument.
fn decode_abi_string(body: &[u8]) -> Option<String> {
    let offset = read_usize_word(body, 0)?;
    let len = read_usize_word(body, offset)?;
    let start = offset.checked_add(32)?;
    let bytes = body.get(start..start.checked_add(len)?)?;
    String::from_utf8(bytes.to_vec()).ok()
}

/// Decodes a `Panic(uint256)` code into geth's text.
fn decode_panic(body: &[u8]) -> Option<String> {
    let code = U256::from_be_slice(body.get(..32)?);
    let text = match code.try_into().unwrap_or(u64::MAX) {
        0x00 => "generic panic",
        0x01 => "assert(false)",
        0x11 => "arithmetic underflow or overflow",
        0x12 => "division or modulo by zero",
        0x21 => "enum overflow",
        0x22 => "invalid encoded storage byte array accessed",
        0x31 => "out-of-bounds array access; popping on an empty array",
        0x32 => "out-of-bounds access of an array or bytesN",
        0x41 => "out of memory",
        0x51 => "uninitialized function",
        _ => return Some(format!("unknown panic code: {code:#x}")),
    };
    Some(text.to_string())
}

/// Reads the 32-byte big-endian word at `at` as a `usize`, if it fits.
fn read_usize_word(data: &[u8], at: usize) -> Option<usize> {
    let word = data.get(at..at.checked_add(32)?)?;
    usize::try_from(U256::from_be_slice(word)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ABI encoding of `Error(string)` with `reason`.
    pub(crate) fn error_string(reason: &str) -> Bytes {
        let mut out = ERROR_SELECTOR.to_vec();
        out.extend_from_slice(&U256::from(32).to_be_bytes::<32>());
        out.extend_from_slice(&U256::from(reason.len()).to_be_bytes::<32>());
        let mut padded = reason.as_bytes().to_vec();
        padded.resize(reason.len().div_ceil(32) * 32, 0);
        out.extend_from_slice(&padded);
        out.into()
    }

    fn facts() -> TxFacts {
        TxFacts {
            sender: Address::repeat_byte(1),
            max_fee_per_gas: 5,
            max_priority_fee_per_gas: 1,
            base_fee: 7,
        }
    }

    #[test]
    fn decodes_error_string() {
        assert_eq!(
            decode_revert_reason(&error_string("too bad")).as_deref(),
            Some("too bad")
        );
    }

    #[test]
    fn decodes_panic_codes() {
        let mut data = PANIC_SELECTOR.to_vec();
        data.extend_from_slice(&U256::from(0x11).to_be_bytes::<32>());
        assert_eq!(
            decode_revert_reason(&data.into()).as_deref(),
            Some("arithmetic underflow or overflow")
        );
        let mut data = PANIC_SELECTOR.to_vec();
        data.extend_from_slice(&U256::from(0x99).to_be_bytes::<32>());
        assert_eq!(
            decode_revert_reason(&data.into()).as_deref(),
            Some("unknown panic code: 0x99")
        );
    }

    #[test]
    fn malformed_revert_data_is_not_decoded() {
        assert_eq!(decode_revert_reason(&Bytes::new()), None);
        assert_eq!(
            decode_revert_reason(&Bytes::from(ERROR_SELECTOR.to_vec())),
            None
        );
        let mut data = ERROR_SELECTOR.to_vec();
        data.extend_from_slice(&[0xff; 32]);
        data.extend_from_slice(&[0xff; 32]);
        assert_eq!(decode_revert_reason(&data.into()), None);
    }

    #[test]
    fn tx_errors_use_geth_wording() {
        let f = facts();
        let msg = |e: InvalidTransaction| invalid_tx_message(&OpTransactionError::Base(e), &f);
        assert!(
            msg(InvalidTransaction::NonceTooLow { tx: 0, state: 1 }).starts_with("nonce too low")
        );
        assert!(
            msg(InvalidTransaction::NonceTooHigh { tx: 2, state: 1 }).starts_with("nonce too high")
        );
        assert!(
            msg(InvalidTransaction::LackOfFundForMaxFee {
                fee: Box::new(U256::from(2)),
                balance: Box::new(U256::from(1)),
            })
            .starts_with("insufficient funds for gas * price + value")
        );
        assert!(
            msg(InvalidTransaction::GasPriceLessThanBasefee)
                .starts_with("max fee per gas less than block base fee")
        );
        assert_eq!(
            msg(InvalidTransaction::CallGasCostMoreThanGasLimit {
                initial_gas: 21_000,
                gas_limit: 100
            }),
            "intrinsic gas too low: have 100, want 21000"
        );
        assert_eq!(
            msg(InvalidTransaction::CallerGasLimitMoreThanBlock),
            GAS_LIMIT_REACHED
        );
    }

    #[test]
    fn halts_use_geth_wording() {
        let msg = |h| halt_message(&OpHaltReason::Base(h));
        assert_eq!(msg(HaltReason::InvalidFEOpcode), "invalid opcode: INVALID");
        assert_eq!(
            msg(HaltReason::OutOfGas(OutOfGasError::Basic)),
            "out of gas"
        );
        assert_eq!(halt_message(&OpHaltReason::FailedDeposit), "failed deposit");
    }
}
