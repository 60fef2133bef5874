use super::*;
use redb::TableHandle;

const PARAMS: LocalSettlementParams = LocalSettlementParams {
    submission_interval: 10,
    starting_block_number: 0,
};

fn proposal(l2_block_number: u64, root: u8) -> Proposal {
    Proposal {
        output_root: B256::repeat_byte(root),
        l2_block_number,
        l1_block_hash: B256::ZERO,
        l1_block_number: 0,
    }
}

fn temp_store(head: u64) -> (tempfile::TempDir, LocalSettlement) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalSettlement::open(
        dir.path().join("nested/settlement.redb"),
        PARAMS,
        L2Head::at(head),
    )
    .unwrap();
    (dir, store)
}

fn reason(err: SettlementError) -> String {
    match err {
        SettlementError::Reverted(reason) => reason,
        other => panic!("expected a revert, got {other:?}"),
    }
}

#[tokio::test]
async fn proposes_in_order_through_dyn_client() {
    let (_dir, store) = temp_store(100);
    let client: Arc<dyn SettlementClient> = Arc::new(store);
    assert_eq!(client.kind(), "local");
    assert_eq!(client.latest_proposed_block().await.unwrap(), None);
    assert_eq!(client.next_block_number().await.unwrap(), 10);

    let receipt = client.propose(proposal(10, 1)).await.unwrap();
    assert_eq!(
        receipt,
        ProposalReceipt {
            tx_hash: None,
            l1_block: None
        }
    );
    client.propose(proposal(20, 2)).await.unwrap();

    assert_eq!(client.latest_proposed_block().await.unwrap(), Some(20));
    assert_eq!(client.next_block_number().await.unwrap(), 30);
    let out = client.output_at(20).await.unwrap().unwrap();
    assert_eq!(
        (out.output_root, out.l2_block_number, out.index),
        (B256::repeat_byte(2), 20, 1)
    );
    assert!(out.timestamp > 0);
    assert_eq!(client.output_at(10).await.unwrap().unwrap().index, 0);
    assert_eq!(client.output_at(15).await.unwrap(), None);
}

#[test]
fn enforces_the_contract_rules_with_its_messages() {
    let (_dir, store) = temp_store(15);
    let wrong = store.propose_blocking(&proposal(11, 1)).unwrap_err();
    assert_eq!(reason(wrong), REVERT_BLOCK_NUMBER);
    let zero = store.propose_blocking(&proposal(10, 0)).unwrap_err();
    assert_eq!(reason(zero), REVERT_ZERO_ROOT);
    store.propose_blocking(&proposal(10, 1)).unwrap();
    let again = store.propose_blocking(&proposal(10, 1)).unwrap_err();
    assert_eq!(reason(again), REVERT_BLOCK_NUMBER);
    let future = store.propose_blocking(&proposal(20, 1)).unwrap_err();
    assert_eq!(reason(future), REVERT_FUTURE);
    store.head().set(20);
    store.propose_blocking(&proposal(20, 1)).unwrap();
    assert_eq!(store.latest_proposed_block_blocking().unwrap(), Some(20));
}

#[test]
fn unknown_head_rejects_as_future_and_errors_do_not_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalSettlement::open(dir.path().join("s.redb"), PARAMS, L2Head::new()).unwrap();
    let err = store.propose_blocking(&proposal(10, 1)).unwrap_err();
    assert_eq!(reason(err), REVERT_FUTURE);
    assert_eq!(store.latest_proposed_block_blocking().unwrap(), None);
    assert_eq!(store.output_at_blocking(10).unwrap(), None);
}

#[test]
fn starting_block_number_offsets_the_first_proposal() {
    let dir = tempfile::tempdir().unwrap();
    let params = LocalSettlementParams {
        submission_interval: 5,
        starting_block_number: 100,
    };
    let store = LocalSettlement::open(dir.path().join("s.redb"), params, L2Head::at(200)).unwrap();
    assert_eq!(store.next_block_number_blocking().unwrap(), 105);
    store.propose_blocking(&proposal(105, 9)).unwrap();
    assert_eq!(store.next_block_number_blocking().unwrap(), 110);
}

#[test]
fn outputs_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let first = LocalSettlement::open(&path, PARAMS, L2Head::at(50)).unwrap();
    first.propose_blocking(&proposal(10, 1)).unwrap();
    first.propose_blocking(&proposal(20, 2)).unwrap();
    let before = first.output_at_blocking(20).unwrap();
    drop(first);

    let store = LocalSettlement::open(&path, PARAMS, L2Head::at(50)).unwrap();
    assert_eq!(store.latest_proposed_block_blocking().unwrap(), Some(20));
    assert_eq!(store.output_at_blocking(20).unwrap(), before);
    assert_eq!(store.next_block_number_blocking().unwrap(), 30);
    store.propose_blocking(&proposal(30, 3)).unwrap();
    assert_eq!(store.output_at_blocking(30).unwrap().unwrap().index, 2);
}

#[test]
fn reopen_with_different_params_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    drop(LocalSettlement::open(&path, PARAMS, L2Head::new()).unwrap());
    let other = LocalSettlementParams {
        submission_interval: 7,
        ..PARAMS
    };
    let err = LocalSettlement::open(&path, other, L2Head::new()).unwrap_err();
    assert!(
        matches!(err, SettlementError::InvalidConfig(ref m) if m.contains("submission_interval")),
        "{err}"
    );
    let zero = LocalSettlementParams {
        submission_interval: 0,
        ..PARAMS
    };
    let err = LocalSettlement::open(dir.path().join("z.redb"), zero, L2Head::new()).unwrap_err();
    assert!(matches!(err, SettlementError::InvalidConfig(_)));
}

#[test]
fn shared_database_uses_prefixed_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::create(dir.path().join("node.redb")).unwrap());
    let store = LocalSettlement::with_database(db.clone(), PARAMS, L2Head::at(10)).unwrap();
    store.propose_blocking(&proposal(10, 1)).unwrap();
    let txn = db.begin_read().unwrap();
    let tables: Vec<String> = txn
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_string())
        .collect();
    assert_eq!(tables.len(), 2, "{tables:?}");
    assert!(
        tables.iter().all(|t| t.starts_with("settlement_")),
        "{tables:?}"
    );
}

#[test]
fn malformed_stored_output_is_a_storage_error() {
    let (_dir, store) = temp_store(10);
    let txn = store.db.begin_write().unwrap();
    txn.open_table(OUTPUTS)
        .unwrap()
        .insert(10, &b"short"[..])
        .unwrap();
    txn.commit().unwrap();
    assert!(matches!(
        store.output_at_blocking(10),
        Err(SettlementError::Storage(_))
    ));
}

#[test]
fn stored_output_round_trips() {
    let bytes = encode_output(B256::repeat_byte(7), 3, 1_700_000_000);
    let out = decode_output(42, &bytes).unwrap();
    assert_eq!(
        out,
        ProposedOutput {
            output_root: B256::repeat_byte(7),
            l2_block_number: 42,
            timestamp: 1_700_000_000,
            index: 3,
        }
    );
}
