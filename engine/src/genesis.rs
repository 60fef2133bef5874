//! The genesis state of an Altius chain, loadable from TOML or JSON.

use crate::{EngineError, EngineResult, FeeVaults, quantity};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256, uint};
use altius_state::{Account, AccountUpdate, StateChanges};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};

/// What [`Genesis::dev`] gives each account: 10,000 ETH (10^22 wei).
pub const DEV_BALANCE: U256 = uint!(10_000_000_000_000_000_000_000_U256);

/// Runtime code of the OP predeploys in an Altius genesis, until the OP contracts themselves
/// are deployed: a call without calldata (a plain ETH transfer) succeeds, any function call
/// reverts without data. It keeps the accounts non-empty, so that EIP-161 never deletes the
/// fee vaults op-revm pays every transaction; it uses no opcode newer than Bedrock.
///
/// `CALLDATASIZE PUSH1 5 JUMPI STOP JUMPDEST PUSH1 0 DUP1 REVERT`
pub const PREDEPLOY_CODE: [u8; 10] = [0x36, 0x60, 0x05, 0x57, 0x00, 0x5b, 0x60, 0x00, 0x80, 0xfd];

/// The `L1Block` predeploy op-revm reads the L1 fee parameters from.
pub const L1_BLOCK: Address = op_revm::constants::L1_BLOCK_CONTRACT;

/// The `L2ToL1MessagePasser` predeploy: its storage root is part of every output root.
pub const L2_TO_L1_MESSAGE_PASSER: Address =
    alloy_primitives::address!("0x4200000000000000000000000000000000000016");

/// Runtime code of our `L2ToL1MessagePasser` (`contracts/src/L2ToL1MessagePasser.sol`),
/// taken from the committed artifact that `scripts/check-contracts.sh` keeps equal to what
/// the source compiles to.
pub fn message_passer_code() -> Bytes {
    #[derive(Deserialize)]
    struct Artifact {
        #[serde(rename = "deployedBytecode")]
        deployed: Bytes,
    }
    static CODE: std::sync::LazyLock<Bytes> = std::sync::LazyLock::new(|| {
        serde_json::from_str::<Artifact>(include_str!(
            "../../contracts/artifacts/L2ToL1MessagePasser.json"
        ))
        .map(|a| a.deployed)
        .unwrap_or_default()
    });
    CODE.clone()
}

/// One account of the genesis allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisAccount {
    /// Balance in wei (number, decimal or `0x` hex string).
    pub balance: U256,
    /// Nonce.
    #[serde(with = "quantity::u64_quantity")]
    pub nonce: u64,
    /// Runtime code (hex).
    pub code: Bytes,
    /// Storage slots (keys and values as decimal or `0x` hex strings).
    pub storage: BTreeMap<U256, U256>,
}

impl GenesisAccount {
    /// An account holding `balance` wei.
    pub fn with_balance(balance: U256) -> Self {
        Self {
            balance,
            ..Default::default()
        }
    }

    /// The account as the state stores it.
    pub fn to_account(&self) -> Account {
        let code_hash = if self.code.is_empty() {
            KECCAK256_EMPTY
        } else {
            keccak256(&self.code)
        };
        Account {
            nonce: self.nonce,
            balance: self.balance,
            code_hash,
        }
    }
}

