//! Unit tests of [`BlockDb`](super::BlockDb).

use super::*;
use crate::test_utils::MemState;
use revm::state::EvmStorageSlot;

const A: Address = Address::repeat_byte(0xa);

/// An account without code.
fn plain(nonce: u64, balance: u64) -> Account {
    Account {
        nonce,
        balance: U256::from(balance),
        code_hash: KECCAK256_EMPTY,
    }
}

fn state() -> MemState {
    let mut state = MemState::default();
    state.accounts.insert(A, plain(1, 10));
    state.storage.insert((A, U256::from(1)), U256::from(100));
    state
}

/// A touched journal account for `info` with `slots` changed as `(slot, from, to)`.
fn touched(info: AccountInfo, slots: &[(u64, u64, u64)]) -> EvmAccount {
    let mut account = EvmAccount::from(info);
    account.mark_touch();
    for (slot, from, to) in slots {
        let mut value = EvmStorageSlot::new(U256::from(*from), 0);
        value.present_value = U256::from(*to);
        account.storage.insert(U256::from(*slot), value);
    }
    account
}

#[test]
fn reads_through_and_reports_only_real_changes() {
    let state = state();
    let mut db = BlockDb::new(&state, None);
    let info = db.basic(A).unwrap().unwrap();
    assert_eq!(info.balance, U256::from(10));
    assert_eq!(db.storage(A, U256::from(1)).unwrap(), U256::from(100));
    assert_eq!(db.storage(A, U256::from(2)).unwrap(), U256::ZERO);
    let changed = touched(info, &[(1, 100, 7), (2, 0, 0)]);
    db.apply(&EvmState::from_iter([(A, changed)])).unwrap();
    assert_eq!(db.storage(A, U256::from(1)).unwrap(), U256::from(7));
    let changes = db.into_changes().unwrap();
    let update = &changes.accounts[&A];
    assert_eq!(update.storage.len(), 1);
    assert_eq!(update.storage[&U256::from(1)], U256::from(7));
    assert_eq!(update.account.unwrap().nonce, 1);
    assert!(!update.wipe_storage);
}

#[test]
fn destroyed_account_is_deleted_with_its_storage() {
    let state = state();
    let mut db = BlockDb::new(&state, None);
    let info = db.basic(A).unwrap().unwrap();
    let mut gone = touched(info, &[]);
    gone.mark_selfdestruct();
    db.apply(&EvmState::from_iter([(A, gone)])).unwrap();
    assert_eq!(db.basic(A).unwrap(), None);
    assert_eq!(db.storage(A, U256::from(1)).unwrap(), U256::ZERO);
    let update = &db.into_changes().unwrap().accounts[&A];
    assert_eq!((update.account, update.wipe_storage), (None, true));
}

#[test]
fn touched_empty_new_account_leaves_no_trace() {
    let state = state();
    let mut db = BlockDb::new(&state, None);
    let b = Address::repeat_byte(0xb);
    assert_eq!(db.basic(b).unwrap(), None);
    db.apply(&EvmState::from_iter([(
        b,
        touched(AccountInfo::default(), &[]),
    )]))
    .unwrap();
    assert!(db.into_changes().unwrap().is_empty());
}

#[test]
fn overrides_replace_or_patch_storage_and_code() {
    let state = state();
    let mut db = BlockDb::new(&state, None);
    db.set_storage(A, U256::from(3), U256::from(3)).unwrap();
    assert_eq!(db.storage(A, U256::from(1)).unwrap(), U256::from(100));
    db.clear_storage(A).unwrap();
    db.set_storage(A, U256::from(3), U256::from(4)).unwrap();
    assert_eq!(db.storage(A, U256::from(1)).unwrap(), U256::ZERO);
    assert_eq!(db.storage(A, U256::from(3)).unwrap(), U256::from(4));
    db.set_code(A, Bytes::from_static(&[0x00])).unwrap();
    let hash = db.basic(A).unwrap().unwrap().code_hash;
    assert_eq!(
        db.code_by_hash(hash).unwrap().original_bytes().as_ref(),
        &[0x00]
    );
}

