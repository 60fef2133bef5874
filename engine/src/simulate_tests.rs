//! Tests of `eth_call` and `eth_estimateGas` semantics.

use super::*;
use crate::{estimate_gas, test_utils::*};
use alloy_primitives::address;

const ADDER: Address = address!("0x00000000000000000000000000000000000000a1");
const REVERTER: Address = address!("0x00000000000000000000000000000000000000a2");
const READER: Address = address!("0x00000000000000000000000000000000000000a3");
const STORER: Address = address!("0x00000000000000000000000000000000000000a4");
const LOOPER: Address = address!("0x00000000000000000000000000000000000000a5");
const INVALID: Address = address!("0x00000000000000000000000000000000000000a6");

fn state() -> MemState {
    dev_state(&[
        (ADDER, contract(&ADD_ONE, &[])),
        (REVERTER, contract(&revert_with("nope"), &[])),
        (READER, contract(&READ_SLOT0, &[(0, 5), (1, 6)])),
        (STORER, contract(&LOG_AND_STORE, &[])),
        // JUMPDEST PUSH1 0 JUMP: loops until out of gas.
        (LOOPER, contract(&[0x5b, 0x60, 0x00, 0x56], &[])),
        (INVALID, contract(&[0xfe], &[])),
    ])
}

fn chain() -> ChainSpec {
    ChainSpec::default()
}

fn to(address: Address, input: Bytes) -> CallRequest {
    CallRequest {
        to: Some(address),
        input: Some(input),
        ..Default::default()
    }
}

fn eth_call(req: &CallRequest, overrides: Option<&StateOverride>) -> EngineResult<CallOutcome> {
    call(&chain(), &state(), &block_env(1), req, overrides)
}

fn estimate(req: &CallRequest) -> EngineResult<u64> {
    estimate_gas(&chain(), &state(), &block_env(1), req, None)
}

#[test]
fn call_returns_output_without_sender_gas_or_price() {
    let outcome = eth_call(&to(ADDER, word(7)), None).unwrap();
    assert!(outcome.success);
    assert_eq!(outcome.output, word(8));
    assert!(outcome.gas_used > 21_000);
    assert_eq!(outcome.into_result().unwrap(), word(8));
}

#[test]
fn call_decodes_revert_reason() {
    let outcome = eth_call(&to(REVERTER, Bytes::new()), None).unwrap();
    assert!(!outcome.success);
    assert_eq!(outcome.revert_reason.as_deref(), Some("nope"));
    let err = outcome.clone().into_result().unwrap_err();
    assert_eq!(err.to_string(), "execution reverted: nope");
    assert_eq!(err.revert_data(), Some(&outcome.output));
    assert_eq!(err.rpc_code(), crate::RPC_CODE_REVERTED);
}

#[test]
fn call_reports_halts_in_geth_words() {
    let outcome = eth_call(&to(INVALID, Bytes::new()), None).unwrap();
    assert!(!outcome.success);
    assert_eq!(outcome.halt.as_deref(), Some("invalid opcode: INVALID"));
    assert_eq!(
        outcome.into_result().unwrap_err().to_string(),
        "invalid opcode: INVALID"
    );
}

#[test]
fn call_logs_and_create() {
    let (alice, _) = alice_bob();
    let logs = eth_call(&to(STORER, word(1)), None).unwrap().logs;
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].address, STORER);
    let create = CallRequest {
        from: Some(alice.address),
        input: Some(deploy_code(&ADD_ONE)),
        ..Default::default()
    };
    let outcome = eth_call(&create, None).unwrap();
    assert!(outcome.success);
    assert_eq!(
        outcome.output.as_ref(),
        &ADD_ONE,
        "create returns the runtime code"
    );
}

#[test]
fn call_checks_value_against_balance_but_not_nonce() {
    let (alice, bob) = alice_bob();
    let poor = Address::repeat_byte(0x77);
    let req = CallRequest {
        from: Some(poor),
        to: Some(bob.address),
        value: Some(U256::from(1)),
        ..Default::default()
    };
    let err = eth_call(&req, None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("insufficient funds for gas * price + value"),
        "{err}"
    );
    let rich = CallRequest {
        from: Some(alice.address),
        nonce: Some(99),
        ..req
    };
    assert!(eth_call(&rich, None).unwrap().success);
}

