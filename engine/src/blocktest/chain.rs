//! Running one test: importing its blocks onto the genesis and checking the head's state.

use super::{
    executor::{BlockExecutor, BlockInput, SignedTx},
    fixture::{BlockchainTest, FixtureBlock},
    fork::ForkSchedule,
    header::{check_body, check_header, check_outcome},
    world::WorldState,
};
use alloy_consensus::{Block, Header, TxEnvelope, transaction::SignerRecoverable};
use alloy_primitives::{B256, hex};
use alloy_rlp::Decodable;
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

/// How many ancestors `BLOCKHASH` can see.
const BLOCKHASH_WINDOW: u64 = 256;

/// The outcome of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    /// Every check held.
    Passed,
    /// A check failed; the message says which.
    Failed(String),
    /// The test's network is not executed.
    Skipped(String),
}

/// An imported block.
#[derive(Debug)]
struct Node {
    header: Header,
    state: Arc<WorldState>,
}

/// The blocks of one test, by hash; blocks may fork off any imported block.
#[derive(Debug)]
struct Chain<'e> {
    schedule: ForkSchedule,
    /// The test, to explain a wrong state root of its head block.
    test: &'e BlockchainTest,
    executor: &'e dyn BlockExecutor,
    nodes: HashMap<B256, Node>,
}

/// Runs `test` with `executor`.
pub fn run_test(test: &BlockchainTest, executor: &dyn BlockExecutor) -> TestOutcome {
    let Some(schedule) = ForkSchedule::from_network(&test.network) else {
        return TestOutcome::Skipped(format!("network {}", test.network));
    };
    match run_chain(test, schedule, executor) {
        Ok(()) => TestOutcome::Passed,
        Err(message) => TestOutcome::Failed(message),
    }
}

/// Imports all blocks and checks the result.
fn run_chain(
    test: &BlockchainTest,
    schedule: ForkSchedule,
    executor: &dyn BlockExecutor,
) -> Result<(), String> {
    let genesis = decode_block(&test.genesis_rlp)?.header;
    let pre = WorldState::from_alloc(&test.pre);
    let root = pre.state_root()?;
    if root != genesis.state_root {
        return Err(format!("pre-state root {root} differs from genesis header"));
    }
    let mut chain = Chain {
        schedule,
        test,
        executor,
        nodes: HashMap::new(),
    };
    let genesis_hash = genesis.hash_slow();
    chain.nodes.insert(
        genesis_hash,
        Node {
            header: genesis,
            state: Arc::new(pre),
        },
    );
    for (index, block) in test.blocks.iter().enumerate() {
        chain.import_checked(index, block)?;
    }
    let head = chain
        .nodes
        .get(&test.lastblockhash)
        .ok_or_else(|| format!("last block {} was not imported", test.lastblockhash))?;
    check_post_state(test, &head.state)
}

