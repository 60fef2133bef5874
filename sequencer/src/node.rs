//! The running node: storage, state, pool and executor shared by the block builder and the
//! JSON-RPC server.

use crate::{
    config::{ExecutionKind, NodeConfig},
    mempool::{Mempool, PoolContext},
    store::{ChainStore, StoredBlock},
};
use alloy_consensus::{Header, Sealed};
use altius_engine::{ChainSpec, Executor, Genesis, ParallelExecutor, SequentialExecutor};
use altius_state::StateDb;
use redb::Database;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Errors starting or running the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Chain storage failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The state failed.
    #[error(transparent)]
    State(#[from] altius_state::StateError),
    /// Execution failed.
    #[error(transparent)]
    Engine(#[from] altius_engine::EngineError),
    /// The database could not be opened.
    #[error("cannot open database {path}: {message}")]
    OpenDatabase {
        /// The database file.
        path: String,
        /// Why.
        message: String,
    },
    /// The genesis could not be read or does not match the stored chain.
    #[error("genesis: {0}")]
    Genesis(String),
    /// A database transaction failed.
    #[error("database: {0}")]
    Database(String),
}

/// Everything the builder and the RPC server share.
#[derive(Debug)]
pub struct Node {
    /// The configuration the node runs with.
    pub config: NodeConfig,
    /// The chain parameters.
    pub chain: ChainSpec,
    /// The database holding blocks and state.
    pub db: Arc<Database>,
    /// Blocks, receipts, transaction index.
    pub store: Arc<ChainStore>,
    /// World state.
    pub state: StateDb,
    /// Transaction pool.
    pub mempool: Mempool,
    /// Block executor.
    pub executor: Arc<dyn Executor>,
    /// Each block once it is committed.
    pub new_blocks: broadcast::Sender<Arc<StoredBlock>>,
}

impl Node {
    /// Opens (or creates) the node's database in `config.datadir` and commits the genesis
    /// block on first start.
    pub fn open(config: NodeConfig, genesis: &Genesis) -> Result<Arc<Self>, NodeError> {
        let dir = &config.datadir.0;
        std::fs::create_dir_all(dir).map_err(|e| NodeError::OpenDatabase {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let path = dir.join("altius.redb");
        let db = Database::create(&path).map_err(|e| NodeError::OpenDatabase {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let db = Arc::new(db);
        let store = Arc::new(ChainStore::open(db.clone())?);
        let state = StateDb::open_with_config(db.clone(), config.state.to_state_config())?;
        let chain = config.chain.clone();
        let executor: Arc<dyn Executor> = match config.execution.mode {
            ExecutionKind::Parallel => Arc::new(
                ParallelExecutor::new(chain.clone(), config.execution.threads)
                    .with_ssa_redo(config.execution.ssa_redo)
                    .with_block_hashes(store.clone()),
            ),
            ExecutionKind::Sequential => {
                Arc::new(SequentialExecutor::new(chain.clone()).with_block_hashes(store.clone()))
            }
        };
        let mempool = Mempool::new(config.mempool.clone());
        let (new_blocks, _) = broadcast::channel(256);
        let node = Arc::new(Self {
            config,
            chain,
            db,
            store,
            state,
            mempool,
            executor,
            new_blocks,
        });
        match node.store.head() {
            None => crate::genesis::commit_genesis(&node, genesis)?,
            Some(head) => crate::genesis::check_genesis(&node, genesis, &head)?,
        }
        Ok(node)
    }

    /// The newest committed header.
    pub fn head(&self) -> Sealed<Header> {
        self.store
            .head()
            .expect("the genesis is committed when the node opens")
    }

    /// Pool validation parameters for the next block.
    pub fn pool_context(&self) -> PoolContext {
        let head = self.head();
        PoolContext {
            chain_id: self.chain.chain_id,
            block_gas_limit: self.config.sequencer.gas_limit,
            base_fee: self.next_base_fee(&head),
        }
    }

    /// Base fee of the block after `parent`.
    pub fn next_base_fee(&self, parent: &Header) -> u64 {
        self.chain.next_base_fee(
            parent.gas_used,
            parent.gas_limit,
            parent.base_fee_per_gas.unwrap_or_default(),
        )
    }
}