#[test]
fn call_with_price_pays_gas_and_checks_base_fee() {
    let (alice, bob) = alice_bob();
    let base = CallRequest {
        from: Some(alice.address),
        to: Some(bob.address),
        ..Default::default()
    };
    let paying = CallRequest {
        gas_price: Some(u128::from(BASE_FEE)),
        ..base.clone()
    };
    assert!(eth_call(&paying, None).unwrap().success);
    let low = CallRequest {
        max_fee_per_gas: Some(1),
        ..base.clone()
    };
    let err = eth_call(&low, None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("max fee per gas less than block base fee"),
        "{err}"
    );
    let both = CallRequest {
        gas_price: Some(1),
        max_fee_per_gas: Some(1),
        ..base
    };
    assert!(matches!(
        eth_call(&both, None),
        Err(EngineError::InvalidParams(_))
    ));
}

#[test]
fn call_gas_may_exceed_block_limit_but_not_go_below_intrinsic() {
    let big = CallRequest {
        gas: Some(100_000_000),
        ..to(ADDER, word(1))
    };
    assert!(eth_call(&big, None).unwrap().success);
    let small = CallRequest {
        gas: Some(20_000),
        ..to(ADDER, word(1))
    };
    let err = eth_call(&small, None).unwrap_err();
    assert!(
        err.to_string().starts_with("intrinsic gas too low"),
        "{err}"
    );
}

#[test]
fn call_from_a_contract_is_allowed() {
    let req = CallRequest {
        from: Some(ADDER),
        ..to(READER, Bytes::new())
    };
    assert_eq!(eth_call(&req, None).unwrap().output, word(5));
}

#[test]
fn state_overrides_follow_geth() {
    let fresh = Address::repeat_byte(0x55);
    let mut overrides = StateOverride::new();
    overrides.insert(
        fresh,
        AccountOverride {
            code: Some(ADD_ONE.to_vec().into()),
            ..Default::default()
        },
    );
    let diff = BTreeMap::from([(B256::ZERO, B256::from(U256::from(9)))]);
    overrides.insert(
        READER,
        AccountOverride {
            state_diff: Some(diff),
            ..Default::default()
        },
    );
    assert_eq!(
        eth_call(&to(fresh, word(1)), Some(&overrides))
            .unwrap()
            .output,
        word(2)
    );
    assert_eq!(
        eth_call(&to(READER, Bytes::new()), Some(&overrides))
            .unwrap()
            .output,
        word(9)
    );

    let full = BTreeMap::from([(B256::from(U256::from(1)), B256::from(U256::from(3)))]);
    let replace = StateOverride::from([(
        READER,
        AccountOverride {
            state: Some(full),
            ..Default::default()
        },
    )]);
    assert_eq!(
        eth_call(&to(READER, Bytes::new()), Some(&replace))
            .unwrap()
            .output,
        word(0)
    );

    let poor = Address::repeat_byte(0x77);
    let funded = StateOverride::from([(
        poor,
        AccountOverride {
            balance: Some(U256::from(10)),
            nonce: Some(4),
            ..Default::default()
        },
    )]);
    let req = CallRequest {
        from: Some(poor),
        to: Some(READER),
        value: Some(U256::from(10)),
        ..Default::default()
    };
    assert!(eth_call(&req, Some(&funded)).unwrap().success);

    let both = AccountOverride {
        state: Some(BTreeMap::new()),
        state_diff: Some(BTreeMap::new()),
        ..Default::default()
    };
    let err = eth_call(&req, Some(&StateOverride::from([(READER, both)]))).unwrap_err();
    assert!(matches!(err, EngineError::InvalidParams(_)));
}

