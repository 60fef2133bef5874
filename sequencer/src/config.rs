//! Node configuration: the `altius.toml` file, with a default for every field.
//!
//! Unknown fields are rejected with an error naming the field, so a typo never silently
//! falls back to a default. `altius config default` prints [`NodeConfig::example_toml`].

use crate::mempool::MempoolConfig;
use altius_batcher::BatcherConfig;
use altius_da::{DaConfig, FallbackConfig};
use altius_engine::ChainSpec;
use altius_settlement::SettlementConfig;
use serde::{Deserialize, Serialize};
use std::{net::IpAddr, path::PathBuf};

/// The whole node configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Where the database lives.
    pub datadir: DataDir,
    /// The chain: id, hardfork, fee parameters.
    pub chain: ChainSpec,
    /// Genesis: a TOML or JSON file; the built-in dev genesis when unset.
    pub genesis: GenesisConfig,
    /// Block production.
    pub sequencer: SequencerConfig,
    /// Transaction pool limits.
    pub mempool: MempoolConfig,
    /// JSON-RPC server.
    pub rpc: RpcConfig,
    /// Data availability layer for batches (default: local, in the node's database).
    pub da: DaConfig,
    /// Optional second DA layer (Ethereum calldata) used while `da` keeps failing (off).
    pub da_fallback: FallbackConfig,
    /// Batch submission.
    pub batcher: BatcherConfig,
    /// Output proposals (default: local, in the node's database).
    pub settlement: SettlementConfig,
    /// World state: trie sharding, memory budget, history.
    pub state: StateSection,
    /// Block execution: parallel or sequential, threads.
    pub execution: ExecutionSection,
    /// Prometheus metrics endpoint (off by default).
    pub metrics: MetricsConfig,
}

/// How blocks are executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutionKind {
    /// Block-STM on several threads; the result is the sequential one.
    #[default]
    Parallel,
    /// One transaction after another.
    Sequential,
}

/// The `[execution]` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionSection {
    /// `parallel` (default) or `sequential`.
    pub mode: ExecutionKind,
    /// Threads of the parallel engine; 0 uses all cores.
    pub threads: usize,
    /// Redo a Block-STM transaction whose storage reads went stale from its SSA log, only
    /// the operations that depend on them (default true).
    pub ssa_redo: bool,
}

impl Default for ExecutionSection {
    fn default() -> Self {
        Self {
            mode: ExecutionKind::default(),
            threads: 0,
            ssa_redo: true,
        }
    }
}

/// The `[metrics]` section: `GET /metrics` in the Prometheus text format on its own port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve metrics (default false).
    pub enabled: bool,
    /// Address to listen on.
    pub addr: IpAddr,
    /// Port to listen on (default 9001); `0` picks a free port (printed at start-up).
    pub port: u16,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            addr: IpAddr::from([127, 0, 0, 1]),
            port: 9001,
        }
    }
}

/// The `[state]` section: how the SSMT state is laid out and cached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSection {
    /// Trie shards by key prefix: 0 (one shard), 1 (16 shards) or 2 (256 shards). Fixed
    /// when the datadir is created; an existing datadir keeps its depth.
    pub shard_depth: u8,
    /// Memory budget in bytes for trie nodes and hot account/storage values.
    pub cache_bytes: u64,
    /// Threads hashing the tries; 0 uses all cores.
    pub threads: usize,
    /// Keep the state history of the last `retain_blocks` blocks (for reads and proofs at
    /// older blocks); unset keeps all history.
    pub retain_blocks: Option<u64>,
}

impl Default for StateSection {
    fn default() -> Self {
        let d = altius_state::StateConfig::default();
        Self {
            shard_depth: d.shard_depth,
            cache_bytes: d.cache_bytes,
            threads: d.threads,
            retain_blocks: d.retain_blocks,
        }
    }
}

impl StateSection {
    /// The state crate's configuration.
    pub fn to_state_config(&self) -> altius_state::StateConfig {
        altius_state::StateConfig {
            retain_blocks: self.retain_blocks,
            shard_depth: self.shard_depth,
            cache_bytes: self.cache_bytes,
            threads: self.threads,
        }
    }
}

/// The data directory (a newtype so that its default is `./altius-data`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DataDir(pub PathBuf);

impl Default for DataDir {
    fn default() -> Self {
        Self(PathBuf::from("./altius-data"))
    }
}

/// Where the genesis comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisConfig {
    /// Path of a genesis file (`.toml` or `.json`); unset: the dev genesis, which
    /// prefunds the ten accounts of the test mnemonic with 10,000 ETH each.
    pub file: Option<PathBuf>,
}

