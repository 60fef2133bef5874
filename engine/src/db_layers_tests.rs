//! Unit tests of the layers: the merge of sorted layers, and random parts sharing one
//! account with many slots, whose changes layered are those of the parts absorbed into one.

use super::*;
use crate::{
    db::{BlockDb, ChunkedState},
    test_utils::{MemState, Rng},
};
use alloy_primitives::KECCAK256_EMPTY;
use altius_state::Account;
use revm::{
    Database,
    state::{Account as EvmAccount, EvmState, EvmStorageSlot},
};

/// A layer's sorted slots from `(slot, value before the block, value now)`.
fn slots(entries: &[(u64, u64, u64)]) -> Cow<'static, [(U256, Slot)]> {
    let slot = |(k, original, current): &(u64, u64, u64)| {
        let (original, current) = (U256::from(*original), U256::from(*current));
        (U256::from(*k), Slot { original, current })
    };
    Cow::Owned(entries.iter().map(slot).collect())
}

#[test]
fn the_latest_layer_holding_a_slot_gives_its_value() {
    let layers = [
        slots(&[(1, 10, 11), (2, 20, 20), (5, 50, 51)]),
        slots(&[(2, 20, 22), (3, 0, 3), (5, 50, 50)]),
        slots(&[(3, 0, 4), (9, 90, 90)]),
    ];
    let changed: Vec<_> = changed_slots(&layers, false)
        .into_iter()
        .map(|(k, v)| (k.to::<u64>(), v.to::<u64>()))
        .collect();
    // Slot 5 went back to its value before the block; slot 9 was only read.
    assert_eq!(changed, [(1, 11), (2, 22), (3, 4)]);
    let after_wipe: Vec<_> = changed_slots(&layers[1..], true)
        .into_keys()
        .map(|k| k.to::<u64>())
        .collect();
    assert_eq!(after_wipe, [2, 3, 5, 9]);
}

/// The account the parts share.
const T: Address = Address::repeat_byte(0x7);

/// Its slots, some of them zero.
const SLOTS: u64 = 8;

/// A state holding `T`, with random slots.
fn shared_state(rng: &mut Rng) -> MemState {
    let mut state = MemState::default();
    let account = Account {
        nonce: 1,
        balance: U256::from(100),
        code_hash: KECCAK256_EMPTY,
    };
    state.accounts.insert(T, account);
    // Half of them zero, so that parts after a wipe (which reads zero) hold too.
    for slot in 0..SLOTS {
        if rng.below(2) == 0 {
            state
                .storage
                .insert((T, U256::from(slot)), U256::from(1 + rng.below(2)));
        }
    }
    state
}

/// A part over `state` (logging its reads unless it is the first): it reads `T` and some
/// of its slots, writes some (small values, often the one it read), and sometimes creates
/// `T` again (a wipe) or bumps its nonce.
fn random_part<'a>(state: &'a MemState, rng: &mut Rng, first: bool) -> BlockDb<'a> {
    let mut db = BlockDb::new(state, None);
    if !first {
        db = db.recording_reads();
    }
    let info = db.basic(T).unwrap().unwrap_or_default();
    for _ in 0..rng.below(4) {
        db.storage(T, U256::from(rng.below(SLOTS))).unwrap();
    }
    let mut account = EvmAccount::from(info);
    account.mark_touch();
    if rng.below(4) == 0 {
        account.mark_created();
    }
    if rng.below(8) == 0 {
        account.info.nonce += 1;
    }
    for _ in 0..rng.below(5) {
        let slot = U256::from(rng.below(SLOTS));
        let mut value = EvmStorageSlot::new(db.storage(T, slot).unwrap(), 0);
        value.present_value = U256::from(rng.below(3));
        account.storage.insert(slot, value);
    }
    db.apply(&EvmState::from_iter([(T, account)])).unwrap();
    db
}

/// The chunked state after a random first part and the later ones that hold after it
/// (most of them layers of `T`), drawn from `seed`; and how many were taken.
fn random_parts(state: &MemState, seed: u64) -> (ChunkedState<'_>, usize) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let first = random_part(state, &mut rng, true);
    let mut chunked = match rng.below(2) {
        0 => ChunkedState::new(first),
        _ => {
            let updates = Some(first.small_updates().unwrap());
            ChunkedState::with_updates(first, updates)
        }
    };
    let mut taken = 0;
    for _ in 0..=rng.below(4) {
        let mut later = random_part(state, &mut rng, false);
        let reads = later.take_reads();
        if let Some(shared) = chunked.check(&reads, &later) {
            // Computed on the chunk's thread, or with the run's changes (pipelined chunks).
            let updates = (rng.below(2) == 0).then(|| later.small_updates().unwrap());
            chunked.add(later, shared, updates);
            taken += 1;
        }
    }
    (chunked, taken)
}

/// Random parts sharing `T`: its layers give every read the parts absorbed into one give,
/// and the same changes.
#[test]
fn random_layers_read_and_change_like_the_parts_absorbed_into_one() {
    let mut taken_blocks = 0;
    for seed in 1..=2000u64 {
        let state = shared_state(&mut Rng(seed));
        let (layered, taken) = random_parts(&state, seed);
        let one = ChunkedState::new(random_parts(&state, seed).0.into_one());
        let mut rng = Rng(seed ^ 0x5555);
        for _ in 0..4 {
            let mut reader = random_part(&state, &mut rng, false);
            let reads = reader.take_reads();
            let holds = |chunked: &ChunkedState<'_>| chunked.check(&reads, &reader).is_some();
            assert_eq!(holds(&layered), holds(&one), "seed {seed}");
        }
        let expected = one.into_one().into_changes().unwrap();
        assert_eq!(layered.into_changes().unwrap(), expected, "seed {seed}");
        taken_blocks += usize::from(taken > 0);
    }
    // Most blocks took a later part (as a layer or absorbed).
    assert!(
        taken_blocks > 500,
        "{taken_blocks} blocks took a later part"
    );
}
