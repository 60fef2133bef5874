//! Which memory an instruction reads and writes, from its stack inputs (the top first).

use super::{log::Operand, shadow::MemoryRange};
use revm::bytecode::opcode;

/// Whether `op` reads or writes memory.
pub(crate) fn touches_memory(op: u8) -> bool {
    matches!(
        op,
        opcode::MLOAD
            | opcode::MSTORE
            | opcode::MSTORE8
            | opcode::KECCAK256
            | opcode::MCOPY
            | opcode::RETURN
            | opcode::REVERT
            | opcode::CREATE
            | opcode::CREATE2
            | opcode::CALLDATACOPY
            | opcode::CODECOPY
            | opcode::RETURNDATACOPY
            | opcode::EXTCODECOPY
            | opcode::CALL
            | opcode::CALLCODE
            | opcode::DELEGATECALL
            | opcode::STATICCALL
    ) || (opcode::LOG0..=opcode::LOG4).contains(&op)
}

/// The range of inputs `offset` and `len`.
fn range(inputs: &[Operand], offset: usize, len: usize) -> Option<MemoryRange> {
    Some(MemoryRange {
        offset: inputs.get(offset)?.value,
        len: inputs.get(len)?.value,
    })
}

/// The memory `op` reads (besides `MLOAD`): hashed, logged, returned, passed to a call or
/// copied.
pub(crate) fn memory_reads(op: u8, inputs: &[Operand]) -> Option<MemoryRange> {
    match op {
        opcode::KECCAK256 | opcode::RETURN | opcode::REVERT => range(inputs, 0, 1),
        op if (opcode::LOG0..=opcode::LOG4).contains(&op) => range(inputs, 0, 1),
        opcode::CALL | opcode::CALLCODE => range(inputs, 3, 4),
        opcode::DELEGATECALL | opcode::STATICCALL => range(inputs, 2, 3),
        opcode::CREATE | opcode::CREATE2 => range(inputs, 1, 2),
        opcode::MCOPY => range(inputs, 1, 2),
        _ => None,
    }
}

/// The memory `op` overwrites entirely (besides `MSTORE`), with data no logged value reaches.
pub(crate) fn memory_writes(op: u8, inputs: &[Operand]) -> Option<MemoryRange> {
    match op {
        opcode::CALLDATACOPY | opcode::CODECOPY | opcode::RETURNDATACOPY | opcode::MCOPY => {
            range(inputs, 0, 2)
        }
        opcode::EXTCODECOPY => range(inputs, 1, 3),
        _ => None,
    }
}

/// Where a call copies what the callee returned: only as much as it returned, so the rest
/// of the range keeps its bytes.
pub(crate) fn returned_into(op: u8, inputs: &[Operand]) -> Option<MemoryRange> {
    match op {
        opcode::CALL | opcode::CALLCODE => range(inputs, 5, 6),
        opcode::DELEGATECALL | opcode::STATICCALL => range(inputs, 4, 5),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    fn stack(values: &[u64]) -> Vec<Operand> {
        values
            .iter()
            .map(|v| Operand::constant(U256::from(*v)))
            .collect()
    }

    #[test]
    fn a_call_reads_its_arguments_and_returns_into_its_output_range() {
        // gas, address, value, args offset, args len, ret offset, ret len
        let inputs = stack(&[100, 1, 0, 64, 36, 128, 32]);
        let args = memory_reads(opcode::CALL, &inputs).expect("args");
        assert_eq!((args.offset, args.len), (U256::from(64), U256::from(36)));
        let ret = returned_into(opcode::CALL, &inputs).expect("ret");
        assert_eq!((ret.offset, ret.len), (U256::from(128), U256::from(32)));
        // a static call has no value
        let ret = returned_into(opcode::STATICCALL, &inputs[1..]).expect("ret");
        assert_eq!(ret.offset, U256::from(128));
    }

    #[test]
    fn every_memory_instruction_is_known() {
        for op in [
            opcode::LOG2,
            opcode::EXTCODECOPY,
            opcode::MCOPY,
            opcode::CREATE2,
        ] {
            assert!(touches_memory(op), "{op:#x}");
        }
        assert!(!touches_memory(opcode::ADD));
        let copy = memory_writes(opcode::EXTCODECOPY, &stack(&[9, 32, 0, 20])).expect("copy");
        assert_eq!((copy.offset, copy.len), (U256::from(32), U256::from(20)));
    }
}