/// Block production settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequencerConfig {
    /// Seconds between blocks; `0` builds a block as soon as a transaction arrives.
    pub block_time: f64,
    /// Gas limit of every block.
    pub gas_limit: u64,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        Self {
            block_time: 1.0,
            gas_limit: 30_000_000,
        }
    }
}

/// JSON-RPC server settings (HTTP and WebSocket on the same port).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcConfig {
    /// Address to listen on.
    pub addr: IpAddr,
    /// Port to listen on; `0` picks a free port (printed at start-up).
    pub port: u16,
    /// Largest accepted request body, in bytes.
    pub max_request_bytes: usize,
    /// Most calls in one batch request.
    pub max_batch_size: usize,
    /// Widest block range of one `eth_getLogs` query.
    pub max_logs_block_range: u64,
    /// Most logs one `eth_getLogs` query returns.
    pub max_logs: usize,
    /// Gas cap of `eth_call` and `eth_estimateGas`.
    pub gas_cap: u64,
    /// Most concurrent WebSocket connections.
    pub max_ws_connections: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            addr: IpAddr::from([127, 0, 0, 1]),
            port: 8545,
            max_request_bytes: 5 * 1024 * 1024,
            max_batch_size: 1000,
            max_logs_block_range: 10_000,
            max_logs: 20_000,
            gas_cap: 50_000_000,
            max_ws_connections: 500,
        }
    }
}

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid configuration (the message names the field).
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error, naming the field.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl NodeConfig {
    /// Reads and validates a TOML file.
    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.sequencer;
        if !s.block_time.is_finite() || s.block_time < 0.0 || s.block_time > 3600.0 {
            return Err(ConfigError::Invalid(format!(
                "sequencer.block_time must be between 0 and 3600 seconds, got {}",
                s.block_time
            )));
        }
        if s.gas_limit < 5_000_000 {
            return Err(ConfigError::Invalid(format!(
                "sequencer.gas_limit must be at least 5000000, got {}",
                s.gas_limit
            )));
        }
        if self.state.shard_depth > 2 || self.state.retain_blocks == Some(0) {
            return Err(ConfigError::Invalid(
                "state.shard_depth must be 0, 1 or 2 and state.retain_blocks at least 1".into(),
            ));
        }
        if self.rpc.max_batch_size == 0 || self.rpc.max_request_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "rpc.max_batch_size must be > 0 and rpc.max_request_bytes >= 1024".into(),
            ));
        }
        self.da
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("da: {e}")))?;
        self.da_fallback
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("da_fallback: {e}")))?;
        self.batcher
            .validate()
            .and_then(|()| self.batcher.clone().sized_for_da(self.da.kind()).map(drop))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.settlement
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(())
    }

    /// The complete commented example configuration (`altius config default`).
    pub fn example_toml() -> &'static str {
        include_str!("../../altius.example.toml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_to_defaults() {
        let parsed: NodeConfig = toml::from_str(NodeConfig::example_toml()).unwrap();
        assert_eq!(parsed, NodeConfig::default());
    }

    #[test]
    fn empty_file_is_all_defaults() {
        let parsed: NodeConfig = toml::from_str("").unwrap();
        assert_eq!(parsed, NodeConfig::default());
    }

    #[test]
    fn unknown_field_is_named() {
        let err = toml::from_str::<NodeConfig>("[rpc]\nprot = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
        let err = toml::from_str::<NodeConfig>("colour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn metrics_and_fallback_sections() {
        let c: NodeConfig = toml::from_str("[metrics]\nenabled = true\nport = 0\n").unwrap();
        assert!(c.metrics.enabled);
        assert_eq!(
            (c.metrics.port, c.metrics.addr),
            (0, IpAddr::from([127, 0, 0, 1]))
        );
        let no_layer: NodeConfig = toml::from_str("[da_fallback]\nafter_secs = 30\n").unwrap();
        let err = no_layer.validate().unwrap_err().to_string();
        assert!(err.contains("da_fallback"), "{err}");
        let text = "[da_fallback]\nafter_secs = 30\n[da_fallback.ethereum_calldata]\n\
                    l1_rpc_url = \"http://l1:8545\"\nl2_chain_id = 5\nbatcher_key_env = \"K\"\n";
        let on: NodeConfig = toml::from_str(text).unwrap();
        on.validate().unwrap();
        assert!(on.da_fallback.is_enabled());
    }

    #[test]
    fn rejects_bad_values() {
        let mut c = NodeConfig::default();
        c.sequencer.block_time = -1.0;
        assert!(c.validate().is_err());
        c.sequencer.block_time = 0.0;
        assert!(c.validate().is_ok());
    }
}
