//! Unit tests of the multi-version memory.

use super::kv::KvVm;
use crate::parallel::{
    mv_memory::{Accumulated, MvMemory, ReadOrigin, Version},
    write_set::WriteOp,
};

type Memory = MvMemory<u64, u64, u64>;

const KEY: u64 = 1;

const fn v(tx: usize, incarnation: u64) -> Version {
    Version { tx, incarnation }
}

fn value(value: u64) -> WriteOp<u64, u64> {
    WriteOp::Value(value)
}

fn deltas(deltas: &[u64]) -> WriteOp<u64, u64> {
    WriteOp::Deltas(deltas.to_vec())
}

/// The full value, deltas and origin transaction `tx` reads at `KEY`.
fn read(memory: &Memory, tx: usize) -> (Option<u64>, Vec<u64>, ReadOrigin<u64>) {
    let resolved = memory.read(&KEY, tx).expect("not blocked");
    (resolved.value, resolved.deltas, resolved.origin)
}

#[test]
fn reads_the_highest_entry_strictly_below() {
    let memory = Memory::new(5);
    memory.record(v(1, 0), vec![(KEY, value(10))]);
    memory.record(v(3, 0), vec![(KEY, value(30))]);
    let base = ReadOrigin {
        deltas: vec![],
        source: None,
        accumulated: None,
    };
    assert_eq!(read(&memory, 0), (None, vec![], base.clone()));
    assert_eq!(read(&memory, 1), (None, vec![], base));
    let from_1 = ReadOrigin {
        deltas: vec![],
        source: Some(v(1, 0)),
        accumulated: None,
    };
    assert_eq!(read(&memory, 2), (Some(10), vec![], from_1.clone()));
    assert_eq!(read(&memory, 3), (Some(10), vec![], from_1));
    assert_eq!(read(&memory, 4).0, Some(30));
    assert_eq!(memory.read(&2, 4).map(|r| r.value).ok(), Some(None));
}

#[test]
fn deltas_fold_onto_the_nearest_full_value_or_storage() {
    let memory = Memory::new(6);
    memory.record(v(0, 0), vec![(KEY, deltas(&[7]))]);
    memory.record(v(1, 0), vec![(KEY, value(5))]);
    memory.record(v(2, 0), vec![(KEY, deltas(&[1]))]);
    memory.record(v(3, 0), vec![(KEY, deltas(&[2, 3]))]);
    let (full, list, origin) = read(&memory, 4);
    assert_eq!((full, list), (Some(5), vec![1, 2, 3]));
    assert_eq!(
        origin,
        ReadOrigin {
            deltas: vec![v(3, 0), v(2, 0)],
            source: Some(v(1, 0)),
            accumulated: None,
        }
    );
    assert_eq!(read(&memory, 3).1, vec![1]);
    let (full, list, origin) = read(&memory, 1);
    assert_eq!((full, list), (None, vec![7]));
    assert_eq!(
        origin,
        ReadOrigin {
            deltas: vec![v(0, 0)],
            source: None,
            accumulated: None,
        }
    );
}

#[test]
fn estimates_block_readers_above_only() {
    let memory = Memory::new(5);
    memory.record(v(1, 0), vec![(KEY, value(10))]);
    memory.record(v(2, 0), vec![(KEY, deltas(&[1]))]);
    memory.convert_writes_to_estimates(2);
    assert_eq!(memory.read(&KEY, 4).err(), Some(2));
    assert_eq!(memory.read(&KEY, 3).err(), Some(2));
    assert_eq!(read(&memory, 2).0, Some(10));
    memory.convert_writes_to_estimates(1);
    assert_eq!(memory.read(&KEY, 2).err(), Some(1));
}

#[test]
fn record_replaces_the_write_set() {
    let memory = Memory::new(3);
    assert!(memory.record(v(1, 0), vec![(1, value(1)), (2, value(2))]));
    assert!(memory.record(v(1, 1), vec![(2, value(20)), (3, deltas(&[3]))]));
    assert!(!memory.record(v(1, 2), vec![(2, value(21))]));
    assert_eq!(memory.read(&1, 2).map(|r| r.value).ok(), Some(None));
    assert_eq!(memory.read(&3, 2).map(|r| r.deltas).ok(), Some(vec![]));
    assert_eq!(memory.read(&2, 2).map(|r| r.value).ok(), Some(Some(21)));
    let sets = memory.into_write_sets().expect("no estimate");
    assert_eq!(sets, vec![vec![], vec![(2, value(21))], vec![]]);
}

#[test]
fn validation_sees_every_change_of_origin() {
    let memory = Memory::new(5);
    memory.record(v(1, 0), vec![(KEY, value(10))]);
    memory.record(v(2, 0), vec![(KEY, deltas(&[1]))]);
    let (_, _, origin) = read(&memory, 4);
    assert!(memory.validate_read(&KEY, 4, &origin));
    // A new incarnation writing the same delta still invalidates.
    memory.record(v(2, 1), vec![(KEY, deltas(&[1]))]);
    assert!(!memory.validate_read(&KEY, 4, &origin));
    let (_, _, origin) = read(&memory, 4);
    // A new entry between the reader and its origin invalidates.
    memory.record(v(3, 0), vec![(KEY, deltas(&[5]))]);
    assert!(!memory.validate_read(&KEY, 4, &origin));
    let (_, _, origin) = read(&memory, 4);
    memory.convert_writes_to_estimates(3);
    assert!(!memory.validate_read(&KEY, 4, &origin));
    // Removing the entry read from invalidates; storage origins stay valid.
    let base = memory.read(&9, 4).map(|r| r.origin).expect("not blocked");
    memory.record(v(1, 1), vec![]);
    assert!(!memory.validate_reads(&vm(), 4, &[(KEY, origin)]));
    assert!(memory.validate_reads(&vm(), 4, &[(9, base)]));
}