#[test]
fn unknown_code_is_an_error() {
    let state = state();
    let mut db = BlockDb::new(&state, None);
    assert!(matches!(
        db.code_by_hash(B256::repeat_byte(1)),
        Err(DbError::MissingCode(_))
    ));
    assert_eq!(db.block_hash(5).unwrap(), B256::ZERO);
    let bad_delegation = Bytes::from_static(&[0xef, 0x01, 0x00, 0x01]);
    assert_eq!(
        bytecode_from_raw(bad_delegation.clone()).original_bytes(),
        bad_delegation
    );
}

/// Two parts of a block over `state`: the first writes slot 1 of `A` and destroys `B`'s
/// storage-bearing account; the second read what it read before them.
mod chunked {
    use super::*;
    use crate::db::ChunkedState;

    const B: Address = Address::repeat_byte(0xb);

    fn two_accounts() -> MemState {
        let mut state = state();
        state.accounts.insert(B, plain(1, 5));
        state.storage.insert((B, U256::from(7)), U256::from(70));
        state
    }

    /// The first part: slot 1 of `A` from 100 to 101, `B` destroyed.
    fn first_part(state: &MemState) -> BlockDb<'_> {
        let mut db = BlockDb::new(state, None);
        let a = db.basic(A).unwrap().unwrap();
        db.storage(A, U256::from(1)).unwrap();
        let b = db.basic(B).unwrap().unwrap();
        let mut gone = touched(b, &[]);
        gone.mark_selfdestruct();
        let written = touched(a, &[(1, 100, 101)]);
        db.apply(&EvmState::from_iter([(A, written), (B, gone)]))
            .unwrap();
        db
    }

    #[test]
    fn a_later_part_holds_only_if_it_read_what_the_earlier_left() {
        let state = two_accounts();
        let before = ChunkedState::new(first_part(&state));
        // Reads of untouched values and of `A` itself (unchanged account fields) hold.
        let mut later = BlockDb::new(&state, None).recording_reads();
        later.basic(A).unwrap();
        later.storage(A, U256::from(2)).unwrap();
        let shared = before.check(&later.take_reads(), &later).expect("holds");
        assert_eq!(shared, [(A, 0)]);
        // Slot 1 of `A` changed; `B` is gone, so its slot 7 reads zero now.
        for (address, slot) in [(A, 1u64), (B, 7)] {
            let mut later = BlockDb::new(&state, None).recording_reads();
            later.storage(address, U256::from(slot)).unwrap();
            assert!(
                before.check(&later.take_reads(), &later).is_none(),
                "{address} slot {slot}"
            );
        }
        let mut later = BlockDb::new(&state, None).recording_reads();
        later.basic(B).unwrap();
        assert!(
            before.check(&later.take_reads(), &later).is_none(),
            "B's account"
        );
    }

    /// The values a later part read are those it read, not those it left: a part that read
    /// `A` before the first part paid it and then paid it the same itself does not hold.
    #[test]
    fn a_later_part_is_checked_on_what_it_read_not_what_it_left() {
        let state = two_accounts();
        let mut first = BlockDb::new(&state, None);
        assert!(first.credit(A, U256::from(1)).unwrap());
        let before = ChunkedState::new(first);
        let mut later = BlockDb::new(&state, None).recording_reads();
        assert!(later.credit(A, U256::from(1)).unwrap());
        // Both left A with balance 11.
        assert_eq!(later.account(A).unwrap(), Some(plain(1, 11)));
        assert!(before.check(&later.take_reads(), &later).is_none());
    }

    /// A fee paid to an account no part holds loads it into the last part, whose address
    /// filter was computed before: a later part that read the account must still not hold.
    #[test]
    fn a_later_part_is_checked_on_an_account_a_fee_brought_in() {
        let state = two_accounts();
        let first = first_part(&state);
        let updates = Some(first.small_updates().unwrap());
        let mut before = ChunkedState::with_updates(first, updates);
        let recipient = Address::repeat_byte(0xc);
        assert!(before.credit(recipient, U256::from(3)).unwrap());
        let mut later = BlockDb::new(&state, None).recording_reads();
        later.basic(recipient).unwrap();
        assert!(before.check(&later.take_reads(), &later).is_none());
    }

    #[test]
    fn parts_merge_into_the_changes_of_one_run() {
        // With the updates of the parts computed as they are added (chunks), or at the end
        // (a part that ran again in order).
        for computed_first in [false, true] {
            parts_merge(computed_first);
        }
    }

    fn parts_merge(computed_first: bool) {
        let state = two_accounts();
        let first = first_part(&state);
        let mut before = if computed_first {
            let updates = Some(first.small_updates().unwrap());
            ChunkedState::with_updates(first, updates)
        } else {
            ChunkedState::new(first)
        };
        let mut later = BlockDb::new(&state, None).recording_reads();
        let a = later.basic(A).unwrap().unwrap();
        later.storage(A, U256::from(2)).unwrap();
        let written = touched(a, &[(2, 0, 2)]);
        later.apply(&EvmState::from_iter([(A, written)])).unwrap();
        let shared = before.check(&later.take_reads(), &later).unwrap();
        // A's update in each part alone is stale once they merge.
        let updates = Some(later.small_updates().unwrap());
        before.add(later, shared, updates);
        assert!(
            before
                .credit(Address::repeat_byte(0xc), U256::from(3))
                .unwrap()
        );
        let changes = before.into_changes().unwrap();
        let a = &changes.accounts[&A];
        let slots: Vec<_> = a
            .storage
            .iter()
            .map(|(k, v)| (k.to::<u64>(), v.to::<u64>()))
            .collect();
        assert_eq!(slots, [(1, 101), (2, 2)]);
        assert_eq!(changes.accounts[&B].account, None);
        assert_eq!(
            changes.accounts[&Address::repeat_byte(0xc)]
                .account
                .unwrap()
                .balance,
            U256::from(3)
        );
    }

    /// The first part ([`first_part`]), which also reads slot 2 of `A` (200).
    fn first_part_reading_slot_2(state: &MemState) -> BlockDb<'_> {
        let mut db = first_part(state);
        db.storage(A, U256::from(2)).unwrap();
        db
    }

    /// A later part that reads slots 2 and 3 of `A`, writes slots 2 and 4 and its nonce,
    /// and created it again first when `wipes`.
    fn later_part(state: &MemState, wipes: bool) -> BlockDb<'_> {
        let mut db = BlockDb::new(state, None).recording_reads();
        let mut a = db.basic(A).unwrap().unwrap();
        db.storage(A, U256::from(2)).unwrap();
        db.storage(A, U256::from(3)).unwrap();
        a.nonce += 1;
        let mut written = touched(a, &[(2, 200, 202), (4, 0, 4)]);
        if wipes {
            written.mark_created();
        }
        db.apply(&EvmState::from_iter([(A, written)])).unwrap();
        db
    }

    /// The first part and the later one, which shares `A` with it: more slots than an
    /// account may have to be moved from part to part in tests, so `A` stays in both.
    fn layered(state: &MemState, wipes: bool) -> ChunkedState<'_> {
        let mut chunked = ChunkedState::new(first_part_reading_slot_2(state));
        let mut later = later_part(state, wipes);
        let shared = chunked.check(&later.take_reads(), &later).expect("holds");
        assert_eq!(shared, [(A, 0)]);
        let updates = Some(later.small_updates().unwrap());
        chunked.add(later, shared, updates);
        chunked
    }

    #[test]
    fn layers_of_a_shared_account_give_the_changes_of_one_run() {
        let mut state = two_accounts();
        for (slot, value) in [(2u64, 200u64), (3, 300)] {
            state
                .storage
                .insert((A, U256::from(slot)), U256::from(value));
        }
        for wipes in [false, true] {
            let chunked = layered(&state, wipes);
            // A third part sees each slot as the latest layer holding it left it: slot 1 as
            // the first left it, slot 2 as the later one did, slot 3 as it was (zero after
            // a wipe), slot 5 as it was.
            // (Its read of `A` itself would not hold: the later part changed the nonce.)
            let third = BlockDb::new(&state, None);
            for (slot, holds) in [(1u64, false), (2, false), (3, !wipes), (5, true)] {
                let value = state.storage.get(&(A, U256::from(slot))).copied();
                let slots = vec![(A, U256::from(slot), value.unwrap_or_default())];
                let reads = Reads {
                    accounts: Vec::new(),
                    slots,
                };
                let held = chunked.check(&reads, &third).is_some();
                assert_eq!(held, holds, "slot {slot}, wipes {wipes}");
            }
            let changes = chunked.into_changes().unwrap();
            // The same parts absorbed one into the other.
            let one = layered(&state, wipes).into_one().into_changes().unwrap();
            assert_eq!(changes, one, "wipes {wipes}");
            let a = &changes.accounts[&A];
            let slots: Vec<_> = (a.storage.iter())
                .map(|(k, v)| (k.to::<u64>(), v.to::<u64>()))
                .collect();
            let expected: &[(u64, u64)] = match wipes {
                false => &[(1, 101), (2, 202), (4, 4)],
                true => &[(2, 202), (4, 4)],
            };
            assert_eq!(slots, expected);
            assert_eq!((a.account.unwrap().nonce, a.wipe_storage), (2, wipes));
        }
    }

    #[test]
    fn a_credit_touches_like_a_fee_payment() {
        let mut state = state();
        state.accounts.insert(B, plain(0, 0));
        let mut db = BlockDb::new(&state, None);
        // A zero payment to an existing empty account deletes it (EIP-161).
        assert!(db.credit(B, U256::ZERO).unwrap());
        assert_eq!(db.account(B).unwrap(), None);
        // A payment that would overflow is dropped; the account stays as it was.
        assert!(!db.credit(A, U256::MAX).unwrap());
        assert_eq!(db.account(A).unwrap().unwrap().balance, U256::from(10));
        assert!(!db.can_credit(A, U256::MAX).unwrap());
        assert!(db.can_credit(A, U256::from(1)).unwrap());
    }
}

