//! [`initial_tx_gas`]: revm's intrinsic gas validation, with the EVM's own gas table.

use revm::{
    context_interface::{
        Cfg, ContextTr, Transaction, TransactionType, cfg::GasParams, result::InvalidTransaction,
        transaction::AccessListItemTr as _,
    },
    interpreter::InitialAndFloorGas,
    primitives::hardfork::SpecId,
};

/// The intrinsic and floor gas of the context's transaction, checked against its gas limit:
/// exactly revm's `validation::validate_initial_tx_gas`, which every handler runs first, but
/// priced with the table of the EVM's configuration, which it already holds. revm's looks
/// the table up by spec in a global and clones it, changing the reference count of one
/// `Arc` for the whole process twice per transaction: with several threads executing
/// transactions, its cache line moves from core to core at each.
pub(crate) fn initial_tx_gas<CTX: ContextTr>(
    ctx: &CTX,
) -> Result<InitialAndFloorGas, InvalidTransaction> {
    let (tx, cfg) = (ctx.tx(), ctx.cfg());
    let spec: SpecId = cfg.spec().into();
    debug_assert_eq!(
        cfg.gas_params().table(),
        GasParams::new_spec(spec).table(),
        "the configuration's gas table is the spec's"
    );
    let (mut accounts, mut storages) = (0u64, 0u64);
    // Legacy is the only type without an access list.
    if tx.tx_type() != TransactionType::Legacy
        && let Some(list) = tx.access_list()
    {
        for item in list {
            accounts += 1;
            storages += item.storage_slots().count() as u64;
        }
    }
    let mut gas = cfg.gas_params().initial_tx_gas(
        tx.input(),
        tx.kind().is_create(),
        accounts,
        storages,
        tx.authorization_list_len() as u64,
    );
    if cfg.is_eip7623_disabled() {
        gas.floor_gas = 0;
    }
    let gas_limit = tx.gas_limit();
    if gas.initial_total_gas > gas_limit {
        return Err(InvalidTransaction::CallGasCostMoreThanGasLimit {
            gas_limit,
            initial_gas: gas.initial_total_gas,
        });
    }
    // EIP-7623: the floor must fit in the gas limit.
    if spec.is_enabled_in(SpecId::PRAGUE) && gas.floor_gas > gas_limit {
        return Err(InvalidTransaction::GasFloorMoreThanGasLimit {
            gas_floor: gas.floor_gas,
            gas_limit,
        });
    }
    // EIP-8037: regular gas is capped; state gas has its own reservoir.
    let cap = cfg.tx_gas_limit_cap();
    if cfg.is_amsterdam_eip8037_enabled() && gas_limit > cap {
        let min_regular_gas = gas.initial_regular_gas().max(gas.floor_gas);
        if min_regular_gas > cap {
            return Err(InvalidTransaction::GasFloorMoreThanGasLimit {
                gas_floor: min_regular_gas,
                gas_limit: cap,
            });
        }
    }
    Ok(gas)
}

#[cfg(test)]
mod tests {
    use super::initial_tx_gas;
    use alloy_eips::eip7702::{Authorization, SignedAuthorization};
    use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
    use revm::{
        context::{BlockEnv, CfgEnv, Context, Journal, TxEnv},
        context_interface::{
            Cfg,
            transaction::{AccessList, AccessListItem},
        },
        database::EmptyDB,
        handler::validation::validate_initial_tx_gas,
        primitives::hardfork::SpecId,
    };

    type MainnetContext = Context<BlockEnv, TxEnv, CfgEnv, EmptyDB, Journal<EmptyDB>, ()>;

    /// Transactions of every kind that prices intrinsic gas differently, each with a gas
    /// limit that covers it, one that does not, and one between the intrinsic gas and the
    /// EIP-7623 floor.
    fn transactions() -> Vec<TxEnv> {
        let data = Bytes::from([vec![0u8; 40], vec![7u8; 300]].concat());
        let list = AccessList(vec![
            AccessListItem {
                address: Address::repeat_byte(1),
                storage_keys: vec![B256::ZERO, B256::repeat_byte(2)],
            },
            AccessListItem {
                address: Address::repeat_byte(3),
                storage_keys: vec![],
            },
        ]);
        let auth = SignedAuthorization::new_unchecked(
            Authorization {
                chain_id: U256::from(1),
                address: Address::repeat_byte(4),
                nonce: 0,
            },
            0,
            U256::from(1),
            U256::from(1),
        );
        let to = TxKind::Call(Address::repeat_byte(9));
        let mut txs = Vec::new();
        for gas_limit in [21_000, 25_000, 30_000, 60_000, 1_000_000] {
            let base = || TxEnv::builder().gas_limit(gas_limit).kind(to);
            txs.push(base().tx_type(Some(0)).build_fill());
            txs.push(base().tx_type(Some(0)).data(data.clone()).build_fill());
            txs.push(
                base()
                    .tx_type(Some(1))
                    .access_list(list.clone())
                    .build_fill(),
            );
            let typed = base().tx_type(Some(2)).data(data.clone());
            txs.push(typed.access_list(list.clone()).build_fill());
            let create = base().tx_type(Some(2)).kind(TxKind::Create);
            txs.push(create.data(data.clone()).build_fill());
            let delegating = base().tx_type(Some(4)).access_list(list.clone());
            txs.push(
                delegating
                    .authorization_list_signed(vec![auth.clone(); 2])
                    .build_fill(),
            );
        }
        txs
    }

    #[test]
    fn intrinsic_gas_is_revms_for_every_kind_and_spec() {
        let specs = [
            SpecId::SHANGHAI,
            SpecId::CANCUN,
            SpecId::PRAGUE,
            SpecId::OSAKA,
        ];
        let mut outcomes = (0, 0);
        for spec in specs {
            for tx in transactions() {
                let ctx = MainnetContext::new(EmptyDB::default(), spec).with_tx(tx.clone());
                let cfg = &ctx.cfg;
                let expected = validate_initial_tx_gas(
                    &tx,
                    spec,
                    cfg.is_eip7623_disabled(),
                    cfg.is_amsterdam_eip8037_enabled(),
                    cfg.tx_gas_limit_cap(),
                );
                let got = initial_tx_gas(&ctx);
                assert_eq!(got, expected, "{spec:?} {tx:?}");
                match got {
                    Ok(_) => outcomes.0 += 1,
                    Err(_) => outcomes.1 += 1,
                }
            }
        }
        // Both answers occur: the limits above cover some transactions and not others.
        assert!(outcomes.0 > 20 && outcomes.1 > 20, "{outcomes:?}");
    }
}
