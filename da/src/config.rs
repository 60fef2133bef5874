//! [`DaConfig`]: backend selection from the node's TOML config.

use std::{path::PathBuf, sync::Arc};

use serde::{Deserialize, Serialize};

use crate::{
    AltDaClient, AltDaConfig, BlobsConfig, CalldataConfig, CelestiaConfig, CelestiaDa, DaClient,
    DaError, EigenDaConfig, EthereumBlobsDa, EthereumCalldataDa, LocalDa,
};

/// Which DA backend to use, tagged by `kind` in TOML.
///
/// ```toml
/// [da]
/// kind = "celestia"
/// url = "http://localhost:26658"
/// namespace = "0x000000000000416c74"
/// ```
///
/// Every kind has an implementation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DaConfig {
    /// The embedded redb store ([`LocalDa`]).
    Local {
        /// Dedicated database file; when absent the node's shared database is used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
    },
    /// Frames in L1 calldata sent to the batch inbox ([`EthereumCalldataDa`]); see
    /// [`CalldataConfig`] for the fields.
    EthereumCalldata(CalldataConfig),
    /// Frames in EIP-4844 blobs sent to the batch inbox ([`EthereumBlobsDa`]); see
    /// [`BlobsConfig`] for the fields.
    EthereumBlobs(BlobsConfig),
    /// An OP alt-DA server (`/put`, `/get`), commitments optionally posted to L1
    /// ([`AltDaClient`]); see [`AltDaConfig`] for the fields.
    AltDa(AltDaConfig),
    /// A celestia-node over JSON-RPC ([`CelestiaDa`]); see [`CelestiaConfig`].
    Celestia(CelestiaConfig),
    /// An eigenda-proxy ([`AltDaClient::eigenda`]); see [`EigenDaConfig`].
    #[serde(rename = "eigenda")]
    EigenDa(EigenDaConfig),
}

impl Default for DaConfig {
    fn default() -> Self {
        Self::Local { path: None }
    }
}