/// A read is the provider's while nothing changed it (a slot read after its account was
/// wiped is not, even when zero); a seeded value is cached only where the database would
/// otherwise read the provider, and then reads back as it was given.
#[test]
fn reads_as_before_are_seeded_only_where_the_provider_would_be_read() {
    let state = state();
    let slot = |n: u64, v: u64| ProviderRead::Slot(A, U256::from(n), U256::from(v));
    let mut db = BlockDb::new(&state, None);
    let info = db.basic(A).unwrap().unwrap();
    assert_eq!(db.storage(A, U256::from(1)).unwrap(), U256::from(100));
    assert!(db.is_as_before(&ProviderRead::Account(A, Some(plain(1, 10)))));
    assert!(db.is_as_before(&slot(1, 100)));
    assert!(!db.is_as_before(&slot(1, 7)));
    // Cached already: not seeded, whatever the value.
    assert!(!db.seed(&ProviderRead::Account(A, Some(plain(5, 5)))));
    assert!(!db.seed(&slot(1, 5)));
    // Not cached: seeded, and read back.
    assert!(db.seed(&slot(2, 9)));
    assert_eq!(db.storage(A, U256::from(2)).unwrap(), U256::from(9));
    let b = Address::repeat_byte(0xb);
    assert!(db.seed(&ProviderRead::Account(b, Some(plain(3, 4)))));
    assert_eq!(db.account(b).unwrap(), Some(plain(3, 4)));
    // Changed: no longer the provider's.
    db.apply(&EvmState::from_iter([(A, touched(info, &[(1, 100, 7)]))]))
        .unwrap();
    assert!(!db.is_as_before(&slot(1, 7)));
    // Wiped: nothing is the provider's, nor seeded.
    let mut gone = touched(db.basic(A).unwrap().unwrap(), &[]);
    gone.mark_selfdestruct();
    db.apply(&EvmState::from_iter([(A, gone)])).unwrap();
    assert_eq!(db.storage(A, U256::from(3)).unwrap(), U256::ZERO);
    assert!(!db.is_as_before(&slot(3, 0)));
    assert!(!db.seed(&slot(4, 1)));
}

#[test]
fn the_empty_code_of_a_thread_is_revms_empty_code() {
    let (ours, revms) = (empty_code(), Bytecode::default());
    assert_eq!(ours, revms);
    assert_eq!(ours.bytecode(), revms.bytecode());
    assert_eq!(ours.original_bytes(), revms.original_bytes());
    assert_eq!(
        (ours.len(), ours.is_empty()),
        (revms.len(), revms.is_empty())
    );
    assert_eq!(ours.hash_slow(), KECCAK256_EMPTY);
    assert_eq!(ours.legacy_jump_table().map(|t| t.len()), Some(0));
    assert!(ours.is_legacy() && !ours.is_eip7702());
    // An account without code comes with it, so that revm does not load revm's.
    let info = account_info(plain(1, 10));
    assert_eq!(info.code, Some(revms));
}