#[test]
fn write_sets_with_an_estimate_left_are_refused() {
    let memory = Memory::new(2);
    memory.record(v(0, 0), vec![(KEY, value(1))]);
    memory.convert_writes_to_estimates(0);
    assert!(memory.into_write_sets().is_none());
}

/// A VM whose only accumulator is key `0`.
fn vm() -> KvVm {
    KvVm {
        programs: Vec::new(),
        swallow_read_errors: false,
        serial: false,
        fee_lane: true,
    }
}

const FEE: u64 = 0;

fn record_fee(memory: &Memory, version: Version, set: Vec<(u64, WriteOp<u64, u64>)>) -> bool {
    memory.record_with(version, set, |key| *key == FEE)
}

/// The value transaction `tx` reads at [`FEE`] over a base of 100, and its origin.
fn read_fee(memory: &Memory, tx: usize) -> Result<(u64, ReadOrigin<u64>), usize> {
    let resolved = memory.read_accumulator(&FEE, tx)?;
    let below = resolved.value.or(Some(100));
    let value = resolved
        .deltas
        .iter()
        .fold(below.unwrap_or(0), |a, d| a + d);
    let mut origin = resolved.origin;
    origin.accumulated = Some(Box::new(Accumulated {
        below,
        value: Some(value),
    }));
    Ok((value, origin))
}

#[test]
fn accumulator_deltas_stay_in_lanes_and_reads_fold_them() {
    let memory = Memory::new(5);
    assert!(record_fee(&memory, v(0, 0), vec![(FEE, deltas(&[1, 2]))]));
    // Transaction 1 has not executed: a read above it waits for it.
    assert_eq!(read_fee(&memory, 3).err(), Some(1));
    record_fee(&memory, v(1, 0), vec![(7, value(70))]);
    record_fee(&memory, v(2, 0), vec![(FEE, deltas(&[4]))]);
    // The key itself has no entry: the deltas are in the lanes.
    assert_eq!(memory.read(&FEE, 3).map(|r| r.deltas).ok(), Some(vec![]));
    assert!(!memory.has_entries(&FEE));
    assert_eq!(
        memory.final_lanes(),
        None,
        "transactions 3 and 4 have not executed"
    );
    let (value, origin) = read_fee(&memory, 3).expect("all below executed");
    assert_eq!(value, 107);
    assert!(memory.validate_reads(&vm(), 3, &[(FEE, origin.clone())]));
    // The same deltas from a new incarnation: the value read is the same, still valid.
    record_fee(&memory, v(2, 1), vec![(FEE, deltas(&[4]))]);
    assert!(memory.validate_reads(&vm(), 3, &[(FEE, origin.clone())]));
    // Other deltas, or an aborted transaction below: invalid.
    record_fee(&memory, v(2, 2), vec![(FEE, deltas(&[5]))]);
    assert!(!memory.validate_reads(&vm(), 3, &[(FEE, origin)]));
    let (_, origin) = read_fee(&memory, 3).expect("all below executed");
    memory.convert_writes_to_estimates(1);
    assert!(!memory.validate_reads(&vm(), 3, &[(FEE, origin)]));
    assert_eq!(read_fee(&memory, 3).err(), Some(1));
}

#[test]
fn a_full_write_of_an_accumulator_hides_the_lanes_below() {
    let memory = Memory::new(3);
    record_fee(&memory, v(0, 0), vec![(FEE, deltas(&[1]))]);
    record_fee(&memory, v(1, 0), vec![(FEE, value(50))]);
    record_fee(&memory, v(2, 0), vec![(FEE, deltas(&[3]))]);
    // Transaction 0's lane is below the full value: not read, not waited for.
    memory.convert_writes_to_estimates(0);
    let (fee, _) = read_fee(&memory, 3).expect("nothing to wait for");
    assert_eq!(fee, 53);
    assert!(memory.has_entries(&FEE));
    assert_eq!(memory.final_lanes(), None, "transaction 0 is aborted");
    // The write sets keep the lanes' deltas in place.
    record_fee(&memory, v(0, 1), vec![(3, value(9)), (FEE, deltas(&[1]))]);
    assert_eq!(
        memory.final_lanes(),
        Some(vec![(FEE, vec![(0, 1), (2, 3)])])
    );
    let sets = memory.into_write_sets().expect("no estimate");
    assert_eq!(sets[0], vec![(3, value(9)), (FEE, deltas(&[1]))]);
    assert_eq!(sets[1], vec![(FEE, value(50))]);
    assert_eq!(sets[2], vec![(FEE, deltas(&[3]))]);
}