impl DaConfig {
    /// The `kind` tag of this config.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Local { .. } => "local",
            Self::EthereumCalldata(_) => "ethereum-calldata",
            Self::EthereumBlobs(_) => "ethereum-blobs",
            Self::AltDa(_) => "alt-da",
            Self::Celestia(_) => "celestia",
            Self::EigenDa(_) => "eigenda",
        }
    }

    /// Checks field values without touching the network or disk.
    pub fn validate(&self) -> Result<(), DaError> {
        match self {
            Self::Local { .. } => Ok(()),
            Self::EthereumCalldata(calldata) => calldata.validate(),
            Self::EthereumBlobs(blobs) => blobs.validate(),
            Self::AltDa(alt_da) => alt_da.validate(),
            Self::Celestia(celestia) => celestia.validate(),
            Self::EigenDa(eigen_da) => eigen_da.validate(),
        }
    }

    /// Validates the config and builds the backend.
    ///
    /// `shared_db` is the node's database, used by `local` when no `path` is configured.
    /// `ethereum-calldata` reads its key here and connects lazily: a down endpoint shows up
    /// as a retryable error on the first submission, not here.
    pub fn build(
        &self,
        shared_db: Option<Arc<redb::Database>>,
    ) -> Result<Arc<dyn DaClient>, DaError> {
        self.validate()?;
        match self {
            Self::Local { path: Some(path) } => Ok(Arc::new(LocalDa::open(path)?)),
            Self::Local { path: None } => {
                let db = shared_db.ok_or_else(|| {
                    DaError::InvalidConfig(
                        "local DA needs a `path` or the node's shared database".into(),
                    )
                })?;
                Ok(Arc::new(LocalDa::with_database(db)?))
            }
            Self::EthereumCalldata(calldata) => {
                Ok(Arc::new(EthereumCalldataDa::connect(calldata)?))
            }
            Self::EthereumBlobs(blobs) => Ok(Arc::new(EthereumBlobsDa::connect(blobs)?)),
            Self::AltDa(alt_da) => Ok(Arc::new(AltDaClient::connect(alt_da)?)),
            Self::EigenDa(eigen_da) => Ok(Arc::new(AltDaClient::eigenda(eigen_da)?)),
            Self::Celestia(celestia) => Ok(Arc::new(CelestiaDa::connect(celestia)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Wrapper {
        #[serde(default)]
        da: DaConfig,
    }

    fn parse(text: &str) -> Result<DaConfig, toml::de::Error> {
        toml::from_str::<Wrapper>(text).map(|w| w.da)
    }

    #[test]
    fn default_is_local_and_missing_section_defaults() {
        assert_eq!(parse("").unwrap(), DaConfig::Local { path: None });
        assert_eq!(
            parse("[da]\nkind = \"local\"").unwrap(),
            DaConfig::default()
        );
    }

    #[test]
    fn every_kind_parses_with_its_fields() {
        let cases = [
            ("local", "path = \"/tmp/da.redb\""),
            (
                "ethereum-calldata",
                "l1_rpc_url = \"http://l1:8545\"\ninbox = \"0x00a4fe4c6aaa0729d7699c387e7f281dd64afa2a\"\nbatcher_key_env = \"K\"",
            ),
            (
                "ethereum-blobs",
                "l1_rpc_url = \"http://l1:8545\"\nl2_chain_id = 1\nbatcher_key_env = \"K\"\nsidecar = \"eip4844\"",
            ),
            (
                "alt-da",
                "server_url = \"http://da:3100\"\ngeneric_commitment = true",
            ),
            (
                "celestia",
                "url = \"http://c:26658\"\nnamespace = \"0x416c74697573\"\nauth_token_file = \"/run/jwt\"",
            ),
            ("eigenda", "proxy_url = \"http://proxy:3100\""),
        ];
        for (kind, fields) in cases {
            let cfg = parse(&format!("[da]\nkind = \"{kind}\"\n{fields}")).unwrap();
            assert_eq!(cfg.kind(), kind);
            cfg.validate().unwrap();
            let text = toml::to_string(&cfg).unwrap();
            assert_eq!(toml::from_str::<DaConfig>(&text).unwrap(), cfg);
        }
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        assert!(parse("[da]\nkind = \"local\"\nbogus = 1").is_err());
        assert!(parse("[da]\nkind = \"carrier-pigeon\"").is_err());
        assert!(
            parse("[da]\nkind = \"eigenda\"").is_err(),
            "proxy_url is required"
        );
    }

    #[test]
    fn validation_catches_bad_values() {
        let bad_url = DaConfig::EigenDa(EigenDaConfig::new("proxy:3100"));
        assert!(matches!(bad_url.validate(), Err(DaError::InvalidConfig(_))));
        let ns = |namespace: &str| DaConfig::Celestia(CelestiaConfig::new("http://c", namespace));
        assert!(ns("zz").validate().is_err());
        assert!(ns("").validate().is_err());
        assert!(ns("0x0102030405060708090a0b").validate().is_err());
        ns("0x0102").validate().unwrap();
    }

    #[test]
    fn build_local_backends() {
        let dir = tempfile::tempdir().unwrap();
        let own = DaConfig::Local {
            path: Some(dir.path().join("da.redb")),
        };
        assert_eq!(own.build(None).unwrap().kind(), "local");

        let shared = Arc::new(redb::Database::create(dir.path().join("node.redb")).unwrap());
        assert_eq!(
            DaConfig::default().build(Some(shared)).unwrap().kind(),
            "local"
        );
        assert!(matches!(
            DaConfig::default().build(None),
            Err(DaError::InvalidConfig(_))
        ));
    }

    #[test]
    fn http_backends_parse_their_options_and_build() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("batcher.key");
        std::fs::write(
            &key,
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        )
        .unwrap();
        let alt_da = parse(&format!(
            "[da]\nkind = \"alt-da\"\nserver_url = \"http://da:3100\"\nput_timeout_secs = 30\n\
             [da.l1]\nl1_rpc_url = \"http://l1:8545\"\nl2_chain_id = 10\nbatcher_key_file = {key:?}"
        ))
        .unwrap();
        let DaConfig::AltDa(c) = &alt_da else {
            panic!("wrong kind: {alt_da:?}")
        };
        assert_eq!(c.put_timeout_secs, 30);
        assert_eq!(c.l1.as_ref().unwrap().l2_chain_id, Some(10));
        let da = alt_da.build(None).unwrap();
        assert_eq!(da.kind(), "alt-da");
        assert!(!format!("{da:?}").contains("ac0974bec"), "{da:?}");
        assert!(
            parse("[da]\nkind = \"alt-da\"\nserver_url = \"http://d\"\n[da.l1]\nbogus = 1")
                .is_err()
        );

        let eigen = parse("[da]\nkind = \"eigenda\"\nproxy_url = \"http://proxy:3100\"").unwrap();
        assert_eq!(eigen.build(None).unwrap().kind(), "eigenda");

        let celestia = parse(
            "[da]\nkind = \"celestia\"\nurl = \"http://c:26658\"\nnamespace = \"0x01\"\n\
             gas_price = 0.004\nmax_gas_price = 0.1",
        )
        .unwrap();
        let DaConfig::Celestia(c) = &celestia else {
            panic!("wrong kind: {celestia:?}")
        };
        assert_eq!(c.gas_price, Some(crate::GasPrice(0.004)));
        assert_eq!(celestia.build(None).unwrap().kind(), "celestia");
        let text = toml::to_string(&celestia).unwrap();
        assert_eq!(toml::from_str::<DaConfig>(&text).unwrap(), celestia);
    }

    #[test]
    fn ethereum_calldata_parses_defaults_and_builds() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("batcher.key");
        std::fs::write(
            &key,
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        )
        .unwrap();
        let text = format!(
            "[da]\nkind = \"ethereum-calldata\"\nl1_rpc_url = \"http://127.0.0.1:1\"\n\
             l2_chain_id = 10\nbatcher_key_file = {key:?}"
        );
        let cfg = parse(&text).unwrap();
        let DaConfig::EthereumCalldata(calldata) = &cfg else {
            panic!("wrong kind: {cfg:?}");
        };
        assert_eq!(calldata.confirmations, crate::DEFAULT_CONFIRMATIONS);
        assert_eq!(
            calldata.inbox_address().unwrap(),
            crate::batch_inbox_address(10)
        );
        let da = cfg.build(None).unwrap();
        assert_eq!(da.kind(), "ethereum-calldata");
        assert!(!format!("{da:?}").contains("ac0974bec"), "{da:?}");
        assert!(
            parse("[da]\nkind = \"ethereum-calldata\"\nl1_rpc_url = \"http://l1\"\nbogus = 1")
                .is_err()
        );
        let no_key = parse(
            "[da]\nkind = \"ethereum-calldata\"\nl1_rpc_url = \"http://l1\"\nl2_chain_id = 1",
        )
        .unwrap();
        assert!(matches!(no_key.build(None), Err(DaError::InvalidConfig(_))));
    }
}