impl Chain<'_> {
    /// Imports `block`, expecting success or (with `expectException`) rejection.
    fn import_checked(&mut self, index: usize, block: &FixtureBlock) -> Result<(), String> {
        let result = self.import(&block.rlp);
        match (&block.expect_exception, result) {
            (None, Ok(())) | (Some(_), Err(_)) => Ok(()),
            (None, Err(e)) => Err(format!("block {index} rejected: {e}")),
            (Some(expected), Ok(())) => Err(format!("block {index} accepted, expected {expected}")),
        }
    }

    /// Validates and executes one block and adds it to the chain.
    fn import(&mut self, rlp_hex: &str) -> Result<(), String> {
        let bytes = hex::decode(rlp_hex).map_err(|e| format!("block hex: {e}"))?;
        let block = decode_block(&bytes)?;
        let parent = self
            .nodes
            .get(&block.header.parent_hash)
            .ok_or("unknown parent")?;
        let fork = self.schedule.at(block.header.timestamp);
        let parent_fork = self.schedule.at(parent.header.timestamp);
        check_header(&block.header, &parent.header, fork, parent_fork)?;
        check_body(&block, fork)?;
        let txs = recover_senders(&block.body.transactions)?;
        let mut state = WorldState::clone(&parent.state);
        state.block_hashes = Arc::new(self.ancestor_hashes(&block.header));
        let withdrawals = block
            .body
            .withdrawals
            .as_deref()
            .map_or(&[][..], |w| &w[..]);
        let input = BlockInput {
            header: &block.header,
            fork,
            txs: &txs,
            withdrawals,
        };
        let out = self.executor.execute(&mut state, &input)?;
        let hash = block.header.hash_slow();
        check_outcome(&block.header, &out, state.state_root()?)
            .map_err(|e| self.explain(hash, &state, e))?;
        let node = Node {
            header: block.header,
            state: Arc::new(state),
        };
        self.nodes.insert(hash, node);
        Ok(())
    }

    /// `error`, with the first difference from `postState` when the block is the head.
    fn explain(&self, hash: B256, state: &WorldState, error: String) -> String {
        if hash != self.test.lastblockhash {
            return error;
        }
        match check_post_state(self.test, state) {
            Err(diff) => format!("{error} ({diff})"),
            Ok(()) => error,
        }
    }

    /// Number to hash of the up to 256 ancestors of `header`.
    fn ancestor_hashes(&self, header: &Header) -> BTreeMap<u64, B256> {
        let mut hashes = BTreeMap::new();
        let mut hash = header.parent_hash;
        while let Some(node) = self.nodes.get(&hash) {
            hashes.insert(node.header.number, hash);
            if node.header.number == 0 || hashes.len() as u64 >= BLOCKHASH_WINDOW {
                break;
            }
            hash = node.header.parent_hash;
        }
        hashes
    }
}

/// Decodes a whole block; trailing bytes are an error.
fn decode_block(bytes: &[u8]) -> Result<Block<TxEnvelope>, String> {
    let mut buf = bytes;
    let block = Block::<TxEnvelope>::decode(&mut buf).map_err(|e| format!("block RLP: {e}"))?;
    if !buf.is_empty() {
        return Err("trailing bytes after block RLP".to_string());
    }
    Ok(block)
}

/// The transactions with their senders.
fn recover_senders(txs: &[TxEnvelope]) -> Result<Vec<SignedTx>, String> {
    txs.iter()
        .enumerate()
        .map(|(index, tx)| {
            let sender = tx
                .recover_signer()
                .map_err(|e| format!("tx {index}: invalid signature: {e}"))?;
            Ok(SignedTx {
                tx: tx.clone(),
                sender,
            })
        })
        .collect()
}

/// Compares the head's state with `postState` or `postStateHash`.
fn check_post_state(test: &BlockchainTest, state: &WorldState) -> Result<(), String> {
    if let Some(post) = &test.post_state {
        let expected = WorldState::from_alloc(post);
        return compare_states(&expected, state);
    }
    if let Some(hash) = test.post_state_hash {
        let root = state.state_root()?;
        if root != hash {
            return Err(format!("post state root {root}, expected {hash}"));
        }
        return Ok(());
    }
    Err("fixture has neither postState nor postStateHash".to_string())
}

/// The first difference between the expected and the actual state.
fn compare_states(expected: &WorldState, actual: &WorldState) -> Result<(), String> {
    for (address, want) in expected.accounts() {
        let Some(got) = actual.accounts().get(address) else {
            return Err(format!("post state: account {address} missing"));
        };
        if got.account != want.account {
            return Err(format!(
                "post state: account {address} is {:?}, expected {:?}",
                got.account, want.account
            ));
        }
        if got.storage != want.storage {
            return Err(format!("post state: storage of {address} differs"));
        }
    }
    if let Some(extra) = actual
        .accounts()
        .keys()
        .find(|a| !expected.accounts().contains_key(*a))
    {
        return Err(format!("post state: unexpected account {extra}"));
    }
    Ok(())
}
