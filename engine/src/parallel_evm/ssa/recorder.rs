//! [`SsaRecorder`]: the revm inspector that writes the operation log of an execution.

use super::{
    eval::is_recomputed,
    log::{CONST, Def, Kind, Operand, SsaLog},
    memory::{memory_reads, memory_writes, returned_into, touches_memory},
    shadow::ShadowFrame,
    storage::ShadowStorage,
};
use alloy_primitives::{Address, U256};
use revm::{
    bytecode::opcode::{self, OpCode},
    context_interface::{ContextTr, JournalTr},
    handler::FrameResult,
    inspector::{Inspector, JournalExt},
    interpreter::{
        FrameInput, Interpreter,
        interpreter::EthInterpreter,
        interpreter_types::{InputsTr, Jumps},
    },
};

/// Stack inputs of an instruction, at most (`CALL`'s).
const MAX_INPUTS: usize = 7;

/// An instruction whose inputs (in [`SsaRecorder`]'s buffer) the inspector needs after it
/// ran.
#[derive(Clone, Copy, Debug)]
struct Pending {
    opcode: u8,
    depth: usize,
    count: usize,
    outputs: usize,
}

/// The log of one execution, ready for a redo.
#[derive(Clone, Debug, Default)]
pub(crate) struct Recorded {
    pub(crate) log: SsaLog,
    /// Every slot the transaction stored to, in first-store order: its source (the value
    /// before the transaction) and the value it left.
    pub(crate) stored: Vec<(Address, U256, Operand, Operand)>,
}

/// Records the [`SsaLog`] of one execution as revm runs it.
///
/// It mirrors each frame's stack and memory with the log entry of every value, and logs an
/// operation only when one of its inputs is a logged value: storage reads start the log,
/// and a value computed from constants alone stays a constant. The log is given up (see
/// [`SsaRecorder::finish`]) when a frame fails or reverts, a contract self-destructs, or the
/// mirror loses track of the stack.
#[derive(Debug)]
pub(crate) struct SsaRecorder {
    log: SsaLog,
    frames: Vec<ShadowFrame>,
    storage: ShadowStorage,
    pending: Option<Pending>,
    /// The inputs of the pending instruction, the top of the stack first.
    inputs: [Operand; MAX_INPUTS],
    usable: bool,
}

impl Default for SsaRecorder {
    fn default() -> Self {
        Self {
            log: SsaLog::with_capacity(64),
            frames: Vec::with_capacity(4),
            storage: ShadowStorage::default(),
            pending: None,
            inputs: [Operand::constant(U256::ZERO); MAX_INPUTS],
            usable: true,
        }
    }
}

impl SsaRecorder {
    /// The log, `None` if it was given up.
    pub(crate) fn finish(self) -> Option<Recorded> {
        if !self.usable {
            return None;
        }
        Some(Recorded {
            stored: self.storage.stored(),
            log: self.log,
        })
    }

    fn give_up(&mut self) {
        self.usable = false;
        self.pending = None;
    }

    /// Mirrors the instruction about to run; keeps what its effects need in `pending`.
    fn before(&mut self, depth: usize, op: u8, stack: &[U256]) {
        let Some(frame) = self.frames.get_mut(depth) else {
            return self.give_up();
        };
        if frame.stack.len() != stack.len() {
            return self.give_up();
        }
        let moved = match op {
            opcode::DUP1..=opcode::DUP16 => Some(frame.dup(usize::from(op - opcode::DUP1) + 1)),
            opcode::SWAP1..=opcode::SWAP16 => Some(frame.swap(usize::from(op - opcode::SWAP1) + 1)),
            opcode::DUPN | opcode::SWAPN | opcode::EXCHANGE => Some(false),
            _ => None,
        };
        if let Some(moved) = moved {
            if !moved {
                self.give_up();
            }
            return;
        }
        // An invalid opcode halts its frame, which gives the log up.
        let Some(info) = OpCode::info_by_op(op) else {
            return;
        };
        let (inputs, outputs) = (usize::from(info.inputs()), usize::from(info.outputs()));
        if inputs > MAX_INPUTS || stack.len() < inputs {
            // The instruction fails (it cannot when revm knows it), and its frame with it.
            return self.give_up();
        }
        let needed = frame.top_is_logged(inputs)
            || matches!(op, opcode::SLOAD | opcode::SSTORE)
            || (frame.has_memory_values() && touches_memory(op));
        if !needed {
            if !frame.drop_top(inputs) {
                return self.give_up();
            }
            frame.stack.extend(std::iter::repeat_n(CONST, outputs));
            return;
        }
        let defs = frame.stack.iter().rev().zip(stack.iter().rev());
        for (input, (def, value)) in self.inputs.iter_mut().zip(defs).take(inputs) {
            *input = Operand {
                def: *def,
                value: *value,
            };
        }
        self.pending = Some(Pending {
            opcode: op,
            depth,
            count: inputs,
            outputs,
        });
    }

