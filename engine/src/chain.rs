//! The chain an executor runs: chain id, OP hardfork, EIP-1559 parameters, fee vaults.

use crate::{EngineError, EngineResult};
use alloy_eips::eip1559::{BaseFeeParams, calc_next_block_base_fee};
use alloy_primitives::{Address, address};
use op_revm::OpSpecId;
use serde::{Deserialize, Serialize};

/// The OP Stack network upgrades the engine can run, by their configuration names.
///
/// Only upgrades that have activated on OP Mainnet are offered: op-revm 20 also knows
/// `Karst` and `Interop`, whose rules are still being specified.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Hardfork {
    /// Bedrock (Ethereum Merge rules).
    Bedrock,
    /// Regolith: deposit gas accounting fixes.
    Regolith,
    /// Canyon: Shanghai, EIP-1559 denominator 250, deposit receipt version.
    Canyon,
    /// Ecotone: Cancun, blob-based L1 data fee.
    Ecotone,
    /// Fjord: FastLZ L1 data fee estimate, RIP-7212.
    Fjord,
    /// Granite: bn256 pairing input limit.
    Granite,
    /// Holocene: EIP-1559 parameters in the block header.
    Holocene,
    /// Isthmus: Prague, operator fee.
    Isthmus,
    /// Jovian, the newest activated upgrade: operator fee scaling, minimum base fee,
    /// DA footprint block limit. The default.
    #[default]
    Jovian,
}

impl Hardfork {
    /// The op-revm specification of this upgrade.
    pub const fn spec_id(self) -> OpSpecId {
        match self {
            Self::Bedrock => OpSpecId::BEDROCK,
            Self::Regolith => OpSpecId::REGOLITH,
            Self::Canyon => OpSpecId::CANYON,
            Self::Ecotone => OpSpecId::ECOTONE,
            Self::Fjord => OpSpecId::FJORD,
            Self::Granite => OpSpecId::GRANITE,
            Self::Holocene => OpSpecId::HOLOCENE,
            Self::Isthmus => OpSpecId::ISTHMUS,
            Self::Jovian => OpSpecId::JOVIAN,
        }
    }
}

/// The OP Stack fee vault predeploys, as op-revm pays them.
///
/// op-revm hard-codes the base fee, L1 fee and operator fee vaults; the sequencer fee vault
/// receives the priority fees because it is the block beneficiary (`BlockEnv::beneficiary`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FeeVaults {
    /// `SequencerFeeVault`, the block beneficiary: receives the priority fees.
    pub sequencer: Address,
    /// `BaseFeeVault`: receives `base fee * gas used`.
    pub base_fee: Address,
    /// `L1FeeVault`: receives the L1 data fee.
    pub l1_fee: Address,
    /// `OperatorFeeVault`: receives the operator fee (Isthmus and later).
    pub operator_fee: Address,
}

impl FeeVaults {
    /// The OP Stack predeploy addresses.
    pub const OP_STACK: Self = Self {
        sequencer: address!("0x4200000000000000000000000000000000000011"),
        base_fee: op_revm::constants::BASE_FEE_RECIPIENT,
        l1_fee: op_revm::constants::L1_FEE_RECIPIENT,
        operator_fee: op_revm::constants::OPERATOR_FEE_RECIPIENT,
    };

    /// All four vaults.
    pub const fn all(&self) -> [Address; 4] {
        [
            self.sequencer,
            self.base_fee,
            self.l1_fee,
            self.operator_fee,
        ]
    }
}

impl Default for FeeVaults {
    fn default() -> Self {
        Self::OP_STACK
    }
}

/// The parameters of an Altius chain that execution depends on.
///
/// Loaded from configuration; every field has a default, unknown fields are rejected:
///
/// ```toml
/// chain_id = 901337
/// hardfork = "jovian"
/// eip1559_elasticity = 6
/// eip1559_denominator = 250
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSpec {
    /// EIP-155 chain id. Defaults to [`ChainSpec::DEV_CHAIN_ID`] (901337), an id picked for
    /// local development that no public network uses.
    pub chain_id: u64,
    /// The OP Stack upgrade whose rules apply (from genesis on). Defaults to
    /// [`Hardfork::Jovian`]: the newest upgrade op-revm 20 supports that has activated on
    /// OP Mainnet (op-revm's `Karst` and `Interop` are not activated network upgrades).
    pub hardfork: Hardfork,
    /// EIP-1559 elasticity multiplier (gas target = gas limit / elasticity). Defaults to 6,
    /// OP Mainnet's value.
    pub eip1559_elasticity: u64,
    /// EIP-1559 base fee max change denominator. Defaults to 250, OP Mainnet's value since
    /// Canyon.
    pub eip1559_denominator: u64,
}

impl ChainSpec {
    /// The default development chain id.
    pub const DEV_CHAIN_ID: u64 = 901_337;

    /// The op-revm specification the chain runs.
    pub const fn spec_id(&self) -> OpSpecId {
        self.hardfork.spec_id()
    }

    /// The fee vaults execution pays.
    pub const fn fee_vaults(&self) -> FeeVaults {
        FeeVaults::OP_STACK
    }

    /// The EIP-1559 parameters as alloy takes them.
    pub const fn base_fee_params(&self) -> BaseFeeParams {
        BaseFeeParams::new(
            self.eip1559_denominator as u128,
            self.eip1559_elasticity as u128,
        )
    }

