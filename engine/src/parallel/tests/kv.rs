//! A tiny key-value program VM, used only in tests to show the core does not depend on the
//! EVM, with an independent in-order reference interpreter and a random block generator.

use crate::parallel::{ReadView, TxOutcome, Vm, VmError};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The key every fee is paid to.
pub(super) const FEE: u64 = 0;
/// Message of the panics [`Op::Panic`] raises.
pub(super) const PANIC_MESSAGE: &str = "kv vm panic";

/// One instruction of a transaction program. Registers hold the values read, in order.
#[derive(Clone, Debug)]
pub(super) enum Op {
    /// Reads a key into the next register.
    Read(u64),
    /// Writes `constant` plus the listed registers (absent values count 0), wrapping.
    Write {
        key: u64,
        constant: u64,
        regs: Vec<usize>,
    },
    /// Adds `amount` to a key without reading it (a delta).
    Add { key: u64, amount: u64 },
    /// Runs `then` when register `reg` is at least `threshold`.
    IfAtLeast {
        reg: usize,
        threshold: u64,
        then: Vec<Self>,
    },
    /// Fails the transaction with `code` when register `reg` is odd.
    FailIfOdd { reg: usize, code: u64 },
    /// Panics.
    Panic,
}

/// A block: the storage before it and one program per transaction.
#[derive(Clone, Debug)]
pub(super) struct Block {
    pub(super) base: HashMap<u64, u64>,
    pub(super) programs: Vec<Vec<Op>>,
}

/// The VM running [`Op`] programs.
#[derive(Debug)]
pub(super) struct KvVm {
    pub(super) programs: Vec<Vec<Op>>,
    /// Ignore read errors and go on with "no value" (a misbehaving VM the core must survive).
    pub(super) swallow_read_errors: bool,
    /// What [`Vm::is_clearly_serial`] answers.
    pub(super) serial: bool,
    /// Whether [`FEE`] is an [accumulator](Vm::is_accumulator).
    pub(super) fee_lane: bool,
}

fn reg(regs: &[Option<u64>], index: usize) -> u64 {
    regs.get(index).copied().flatten().unwrap_or(0)
}

fn sum(constant: u64, regs: &[Option<u64>], indices: &[usize]) -> u64 {
    indices
        .iter()
        .fold(constant, |acc, &index| acc.wrapping_add(reg(regs, index)))
}

impl Vm for KvVm {
    type Key = u64;
    type Value = u64;
    type Delta = u64;
    type Output = Vec<Option<u64>>;
    type Error = u64;

    fn execute(
        &self,
        tx: usize,
        view: &mut dyn ReadView<u64, u64>,
    ) -> Result<TxOutcome<u64, u64, u64, Vec<Option<u64>>>, VmError<u64>> {
        let program = self.programs.get(tx).ok_or(VmError::Tx(u64::MAX))?;
        let mut run = KvRun {
            view,
            local: Vec::new(),
            regs: Vec::new(),
            swallow: self.swallow_read_errors,
        };
        run.ops(program)?;
        Ok(run.into_outcome())
    }

    fn apply_delta(&self, _key: &u64, value: Option<u64>, delta: &u64) -> u64 {
        value.unwrap_or(0).wrapping_add(*delta)
    }

    fn is_accumulator(&self, key: &u64) -> bool {
        self.fee_lane && *key == FEE
    }

    fn is_clearly_serial(&self, _txs: usize) -> bool {
        self.serial
    }
}

#[derive(Clone, Copy)]
enum Local {
    Full(u64),
    Delta(u64),
}

/// One execution: the transaction's own writes overlay the view.
struct KvRun<'a> {
    view: &'a mut dyn ReadView<u64, u64>,
    local: Vec<(u64, Local)>,
    regs: Vec<Option<u64>>,
    swallow: bool,
}

impl KvRun<'_> {
    fn ops(&mut self, ops: &[Op]) -> Result<(), VmError<u64>> {
        ops.iter().try_for_each(|op| self.op(op))
    }

    fn op(&mut self, op: &Op) -> Result<(), VmError<u64>> {
        match op {
            Op::Read(key) => {
                let value = self.read(*key)?;
                self.regs.push(value);
            }
            Op::Write {
                key,
                constant,
                regs,
            } => {
                self.set(*key, Local::Full(sum(*constant, &self.regs, regs)));
            }
            Op::Add { key, amount } => {
                let local = match self.local(*key) {
                    Some(Local::Full(value)) => Local::Full(value.wrapping_add(*amount)),
                    Some(Local::Delta(delta)) => Local::Delta(delta.wrapping_add(*amount)),
                    None => Local::Delta(*amount),
                };
                self.set(*key, local);
            }
            Op::IfAtLeast {
                reg: index,
                threshold,
                then,
            } => {
                if reg(&self.regs, *index) >= *threshold {
                    self.ops(then)?;
                }
            }
            Op::FailIfOdd { reg: index, code } => {
                if reg(&self.regs, *index) % 2 == 1 {
                    return Err(VmError::Tx(*code));
                }
            }
            Op::Panic => panic!("{PANIC_MESSAGE}"),
        }
        Ok(())
    }

    fn local(&self, key: u64) -> Option<Local> {
        self.local
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, local)| *local)
    }

    fn set(&mut self, key: u64, local: Local) {
        match self.local.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = local,
            None => self.local.push((key, local)),
        }
    }

    fn read(&mut self, key: u64) -> Result<Option<u64>, VmError<u64>> {
        match self.local(key) {
            Some(Local::Full(value)) => Ok(Some(value)),
            Some(Local::Delta(delta)) => {
                Ok(Some(self.read_view(key)?.unwrap_or(0).wrapping_add(delta)))
            }
            None => self.read_view(key),
        }
    }

    fn read_view(&mut self, key: u64) -> Result<Option<u64>, VmError<u64>> {
        match self.view.read(&key) {
            Ok(value) => Ok(value),
            Err(_) if self.swallow => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn into_outcome(self) -> TxOutcome<u64, u64, u64, Vec<Option<u64>>> {
        let mut outcome = TxOutcome::new(self.regs);
        for (key, local) in self.local {
            match local {
                Local::Full(value) => outcome.writes.push((key, value)),
                Local::Delta(delta) => outcome.deltas.push((key, delta)),
            }
        }
        outcome
    }
}

/// What the reference interpreter expects of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ExpectedTx {
    pub(super) result: Result<Vec<Option<u64>>, u64>,
    pub(super) writes: BTreeMap<u64, u64>,
}

