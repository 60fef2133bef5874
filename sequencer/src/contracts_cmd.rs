//! `altius contracts deploy`: deploys and initializes an L2OutputOracle on L1 and prints
//! the `[settlement]` section that points the node at it.
//!
//! The oracle's starting timestamp must be the timestamp of the L2 starting block: the
//! proposer only proposes an output once the L2 block's timestamp reaches the oracle's
//! next one, so a later starting timestamp makes proposals wait.

use std::path::PathBuf;

use alloy::{
    eips::BlockNumberOrTag,
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use altius_settlement::{
    DEFAULT_SUBMISSION_INTERVAL, OracleInitParams, SettlementConfig, SettlementKind,
    deploy_and_initialize, proposer_provider,
};
use clap::{ArgGroup, Args, Subcommand};
use eyre::{WrapErr, eyre};
use serde::Serialize;

/// Default seconds between L2 blocks written into the oracle.
const DEFAULT_L2_BLOCK_TIME: u64 = 1;
/// Default finalization period: seven days, as on OP Mainnet.
const DEFAULT_FINALIZATION_PERIOD_SECONDS: u64 = 604_800;

/// `altius contracts ...`.
#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Deploy and initialize an L2OutputOracle on L1, then print the config to use it.
    Deploy(DeployArgs),
}

/// Options of `altius contracts deploy`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("key").required(true).args(["key_file", "key_env"])))]
pub struct DeployArgs {
    /// L1 execution JSON-RPC HTTP URL.
    #[arg(long)]
    pub l1_rpc: String,
    /// File holding the deployer's hex private key.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Environment variable holding the deployer's hex private key.
    #[arg(long)]
    pub key_env: Option<String>,
    /// L2 blocks between output proposals.
    #[arg(long, default_value_t = DEFAULT_SUBMISSION_INTERVAL)]
    pub submission_interval: u64,
    /// Seconds between L2 blocks.
    #[arg(long, default_value_t = DEFAULT_L2_BLOCK_TIME)]
    pub l2_block_time: u64,
    /// L2 block number before the first output [default: 0].
    #[arg(long)]
    pub starting_block_number: Option<u64>,
    /// Timestamp of the starting L2 block; it must be that block's timestamp, else
    /// proposals wait [default: that block's timestamp read from --l2-rpc when
    /// --starting-block-number is given, else the latest L1 block's timestamp].
    #[arg(long)]
    pub starting_timestamp: Option<u64>,
    /// L2 JSON-RPC HTTP URL to read the starting block's timestamp from.
    #[arg(long)]
    pub l2_rpc: Option<String>,
    /// The address allowed to propose outputs [default: the deployer].
    #[arg(long)]
    pub proposer: Option<Address>,
    /// The address allowed to delete outputs [default: the deployer].
    #[arg(long)]
    pub challenger: Option<Address>,
    /// Seconds after which an output is final.
    #[arg(long, default_value_t = DEFAULT_FINALIZATION_PERIOD_SECONDS)]
    pub finalization_period_seconds: u64,
}

/// A deployed oracle and the node config that uses it.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The oracle's address.
    pub address: Address,
    /// The `initialize` arguments used.
    pub params: OracleInitParams,
    /// The `[settlement]` TOML section for the node config (no key, only its source).
    pub settlement_toml: String,
}

/// Runs `altius contracts ...`.
pub fn run(command: ContractsCommand) -> eyre::Result<()> {
    let ContractsCommand::Deploy(args) = command;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")?;
    let deployment = runtime.block_on(deploy(&args))?;
    println!("L2OutputOracle deployed at {}", deployment.address);
    println!("\nAdd this to the node config:\n");
    print!("{}", deployment.settlement_toml);
    Ok(())
}

/// Deploys and initializes the oracle described by `args`.
pub async fn deploy(args: &DeployArgs) -> eyre::Result<Deployment> {
    let signer = load_key(args)?;
    let deployer = signer.address();
    let provider = proposer_provider(&args.l1_rpc, signer).map_err(|e| eyre!("{e}"))?;
    let starting_timestamp = starting_timestamp(args, &provider).await?;
    let params = OracleInitParams {
        submission_interval: args.submission_interval,
        l2_block_time: args.l2_block_time,
        starting_block_number: args.starting_block_number.unwrap_or(0),
        starting_timestamp,
        proposer: args.proposer.unwrap_or(deployer),
        challenger: args.challenger.unwrap_or(deployer),
        finalization_period_seconds: args.finalization_period_seconds,
    };
    check_params(&params)?;
    let address = deploy_and_initialize(&provider, &params)
        .await
        .map_err(|e| match e.is_retryable() {
            true => eyre!("cannot reach the L1 endpoint {}: {e}", args.l1_rpc),
            false => eyre!("deploying the L2OutputOracle through {}: {e}", args.l1_rpc),
        })?;
    let settlement_toml = settlement_toml(args, address, deployer, params.proposer)?;
    Ok(Deployment {
        address,
        params,
        settlement_toml,
    })
}

fn check_params(params: &OracleInitParams) -> eyre::Result<()> {
    if params.submission_interval == 0 {
        return Err(eyre!("--submission-interval must be greater than 0"));
    }
    if params.l2_block_time == 0 {
        return Err(eyre!("--l2-block-time must be greater than 0"));
    }
    Ok(())
}

