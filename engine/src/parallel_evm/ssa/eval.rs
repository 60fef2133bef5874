//! The operations a redo recomputes: the EVM's arithmetic, comparison and bitwise opcodes,
//! whose gas does not depend on their values.

use alloy_primitives::U256;
use revm::{
    bytecode::opcode,
    interpreter::instructions::i256::{i256_cmp, i256_div, i256_mod},
};
use std::cmp::Ordering;

/// Whether [`evaluate`] recomputes `opcode`.
pub(crate) const fn is_recomputed(op: u8) -> bool {
    matches!(
        op,
        opcode::ADD
            | opcode::MUL
            | opcode::SUB
            | opcode::DIV
            | opcode::SDIV
            | opcode::MOD
            | opcode::SMOD
            | opcode::SIGNEXTEND
            | opcode::LT
            | opcode::GT
            | opcode::SLT
            | opcode::SGT
            | opcode::EQ
            | opcode::ISZERO
            | opcode::AND
            | opcode::OR
            | opcode::XOR
            | opcode::NOT
            | opcode::BYTE
            | opcode::SHL
            | opcode::SHR
            | opcode::SAR
    )
}

/// The output of `op` on `args` (the top of the stack first), as revm computes it; `None`
/// for an opcode [`is_recomputed`] does not accept or the wrong number of arguments.
pub(crate) fn evaluate(op: u8, args: &[U256]) -> Option<U256> {
    let value = match *args {
        [a] => match op {
            opcode::ISZERO => U256::from(a.is_zero()),
            opcode::NOT => !a,
            _ => return None,
        },
        [a, b] => binary(op, a, b)?,
        _ => return None,
    };
    Some(value)
}

fn binary(op: u8, a: U256, b: U256) -> Option<U256> {
    let value = match op {
        opcode::ADD => a.wrapping_add(b),
        opcode::MUL => a.wrapping_mul(b),
        opcode::SUB => a.wrapping_sub(b),
        opcode::DIV => a.checked_div(b).unwrap_or_default(),
        opcode::SDIV => i256_div(a, b),
        opcode::MOD => a.checked_rem(b).unwrap_or_default(),
        opcode::SMOD => i256_mod(a, b),
        opcode::SIGNEXTEND => sign_extend(a, b),
        opcode::LT => U256::from(a < b),
        opcode::GT => U256::from(a > b),
        opcode::SLT => U256::from(i256_cmp(&a, &b) == Ordering::Less),
        opcode::SGT => U256::from(i256_cmp(&a, &b) == Ordering::Greater),
        opcode::EQ => U256::from(a == b),
        opcode::AND => a & b,
        opcode::OR => a | b,
        opcode::XOR => a ^ b,
        opcode::BYTE => byte(a, b),
        opcode::SHL => shift(a).map_or(U256::ZERO, |s| b << s),
        opcode::SHR => shift(a).map_or(U256::ZERO, |s| b >> s),
        opcode::SAR => match shift(a) {
            Some(s) => b.arithmetic_shr(s),
            None if b.bit(255) => U256::MAX,
            None => U256::ZERO,
        },
        _ => return None,
    };
    Some(value)
}

/// A shift amount below 256, `None` for a larger one.
fn shift(amount: U256) -> Option<usize> {
    usize::try_from(amount).ok().filter(|s| *s < 256)
}

/// `BYTE`: byte `index` of `word`, counted from the most significant.
fn byte(index: U256, word: U256) -> U256 {
    match usize::try_from(index) {
        Ok(i) if i < 32 => U256::from(word.byte(31 - i)),
        _ => U256::ZERO,
    }
}

/// `SIGNEXTEND`: `x` extended from its byte `ext` (counted from the least significant).
fn sign_extend(ext: U256, x: U256) -> U256 {
    if ext >= U256::from(31) {
        return x;
    }
    let bit_index = 8 * ext.as_limbs()[0] as usize + 7;
    let mask = (U256::from(1) << bit_index) - U256::from(1);
    if x.bit(bit_index) {
        x | !mask
    } else {
        x & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_zero_is_zero() {
        let seven = U256::from(7);
        for op in [opcode::DIV, opcode::MOD, opcode::SDIV, opcode::SMOD] {
            assert_eq!(
                evaluate(op, &[seven, U256::ZERO]),
                Some(U256::ZERO),
                "{op:#x}"
            );
        }
    }

    #[test]
    fn the_top_of_the_stack_is_the_first_operand() {
        let (ten, three) = (U256::from(10), U256::from(3));
        assert_eq!(evaluate(opcode::SUB, &[ten, three]), Some(U256::from(7)));
        assert_eq!(evaluate(opcode::LT, &[three, ten]), Some(U256::from(1)));
        assert_eq!(
            evaluate(opcode::SHL, &[U256::from(4), three]),
            Some(U256::from(48))
        );
        assert_eq!(evaluate(opcode::BYTE, &[U256::from(31), ten]), Some(ten));
    }

    #[test]
    fn signed_operations_read_twos_complement() {
        let minus_one = U256::MAX;
        assert_eq!(
            evaluate(opcode::SLT, &[minus_one, U256::ZERO]),
            Some(U256::from(1))
        );
        assert_eq!(
            evaluate(opcode::SAR, &[U256::from(300), minus_one]),
            Some(U256::MAX)
        );
        assert_eq!(
            evaluate(opcode::SIGNEXTEND, &[U256::ZERO, U256::from(0xff)]),
            Some(U256::MAX)
        );
    }

    #[test]
    fn other_opcodes_are_not_recomputed() {
        assert!(!is_recomputed(opcode::EXP));
        assert_eq!(evaluate(opcode::EXP, &[U256::from(2), U256::from(3)]), None);
        assert_eq!(evaluate(opcode::ADD, &[U256::from(2)]), None);
    }
}
