use super::*;
use alloy_primitives::address;
use revm::bytecode::opcode;

const TOKEN: Address = address!("0x00000000000000000000000000000000000000aa");

fn word(value: u64) -> U256 {
    U256::from(value)
}

/// Logs a read of `TOKEN`'s `slot` that gave `value`.
fn read(log: &mut SsaLog, slot: u64, value: U256) -> Operand {
    log.push(
        Kind::Source {
            address: TOKEN,
            slot: word(slot),
        },
        value,
    )
}

/// `balance = sload(1); require(balance + 3 > balance); sstore(1, balance + 3)`.
fn add_three() -> (SsaLog, Operand, Operand) {
    let mut log = SsaLog::default();
    let balance = read(&mut log, 1, word(5));
    let three = Operand::constant(word(3));
    let sum = log.push(
        Kind::Op {
            opcode: opcode::ADD,
            inputs: [balance, three],
            arity: 2,
        },
        word(8),
    );
    let overflow = log.push(
        Kind::Op {
            opcode: opcode::GT,
            inputs: [balance, sum],
            arity: 2,
        },
        word(0),
    );
    log.push(
        Kind::Guard {
            defs: vec![overflow.def],
        },
        U256::ZERO,
    );
    log.push(
        Kind::Store {
            original: balance,
            present: balance,
            new: sum,
        },
        U256::ZERO,
    );
    (log, balance, sum)
}

#[test]
fn a_changed_read_recomputes_what_depends_on_it() {
    let (mut log, balance, sum) = add_three();
    let changed = log.redo(|_, _| Some(word(40))).expect("redo");
    assert_eq!(changed, [true, true, false, false, false]);
    assert_eq!(log.value(balance), word(40));
    assert_eq!(log.value(sum), word(43));
    // The log now records the new execution: a second redo starts from it.
    let Kind::Store { new, .. } = &log.entries[4].kind else {
        panic!("a store")
    };
    assert_eq!(new.value, word(43));
    let changed = log.redo(|_, _| Some(word(40))).expect("redo");
    assert!(changed.iter().all(|c| !c));
}

#[test]
fn a_guarded_value_that_changes_fails_the_redo() {
    let (mut log, ..) = add_three();
    // balance + 3 overflows: the branch goes the other way.
    assert_eq!(log.redo(|_, _| Some(U256::MAX)), Err(RedoFailure::Guard));
    let (mut log, ..) = add_three();
    assert_eq!(log.redo(|_, _| None), Err(RedoFailure::Guard));
}

#[test]
fn a_store_whose_gas_changes_fails_the_redo() {
    let (mut log, ..) = add_three();
    // From zero, the store creates the slot: 20,000 gas instead of 2,900.
    assert_eq!(
        log.redo(|_, _| Some(U256::ZERO)),
        Err(RedoFailure::StoreGas)
    );
}

#[test]
fn a_load_takes_the_new_bytes_of_a_stored_value() {
    let mut log = SsaLog::default();
    let value = read(&mut log, 0, word(0x1234));
    // The word at offset 16 after `mstore(0, value)`: its first 16 bytes are the value's
    // last 16, the others a constant 0xff.
    let recorded = (word(0x1234) << 128) | (U256::MAX >> 128);
    let bytes = (0..16)
        .map(|i| ByteSource {
            position: u32::from(i),
            def: value.def,
            byte: 16 + i,
        })
        .collect();
    let load = log.push(Kind::Load { bytes }, recorded);
    log.redo(|_, _| Some(word(0xabcd))).expect("redo");
    assert_eq!(log.value(load), (word(0xabcd) << 128) | (U256::MAX >> 128));
}