    /// Checks the values that the defaults cannot make wrong.
    pub fn validate(&self) -> EngineResult<()> {
        if self.eip1559_elasticity == 0 || self.eip1559_denominator == 0 {
            return Err(EngineError::Config(
                "eip1559_elasticity and eip1559_denominator must be greater than zero".into(),
            ));
        }
        if self.chain_id == 0 {
            return Err(EngineError::Config("chain_id must not be zero".into()));
        }
        Ok(())
    }

    /// The base fee of the block after a parent that used `parent_gas_used` of
    /// `parent_gas_limit` at `parent_base_fee` (EIP-1559 with this chain's parameters).
    ///
    /// Never panics: gas used above the limit counts as the limit, and a base fee that would
    /// exceed `u64::MAX` stays at `u64::MAX`.
    pub fn next_base_fee(
        &self,
        parent_gas_used: u64,
        parent_gas_limit: u64,
        parent_base_fee: u64,
    ) -> u64 {
        let gas_used = parent_gas_used.min(parent_gas_limit);
        if self.increase_overflows(gas_used, parent_gas_limit, parent_base_fee) {
            return u64::MAX;
        }
        calc_next_block_base_fee(
            gas_used,
            parent_gas_limit,
            parent_base_fee,
            self.base_fee_params(),
        )
    }

    /// True when the EIP-1559 increase would push the base fee past `u64::MAX`.
    fn increase_overflows(&self, gas_used: u64, gas_limit: u64, base_fee: u64) -> bool {
        let elasticity = u128::from(self.eip1559_elasticity);
        let denominator = u128::from(self.eip1559_denominator);
        if elasticity == 0 || denominator == 0 {
            return false;
        }
        let target = u128::from(gas_limit) / elasticity;
        if target == 0 || u128::from(gas_used) <= target {
            return false;
        }
        let delta = u128::from(base_fee) * (u128::from(gas_used) - target) / (target * denominator);
        u128::from(base_fee) + delta.max(1) > u128::from(u64::MAX)
    }
}

impl Default for ChainSpec {
    fn default() -> Self {
        Self {
            chain_id: Self::DEV_CHAIN_ID,
            hardfork: Hardfork::default(),
            eip1559_elasticity: 6,
            eip1559_denominator: 250,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_dev_chain_on_jovian() {
        let spec = ChainSpec::default();
        assert_eq!(spec.chain_id, 901_337);
        assert_eq!(spec.spec_id(), OpSpecId::JOVIAN);
        assert_eq!(
            (spec.eip1559_elasticity, spec.eip1559_denominator),
            (6, 250)
        );
        spec.validate().unwrap();
    }

    #[test]
    fn parses_toml_with_defaults_and_rejects_unknown_fields() {
        let spec: ChainSpec = toml::from_str("chain_id = 7\nhardfork = \"isthmus\"").unwrap();
        assert_eq!(spec.chain_id, 7);
        assert_eq!(spec.spec_id(), OpSpecId::ISTHMUS);
        assert_eq!(spec.eip1559_denominator, 250);
        assert!(toml::from_str::<ChainSpec>("chainid = 7").is_err());
        assert!(toml::from_str::<ChainSpec>("hardfork = \"karst\"").is_err());
        let json: ChainSpec = serde_json::from_str(r#"{"hardfork":"ecotone"}"#).unwrap();
        assert_eq!(json.spec_id(), OpSpecId::ECOTONE);
    }

    #[test]
    fn base_fee_follows_eip1559_with_op_params() {
        let spec = ChainSpec::default();
        let limit = 30_000_000;
        let target = limit / 6;
        assert_eq!(
            spec.next_base_fee(target, limit, 1_000_000_000),
            1_000_000_000
        );
        // Full block: +1/250 * (limit - target) / target = +5 * 1/250 = +2%.
        assert_eq!(
            spec.next_base_fee(limit, limit, 1_000_000_000),
            1_020_000_000
        );
        // Empty block: -1/250.
        assert_eq!(spec.next_base_fee(0, limit, 1_000_000_000), 996_000_000);
        // Increases by at least one wei.
        assert_eq!(spec.next_base_fee(target + 1, limit, 1), 2);
    }

    #[test]
    fn base_fee_never_panics() {
        let spec = ChainSpec {
            eip1559_denominator: 1,
            eip1559_elasticity: 1000,
            ..Default::default()
        };
        assert_eq!(spec.next_base_fee(u64::MAX, 30_000_000, u64::MAX), u64::MAX);
        assert_eq!(spec.next_base_fee(5, 0, 9), 9);
        let zero = ChainSpec {
            eip1559_elasticity: 0,
            ..Default::default()
        };
        assert_eq!(zero.next_base_fee(1, 2, 3), 3);
        assert!(zero.validate().is_err());
    }

    #[test]
    fn fee_vaults_are_the_op_predeploys() {
        let vaults = ChainSpec::default().fee_vaults();
        assert_eq!(
            vaults.sequencer,
            address!("0x4200000000000000000000000000000000000011")
        );
        assert_eq!(
            vaults.base_fee,
            address!("0x4200000000000000000000000000000000000019")
        );
        assert_eq!(
            vaults.l1_fee,
            address!("0x420000000000000000000000000000000000001a")
        );
        assert_eq!(
            vaults.operator_fee,
            address!("0x420000000000000000000000000000000000001b")
        );
    }
}