/// What the reference interpreter expects of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Expected {
    /// Per-transaction results and the final value of every written key.
    Block {
        txs: Vec<ExpectedTx>,
        state: BTreeMap<u64, u64>,
    },
    /// The VM panics at this transaction.
    Panicked(usize),
}

enum Stop {
    Fail(u64),
    Panic,
}

/// Executes the block in order on a plain map: each transaction runs on a copy of the state
/// that replaces it unless the transaction fails.
pub(super) fn reference(block: &Block) -> Expected {
    let mut state = block.base.clone();
    let mut written = BTreeSet::new();
    let mut txs = Vec::new();
    for (index, program) in block.programs.iter().enumerate() {
        let mut scratch = state.clone();
        let mut regs = Vec::new();
        let mut touched = BTreeSet::new();
        match interpret(program, &mut scratch, &mut regs, &mut touched) {
            Ok(()) => {
                let writes = touched.iter().map(|&k| (k, scratch[&k])).collect();
                written.extend(touched);
                state = scratch;
                txs.push(ExpectedTx {
                    result: Ok(regs),
                    writes,
                });
            }
            Err(Stop::Fail(code)) => txs.push(ExpectedTx {
                result: Err(code),
                writes: BTreeMap::new(),
            }),
            Err(Stop::Panic) => return Expected::Panicked(index),
        }
    }
    let state = written.iter().map(|&k| (k, state[&k])).collect();
    Expected::Block { txs, state }
}

fn interpret(
    ops: &[Op],
    state: &mut HashMap<u64, u64>,
    regs: &mut Vec<Option<u64>>,
    touched: &mut BTreeSet<u64>,
) -> Result<(), Stop> {
    for op in ops {
        match op {
            Op::Read(key) => regs.push(state.get(key).copied()),
            Op::Write {
                key,
                constant,
                regs: indices,
            } => {
                state.insert(*key, sum(*constant, regs, indices));
                touched.insert(*key);
            }
            Op::Add { key, amount } => {
                let value = state.get(key).copied().unwrap_or(0).wrapping_add(*amount);
                state.insert(*key, value);
                touched.insert(*key);
            }
            Op::IfAtLeast {
                reg: index,
                threshold,
                then,
            } => {
                if reg(regs, *index) >= *threshold {
                    interpret(then, state, regs, touched)?;
                }
            }
            Op::FailIfOdd { reg: index, code } => {
                if reg(regs, *index) % 2 == 1 {
                    return Err(Stop::Fail(*code));
                }
            }
            Op::Panic => return Err(Stop::Panic),
        }
    }
    Ok(())
}

/// SplitMix64: a small deterministic generator for seeded blocks.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) const fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, per_cent: u64) -> bool {
        self.below(100) < per_cent
    }
}

/// A random block over few keys with heavy conflicts; key [`FEE`] collects most fees and is
/// read by some transactions. With `panics`, some conditional branches panic.
pub(super) fn random_block(seed: u64, max_txs: u64, panics: bool) -> Block {
    let mut rng = Rng::new(seed);
    let keys = 2 + rng.below(7);
    let txs = 1 + rng.below(max_txs);
    let mut base = HashMap::new();
    for key in 0..keys {
        if rng.chance(60) {
            base.insert(key, rng.below(100));
        }
    }
    let programs = (0..txs)
        .map(|_| random_program(&mut rng, keys, panics))
        .collect();
    Block { base, programs }
}

fn random_program(rng: &mut Rng, keys: u64, panics: bool) -> Vec<Op> {
    let len = 1 + rng.below(5);
    let mut ops: Vec<Op> = (0..len).map(|_| random_op(rng, keys, 1, panics)).collect();
    if rng.chance(80) {
        ops.push(Op::Add {
            key: FEE,
            amount: 1 + rng.below(10),
        });
    }
    ops
}

fn random_op(rng: &mut Rng, keys: u64, depth: u32, panics: bool) -> Op {
    let key = rng.below(keys);
    match rng.below(100) {
        0..35 => Op::Read(key),
        35..60 => {
            let regs = (0..rng.below(3)).map(|_| rng.below(4) as usize).collect();
            Op::Write {
                key,
                constant: rng.below(50),
                regs,
            }
        }
        60..72 => Op::Add {
            key,
            amount: rng.below(20),
        },
        72..86 if depth > 0 => {
            let reg = rng.below(4) as usize;
            let threshold = rng.below(100);
            let len = 1 + rng.below(2);
            let then = (0..len)
                .map(|_| random_op(rng, keys, depth - 1, panics))
                .collect();
            Op::IfAtLeast {
                reg,
                threshold,
                then,
            }
        }
        86..93 => Op::FailIfOdd {
            reg: rng.below(4) as usize,
            code: rng.below(1000),
        },
        93..96 if panics && depth == 0 => Op::Panic,
        _ => Op::Read(FEE),
    }
}