/// Reads the deployer key; errors name the source, never the key.
fn load_key(args: &DeployArgs) -> eyre::Result<PrivateKeySigner> {
    let (source, text) = match (&args.key_file, &args.key_env) {
        (Some(file), None) => {
            let source = format!("key file {}", file.display());
            let text =
                std::fs::read_to_string(file).wrap_err_with(|| format!("reading {source}"))?;
            (source, text)
        }
        (None, Some(var)) => {
            let source = format!("environment variable {var}");
            let text = std::env::var(var).map_err(|_| eyre!("{source} is not set"))?;
            (source, text)
        }
        _ => return Err(eyre!("pass exactly one of --key-file and --key-env")),
    };
    text.trim()
        .parse()
        .map_err(|_| eyre!("{source} does not hold a 32-byte hex private key"))
}

/// `--starting-timestamp`, else the L2 starting block's timestamp (with
/// `--starting-block-number` and `--l2-rpc`), else the latest L1 block's timestamp.
async fn starting_timestamp(args: &DeployArgs, l1: &DynProvider) -> eyre::Result<u64> {
    match (
        args.starting_timestamp,
        args.starting_block_number,
        &args.l2_rpc,
    ) {
        (Some(t), _, _) => Ok(t),
        (None, Some(number), Some(l2_rpc)) => {
            let url = l2_rpc
                .parse()
                .map_err(|e| eyre!("invalid --l2-rpc {l2_rpc:?}: {e}"))?;
            let l2 = ProviderBuilder::new().connect_http(url).erased();
            block_timestamp(&l2, "L2", l2_rpc, BlockNumberOrTag::Number(number)).await
        }
        _ => block_timestamp(l1, "L1", &args.l1_rpc, BlockNumberOrTag::Latest).await,
    }
}

/// The timestamp of `block` on the `layer` endpoint at `url`.
async fn block_timestamp(
    provider: &DynProvider,
    layer: &str,
    url: &str,
    block: BlockNumberOrTag,
) -> eyre::Result<u64> {
    let found = provider
        .get_block_by_number(block)
        .await
        .map_err(|e| eyre!("cannot reach the {layer} endpoint {url}: {e}"))?
        .ok_or_else(|| eyre!("the {layer} endpoint {url} has no block {block}"))?;
    Ok(found.header.timestamp)
}

/// The `[settlement]` section using the oracle, validated. The proposer key source is the
/// deployer's when the deployer is the proposer; otherwise a placeholder variable.
fn settlement_toml(
    args: &DeployArgs,
    oracle: Address,
    deployer: Address,
    proposer: Address,
) -> eyre::Result<String> {
    let mut config = SettlementConfig {
        kind: SettlementKind::L2OutputOracle,
        l1_rpc: Some(args.l1_rpc.clone()),
        oracle_address: Some(oracle),
        submission_interval: args.submission_interval,
        ..SettlementConfig::default()
    };
    let mut note = String::new();
    if proposer == deployer {
        config.proposer_key_file = match &args.key_file {
            Some(file) => Some(std::path::absolute(file).wrap_err("resolving --key-file")?),
            None => None,
        };
        config.proposer_key_env = args.key_env.clone();
    } else {
        config.proposer_key_env = Some("ALTIUS_PROPOSER_KEY".into());
        note = format!("# ALTIUS_PROPOSER_KEY must hold the private key of {proposer}\n");
    }
    config.validate().map_err(|e| eyre!("{e}"))?;
    #[derive(Serialize)]
    struct Section<'a> {
        settlement: &'a SettlementConfig,
    }
    let text = toml::to_string(&Section {
        settlement: &config,
    })
    .wrap_err("rendering the settlement config")?;
    Ok(format!("{note}{text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<DeployArgs, clap::Error> {
        let argv = ["altius", "contracts", "deploy"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Contracts(ContractsCommand::Deploy(args)) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn needs_exactly_one_key_source() {
        let args = parse(&["--l1-rpc", "http://l1", "--key-env", "K"]).unwrap();
        assert_eq!(args.submission_interval, DEFAULT_SUBMISSION_INTERVAL);
        assert_eq!(args.proposer, None);
        assert_eq!((args.starting_block_number, args.l2_rpc), (None, None));
        assert!(parse(&["--l1-rpc", "http://l1"]).is_err());
        assert!(parse(&["--l1-rpc", "http://l1", "--key-env", "K", "--key-file", "f"]).is_err());
        assert!(parse(&["--key-env", "K"]).is_err(), "--l1-rpc is required");
    }

    #[tokio::test]
    async fn starting_timestamp_prefers_the_flag_then_the_l2_block() {
        let l1 = ProviderBuilder::new()
            .connect_http("http://127.0.0.1:1".parse().unwrap())
            .erased();
        let base = ["--l1-rpc", "http://127.0.0.1:1", "--key-env", "K"];
        let with = |extra: &[&str]| parse(&[&base[..], extra].concat()).unwrap();
        let args = with(&["--starting-timestamp", "7", "--l2-rpc", "bad"]);
        assert_eq!(starting_timestamp(&args, &l1).await.unwrap(), 7);
        let args = with(&["--starting-block-number", "3", "--l2-rpc", "not a url"]);
        let err = starting_timestamp(&args, &l1).await.unwrap_err();
        assert!(err.to_string().contains("--l2-rpc"), "{err}");
        let err = starting_timestamp(&with(&[]), &l1).await.unwrap_err();
        assert!(err.to_string().contains("L1 endpoint"), "{err}");
    }

    #[test]
    fn rejects_zero_intervals() {
        let mut params = OracleInitParams {
            submission_interval: 0,
            l2_block_time: 1,
            starting_block_number: 0,
            starting_timestamp: 0,
            proposer: Address::ZERO,
            challenger: Address::ZERO,
            finalization_period_seconds: 0,
        };
        assert!(check_params(&params).is_err());
        params.submission_interval = 1;
        check_params(&params).unwrap();
        params.l2_block_time = 0;
        assert!(check_params(&params).is_err());
    }
}