/// The genesis block's values and state.
///
/// Besides `alloc`, the genesis state always holds the OP predeploys that op-revm touches
/// (see [`Genesis::predeploys`]); an `alloc` entry for one of their addresses replaces it.
///
/// With the `L1Block` storage empty, op-revm's L1 data fee and operator fee are zero: the
/// Fjord cost function multiplies by the L1 base fee and blob base fee scalars, which read
/// as zero, and the operator fee scalar and constant read as zero too. Transactions then
/// pay exactly `gas used * effective gas price`. This holds until an L1 attributes deposit
/// writes the `L1Block` values; the chain has no such deposits yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Genesis {
    /// Timestamp of the genesis block, in seconds.
    #[serde(with = "quantity::u64_quantity")]
    pub timestamp: u64,
    /// Gas limit of the genesis block. Defaults to 30,000,000.
    #[serde(with = "quantity::u64_quantity")]
    pub gas_limit: u64,
    /// Base fee of the genesis block. Defaults to 1 gwei.
    #[serde(with = "quantity::u64_quantity")]
    pub base_fee: u64,
    /// Extra data of the genesis block header.
    pub extra_data: Bytes,
    /// Initial accounts.
    pub alloc: BTreeMap<Address, GenesisAccount>,
}

impl Default for Genesis {
    fn default() -> Self {
        Self {
            timestamp: 0,
            gas_limit: 30_000_000,
            base_fee: 1_000_000_000,
            extra_data: Bytes::new(),
            alloc: BTreeMap::new(),
        }
    }
}

impl Genesis {
    /// A development genesis giving each of `accounts` 10,000 ETH.
    pub fn dev(accounts: &[Address]) -> Self {
        let alloc = accounts
            .iter()
            .map(|address| (*address, GenesisAccount::with_balance(DEV_BALANCE)))
            .collect();
        Self {
            alloc,
            ..Default::default()
        }
    }

    /// Parses a TOML genesis.
    pub fn from_toml_str(text: &str) -> EngineResult<Self> {
        toml::from_str(text).map_err(|e| EngineError::Config(format!("genesis: {e}")))
    }

    /// Parses a JSON genesis.
    pub fn from_json_str(text: &str) -> EngineResult<Self> {
        serde_json::from_str(text).map_err(|e| EngineError::Config(format!("genesis: {e}")))
    }

