//! [`SsaRecorder`]: the revm inspector that writes the operation log of an execution.

use super::{
    eval::is_recomputed,
    log::{ByteSource, CONST, Def, Kind, Operand, SsaLog},
    memory::{memory_reads, memory_writes, returned_into, touches_memory},
    shadow::{ShadowFrame, Taint},
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
    /// The logged bytes of each log's data, by the log's index in the transaction's logs.
    pub(crate) log_data: Vec<(usize, Vec<ByteSource>)>,
    /// The logged bytes of the data the transaction's call returned.
    pub(crate) output: Vec<ByteSource>,
}

/// What crosses frames, or leaves the transaction, besides storage.
#[derive(Debug, Default)]
struct Crossing {
    /// The logged bytes of the calldata of the frame a call is starting.
    calldata: Option<Taint>,
    log_data: Vec<(usize, Vec<ByteSource>)>,
    output: Vec<ByteSource>,
    /// The depth of the transaction's own frame, once started.
    top_depth: Option<usize>,
    /// Whether that frame is a call (a creation returns code, which is guarded).
    top_is_call: Option<bool>,
}

/// Where a pending instruction ran: the index of the log it emitted, if one, and whether in
/// the transaction's own frame, a call.
#[derive(Clone, Copy, Debug)]
struct Place {
    log_index: Option<usize>,
    top_call: bool,
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
    crossing: Crossing,
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
            crossing: Crossing::default(),
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
            log_data: self.crossing.log_data,
            output: self.crossing.output,
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
            // A value dropped reaches nothing.
            opcode::POP => Some(frame.drop_top(1)),
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
            || (frame.has_memory_values() && touches_memory(op))
            || (frame.has_calldata_values()
                && matches!(op, opcode::CALLDATALOAD | opcode::CALLDATACOPY));
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
    /// before the transaction, `log_index` the index of the last log emitted.
    fn after(
        &mut self,
        pending: Pending,
        output: U256,
        address: Address,
        original: impl FnOnce(U256) -> Option<U256>,
        log_index: Option<usize>,
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
            op => {
                let top = Some(pending.depth) == self.crossing.top_depth;
                let place = Place {
                    log_index,
                    top_call: top && self.crossing.top_is_call == Some(true),
                };
                let log = &mut self.log;
                let crossing = &mut self.crossing;
                let step = Step { op, inputs, output };
                after_in_frame(log, frame, crossing, step, place, &mut guarded)
            }
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

/// An instruction that ran: its opcode, its inputs (the top of the stack first) and the top
/// of the stack after it.
struct Step<'a> {
    op: u8,
    inputs: &'a [Operand],
    output: U256,
}

/// Logs an instruction that does not touch storage after it ran in `frame` (whose stack has
/// lost its inputs): its logged output, if any (`None`: its outputs are constants), and the
/// values that must not change in `guarded`.
fn after_in_frame(
    log: &mut SsaLog,
    frame: &mut ShadowFrame,
    crossing: &mut Crossing,
    Step { op, inputs, output }: Step<'_>,
    place: Place,
    guarded: &mut Vec<Def>,
) -> Option<Def> {
    let load = |log: &mut SsaLog, bytes: Vec<ByteSource>| {
        (!bytes.is_empty()).then(|| log.push(Kind::Load { bytes }, output).def)
    };
    match op {
        opcode::MLOAD => {
            guarded.push(inputs[0].def);
            load(log, frame.word_sources(inputs[0].value))
        }
        opcode::CALLDATALOAD => {
            guarded.push(inputs[0].def);
            load(log, frame.calldata_word_sources(inputs[0].value))
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
        opcode::JUMPI => {
            // The branch depends on whether the condition is zero, not on its value (a
            // checked division jumps on its divisor).
            guarded.push(inputs[0].def);
            let condition = inputs[1];
            if condition.def != CONST {
                let is_zero = Kind::Op {
                    opcode: opcode::ISZERO,
                    inputs: [condition, condition],
                    arity: 1,
                };
                let taken = U256::from(condition.value.is_zero());
                guarded.push(log.push(is_zero, taken).def);
            }
            None
        }
        op => {
            guarded.extend(inputs.iter().map(|input| input.def));
            after_effects(frame, crossing, op, inputs, place, guarded);
            None
        }
    }
}

/// The memory an instruction reads or writes, beyond the stack: the logged bytes of a log's
/// data, of the transaction's output and of a call's arguments are kept to be redone (the
/// callee gets them as its calldata); those of anything else it reads are guarded.
fn after_effects(
    frame: &mut ShadowFrame,
    crossing: &mut Crossing,
    op: u8,
    inputs: &[Operand],
    place: Place,
    guarded: &mut Vec<Def>,
) {
    let is_log = (opcode::LOG0..=opcode::LOG4).contains(&op);
    let is_call = returned_into(op, inputs).is_some();
    if let Some(range) = memory_reads(op, inputs) {
        match (is_log, place.log_index) {
            (true, Some(index)) => {
                let bytes = frame.data_sources(range);
                if !bytes.is_empty() {
                    crossing.log_data.push((index, bytes));
                }
            }
            _ if op == opcode::RETURN && place.top_call => {
                crossing.output = frame.data_sources(range);
            }
            _ if is_call => {
                let calldata = frame.taint_of(range);
                crossing.calldata = (!calldata.is_empty()).then_some(calldata);
            }
            _ => frame.defs_in(range, guarded),
        }
    }
    if let Some(range) = returned_into(op, inputs) {
        frame.defs_in(range, guarded);
        frame.clear(range);
    }
    if let Some(range) = memory_writes(op, inputs) {
        frame.clear(range);
        if op == opcode::CALLDATACOPY {
            frame.copy_calldata(inputs[0].value, inputs[1].value, inputs[2].value);
        }
    }
}

impl<CTX> Inspector<CTX, EthInterpreter> for SsaRecorder
where
    CTX: ContextTr<Journal: JournalExt>,
{
    fn initialize_interp(&mut self, _interp: &mut Interpreter<EthInterpreter>, context: &mut CTX) {
        let depth = context.journal_ref().depth();
        self.crossing.top_depth.get_or_insert(depth);
        let calldata = self.crossing.calldata.take().unwrap_or_default();
        self.frames.truncate(depth);
        self.frames
            .resize_with(depth, || ShadowFrame::new(Taint::new()));
        self.frames.push(ShadowFrame::new(calldata));
    }

    fn frame_start(&mut self, _context: &mut CTX, input: &mut FrameInput) -> Option<FrameResult> {
        let is_call = matches!(input, FrameInput::Call(_));
        self.crossing.top_is_call.get_or_insert(is_call);
        None
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
        let log_index = journal.logs().len().checked_sub(1);
        self.after(pending, output, address, original, log_index);
    }

    fn frame_end(&mut self, _context: &mut CTX, _input: &FrameInput, result: &mut FrameResult) {
        if !result.interpreter_result().is_ok() {
            self.give_up();
        }
        // A call that started no interpreter (a precompile, an account without code, a
        // failure before it) read its arguments all the same: they must not change.
        if let Some(calldata) = self.crossing.calldata.take() {
            let defs = calldata.values().map(|(def, _)| *def).collect();
            self.log.push(Kind::Guard { defs }, U256::ZERO);
        }
    }

    fn selfdestruct(&mut self, _contract: Address, _target: Address, _value: U256) {
        self.give_up();
    }
}