#[test]
fn overrides_and_requests_parse_from_json() {
    let req: CallRequest = serde_json::from_str(
        r#"{"from":"0x0000000000000000000000000000000000000001","to":null,"gas":"0x5208","data":"0x01","maxFeePerGas":"0x10","value":"0x0"}"#,
    )
    .unwrap();
    assert_eq!(req.gas, Some(21_000));
    assert_eq!(req.to, None);
    assert_eq!(req.input, Some(Bytes::from(vec![1])));
    assert_eq!(req.max_fee_per_gas, Some(16));
    let overrides: StateOverride = serde_json::from_str(
        r#"{"0x00000000000000000000000000000000000000a3":{"balance":"0x1","nonce":"0x2","stateDiff":{"0x0000000000000000000000000000000000000000000000000000000000000000":"0x0000000000000000000000000000000000000000000000000000000000000007"}}}"#,
    )
    .unwrap();
    assert_eq!(overrides[&READER].nonce, Some(2));
    assert_eq!(
        eth_call(&to(READER, Bytes::new()), Some(&overrides))
            .unwrap()
            .output,
        word(7)
    );
}

#[test]
fn estimate_plain_transfer_is_21000() {
    let (alice, bob) = alice_bob();
    let req = CallRequest {
        from: Some(alice.address),
        to: Some(bob.address),
        value: Some(U256::from(1)),
        ..Default::default()
    };
    assert_eq!(estimate(&req).unwrap(), 21_000);
}

#[test]
fn estimate_is_the_least_gas_that_succeeds() {
    let (alice, _) = alice_bob();
    for req in [to(ADDER, word(5)), to(STORER, word(5))] {
        let req = CallRequest {
            from: Some(alice.address),
            ..req
        };
        let gas = estimate(&req).unwrap();
        let with = |gas| {
            eth_call(
                &CallRequest {
                    gas: Some(gas),
                    ..req.clone()
                },
                None,
            )
            .is_ok_and(|o| o.success)
        };
        assert!(with(gas), "succeeds with the estimate {gas}");
        assert!(!with(gas - 1), "fails with one gas less than {gas}");
    }
}

#[test]
fn estimate_fails_like_geth() {
    let err = estimate(&to(REVERTER, Bytes::new())).unwrap_err();
    assert_eq!(err.to_string(), "execution reverted: nope");
    assert!(err.revert_data().is_some_and(|d| d.len() == 100));

    let looping = CallRequest {
        gas: Some(1_000_000),
        ..to(LOOPER, Bytes::new())
    };
    let err = estimate(&looping).unwrap_err();
    assert_eq!(err.to_string(), "gas required exceeds allowance (1000000)");

    let err = estimate(&to(INVALID, Bytes::new())).unwrap_err();
    assert_eq!(err.to_string(), "invalid opcode: INVALID");

    let poor = Address::repeat_byte(0x77);
    let req = CallRequest {
        from: Some(poor),
        to: Some(ADDER),
        value: Some(U256::from(1)),
        gas_price: Some(1),
        ..Default::default()
    };
    assert_eq!(
        estimate(&req).unwrap_err().to_string(),
        "insufficient funds for transfer"
    );
}

#[test]
fn estimate_caps_gas_by_what_the_balance_pays() {
    let poor = Address::repeat_byte(0x77);
    let overrides = StateOverride::from([(
        poor,
        AccountOverride {
            balance: Some(U256::from(21_000 * BASE_FEE)),
            ..Default::default()
        },
    )]);
    let req = CallRequest {
        from: Some(poor),
        gas_price: Some(BASE_FEE.into()),
        ..to(ADDER, word(1))
    };
    let err = estimate_gas(&chain(), &state(), &block_env(1), &req, Some(&overrides)).unwrap_err();
    assert_eq!(err.to_string(), "gas required exceeds allowance (21000)");
}

#[test]
fn call_gas_is_capped() {
    let req = CallRequest {
        gas: Some(u64::MAX),
        ..to(LOOPER, Bytes::new())
    };
    let outcome = eth_call(&req, None).unwrap();
    assert_eq!(outcome.halt.as_deref(), Some("out of gas"));
    assert_eq!(outcome.gas_used, crate::RPC_GAS_CAP);
    let missing = eth_call(&to(LOOPER, Bytes::new()), None).unwrap();
    assert_eq!(
        missing.gas_used,
        block_env(1).gas_limit,
        "missing gas is the block gas limit"
    );
}