    /// Loads a genesis file: JSON when its name ends in `.json`, TOML otherwise.
    pub fn load(path: &Path) -> EngineResult<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EngineError::Config(format!("genesis {}: {e}", path.display())))?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json_str(&text)
        } else {
            Self::from_toml_str(&text)
        }
    }

    /// The OP predeploys every Altius genesis holds: `L1Block` and the four fee vaults,
    /// each with [`PREDEPLOY_CODE`], and the `L2ToL1MessagePasser` with its real code
    /// ([`message_passer_code`]); no balances and empty storage.
    pub fn predeploys() -> BTreeMap<Address, GenesisAccount> {
        let code = Bytes::from_static(&PREDEPLOY_CODE);
        let mut accounts: BTreeMap<_, _> = std::iter::once(L1_BLOCK)
            .chain(FeeVaults::OP_STACK.all())
            .map(|address| {
                (
                    address,
                    GenesisAccount {
                        code: code.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        accounts.insert(
            L2_TO_L1_MESSAGE_PASSER,
            GenesisAccount {
                code: message_passer_code(),
                ..Default::default()
            },
        );
        accounts
    }

    /// All genesis accounts: the predeploys overlaid with `alloc`.
    pub fn accounts(&self) -> BTreeMap<Address, GenesisAccount> {
        let mut accounts = Self::predeploys();
        accounts.extend(
            self.alloc
                .iter()
                .map(|(address, acc)| (*address, acc.clone())),
        );
        accounts
    }

    /// The genesis state as the changes of block 0.
    pub fn to_state_changes(&self) -> StateChanges {
        let mut changes = StateChanges::default();
        for (address, acc) in self.accounts() {
            if !acc.code.is_empty() {
                changes.code.insert(keccak256(&acc.code), acc.code.clone());
            }
            let storage = acc
                .storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (*k, *v));
            let update = AccountUpdate {
                account: Some(acc.to_account()),
                wipe_storage: false,
                storage: storage.collect(),
            };
            changes.accounts.insert(address, update);
        }
        changes
    }

    /// keccak256 of the predeploy code.
    pub fn predeploy_code_hash() -> B256 {
        keccak256(PREDEPLOY_CODE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn dev_genesis_funds_accounts_and_holds_predeploys() {
        let a = address!("0x00000000000000000000000000000000000000aa");
        let genesis = Genesis::dev(&[a]);
        assert_eq!(genesis.gas_limit, 30_000_000);
        assert_eq!(genesis.base_fee, 1_000_000_000);
        let changes = genesis.to_state_changes();
        let funded = changes.accounts[&a].account.unwrap();
        assert_eq!(
            funded.balance,
            U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18))
        );
        assert_eq!(funded.code_hash, KECCAK256_EMPTY);
        for predeploy in Genesis::predeploys().keys() {
            let acc = changes.accounts[predeploy].account.unwrap();
            if *predeploy == L2_TO_L1_MESSAGE_PASSER {
                assert_eq!(acc.code_hash, keccak256(message_passer_code()));
            } else {
                assert_eq!(acc.code_hash, Genesis::predeploy_code_hash());
            }
            assert!(!acc.is_empty());
        }
        assert_eq!(
            changes.code[&Genesis::predeploy_code_hash()].as_ref(),
            &PREDEPLOY_CODE
        );
        assert_eq!(changes.accounts.len(), 7);
        assert!(
            message_passer_code().len() > 100,
            "the artifact holds runtime code"
        );
    }

    #[test]
    fn loads_toml() {
        let genesis = Genesis::from_toml_str(
            r#"
            timestamp = 1700000000
            base_fee = "0x3b9aca00"
            extra_data = "0x0102"
            [alloc."0x00000000000000000000000000000000000000aa"]
            balance = "1000000000000000000"
            nonce = 3
            code = "0x6000"
            storage = { "0x01" = "0x05", "2" = "0" }
            "#,
        )
        .unwrap();
        assert_eq!(genesis.timestamp, 1_700_000_000);
        assert_eq!(genesis.gas_limit, 30_000_000);
        assert_eq!(genesis.base_fee, 1_000_000_000);
        let changes = genesis.to_state_changes();
        let update = &changes.accounts[&address!("0x00000000000000000000000000000000000000aa")];
        assert_eq!(update.account.unwrap().nonce, 3);
        assert_eq!(update.storage.len(), 1, "zero slots are left out");
        assert_eq!(update.storage[&U256::from(1)], U256::from(5));
        assert!(changes.code.contains_key(&keccak256([0x60, 0x00])));
    }

    #[test]
    fn loads_json_and_rejects_unknown_fields() {
        let genesis = Genesis::from_json_str(
            r#"{"gas_limit": "0x1c9c380", "alloc": {"0x00000000000000000000000000000000000000bb": {"balance": "0x10"}}}"#,
        )
        .unwrap();
        assert_eq!(genesis.gas_limit, 30_000_000);
        assert_eq!(genesis.alloc.len(), 1);
        assert!(Genesis::from_json_str(r#"{"gasLimit": 1}"#).is_err());
        assert!(Genesis::from_toml_str("alloc = 3").is_err());
    }

    #[test]
    fn alloc_overrides_a_predeploy() {
        let mut genesis = Genesis::default();
        genesis
            .alloc
            .insert(L1_BLOCK, GenesisAccount::with_balance(U256::from(1)));
        let changes = genesis.to_state_changes();
        assert_eq!(
            changes.accounts[&L1_BLOCK].account.unwrap().code_hash,
            KECCAK256_EMPTY
        );
    }

    #[test]
    fn load_reads_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("g.json");
        std::fs::write(&json, r#"{"timestamp": 5}"#).unwrap();
        assert_eq!(Genesis::load(&json).unwrap().timestamp, 5);
        let toml = dir.path().join("g.toml");
        std::fs::write(&toml, "timestamp = 6").unwrap();
        assert_eq!(Genesis::load(&toml).unwrap().timestamp, 6);
        assert!(Genesis::load(&dir.path().join("missing.toml")).is_err());
    }
}