    /// Logs the instruction `pending` after it ran: `output` is the top of the stack,
    /// `address` the account whose storage the frame uses, `original` a slot's value
    /// before the transaction.
    fn after(
        &mut self,
        pending: Pending,
        output: U256,
        address: Address,
        original: impl FnOnce(U256) -> Option<U256>,
    ) {
        let Some(frame) = self.frames.get_mut(pending.depth) else {
            self.usable = false;
            return;
        };
        if !frame.drop_top(pending.count) {
            self.usable = false;
            return;
        }
        let inputs = &self.inputs[..pending.count];
        let mut guarded: Vec<Def> = Vec::new();
        let pushed = match pending.opcode {
            opcode::SLOAD | opcode::SSTORE => {
                guarded.push(inputs[0].def);
                let key = (address, inputs[0].value);
                let log = &mut self.log;
                let logged = if pending.opcode == opcode::SLOAD {
                    self.storage.load(log, key, output).map(Some)
                } else {
                    let original = || original(key.1);
                    self.storage
                        .store(log, key, inputs[1], original)
                        .map(|()| None)
                };
                let Some(pushed) = logged else {
                    self.usable = false;
                    return;
                };
                pushed
            }
            op => after_in_frame(&mut self.log, frame, op, inputs, output, &mut guarded),
        };
        match pushed {
            Some(def) => frame.stack.push(def),
            None => frame
                .stack
                .extend(std::iter::repeat_n(CONST, pending.outputs)),
        }
        guarded.retain(|def| *def != CONST);
        if !guarded.is_empty() {
            guarded.sort_unstable();
            guarded.dedup();
            self.log.push(Kind::Guard { defs: guarded }, U256::ZERO);
        }
    }
}

/// Logs `op`, which does not touch storage, after it ran in `frame` (whose stack has lost
/// `inputs`): its logged output, if any (`None`: its outputs are constants), and the values
/// that must not change in `guarded`.
fn after_in_frame(
    log: &mut SsaLog,
    frame: &mut ShadowFrame,
    op: u8,
    inputs: &[Operand],
    output: U256,
    guarded: &mut Vec<Def>,
) -> Option<Def> {
    match op {
        opcode::MLOAD => {
            guarded.push(inputs[0].def);
            let bytes = frame.word_sources(inputs[0].value);
            (!bytes.is_empty()).then(|| log.push(Kind::Load { bytes }, output).def)
        }
        opcode::MSTORE | opcode::MSTORE8 => {
            guarded.push(inputs[0].def);
            if op == opcode::MSTORE {
                frame.store_word(inputs[0].value, inputs[1].def);
            } else {
                frame.store_byte(inputs[0].value, inputs[1].def);
            }
            None
        }
        op if is_recomputed(op) => {
            let kind = Kind::Op {
                opcode: op,
                inputs: [inputs[0], inputs.get(1).copied().unwrap_or(inputs[0])],
                arity: u8::try_from(inputs.len()).unwrap_or(2),
            };
            Some(log.push(kind, output).def)
        }
        op => {
            guarded.extend(inputs.iter().map(|input| input.def));
            if let Some(range) = memory_reads(op, inputs) {
                frame.defs_in(range, guarded);
            }
            if let Some(range) = returned_into(op, inputs) {
                frame.defs_in(range, guarded);
                frame.clear(range);
            }
            if let Some(range) = memory_writes(op, inputs) {
                frame.clear(range);
            }
            None
        }
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for SsaRecorder
where
    CTX: ContextTr<Journal: JournalExt>,
{
    fn initialize_interp(&mut self, _interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        let depth = context.journal_ref().depth();
        self.frames.truncate(depth);
        self.frames.resize_with(depth + 1, ShadowFrame::new);
    }

    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        if self.usable {
            let depth = context.journal_ref().depth();
            self.before(depth, interp.bytecode.opcode(), interp.stack.data());
        }
    }

    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let output = interp.stack.data().last().copied().unwrap_or_default();
        let address = interp.input.target_address();
        let journal = context.journal_ref();
        let original = |slot: U256| {
            let account = journal.evm_state().get(&address)?;
            Some(account.storage.get(&slot)?.original_value)
        };
        self.after(pending, output, address, original);
    }

    fn frame_end(&mut self, _context: &mut CTX, _input: &FrameInput, result: &mut FrameResult) {
        if !result.interpreter_result().is_ok() {
            self.give_up();
        }
    }

    fn selfdestruct(&mut self, _contract: Address, _target: Address, _value: U256) {
        self.give_up();
    }
}
