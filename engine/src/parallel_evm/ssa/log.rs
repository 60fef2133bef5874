//! The operation log of one execution and its redo: every operation whose inputs derive from
//! a storage read, in static single assignment form (each entry defines one value), and the
//! forward walk that recomputes the entries a changed read reaches.

use super::eval::evaluate;
use alloy_primitives::{Address, U256};

/// The index of the entry defining a value; [`CONST`] for a value no logged read reaches.
pub(crate) type Def = u32;

/// A value that depends on no storage read of the transaction: a redo never changes it.
pub(crate) const CONST: Def = Def::MAX;

/// An input of an entry: the entry defining it and the value it had when recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Operand {
    pub(crate) def: Def,
    pub(crate) value: U256,
}

impl Operand {
    /// A value no storage read reaches.
    pub(crate) const fn constant(value: U256) -> Self {
        Self { def: CONST, value }
    }
}

/// One byte of a loaded word (or of a log's data, of the output) that a logged value
/// stored: its position in the word, the value and which of the value's 32 big-endian bytes
/// it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ByteSource {
    pub(crate) position: u32,
    pub(crate) def: Def,
    pub(crate) byte: u8,
}

/// What an entry does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The value of a storage slot before the transaction wrote it: where the redo starts.
    Source { address: Address, slot: U256 },
    /// An arithmetic, comparison or bitwise operation (see [`evaluate`]) of one or two
    /// inputs (the second unused for one).
    Op {
        opcode: u8,
        inputs: [Operand; 2],
        arity: u8,
    },
    /// A word loaded from memory, some of whose bytes a logged value stored.
    Load { bytes: Vec<ByteSource> },
    /// An operation the redo does not recompute (a branch, a memory offset, a call's
    /// argument, a log's data): its effects hold only while these values are unchanged.
    Guard { defs: Vec<Def> },
    /// An `SSTORE`: its gas and refund depend on the slot's value before the transaction
    /// (`original`), before the store (`present`) and the value stored (`new`).
    Store {
        original: Operand,
        present: Operand,
        new: Operand,
    },
}

/// One entry of the log; `output` is the value it defines (zero for guards and stores).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) kind: Kind,
    pub(crate) output: U256,
}

/// Why a redo cannot stand for a full execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RedoFailure {
    /// A guarded value changed: control flow, an address, a memory range or a log differs.
    Guard,
    /// A store's gas or refund would differ.
    StoreGas,
}

/// The entries of one execution, in execution order: an entry only refers to earlier ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SsaLog {
    pub(crate) entries: Vec<Entry>,
}

impl SsaLog {
    /// An empty log with room for `entries`.
    pub(crate) fn with_capacity(entries: usize) -> Self {
        Self {
            entries: Vec::with_capacity(entries),
        }
    }

    /// Appends an entry; returns the value it defines.
    pub(crate) fn push(&mut self, kind: Kind, output: U256) -> Operand {
        let def = Def::try_from(self.entries.len()).unwrap_or(CONST - 1);
        self.entries.push(Entry { kind, output });
        Operand { def, value: output }
    }

    /// The value `operand` has now (after a redo, perhaps a new one).
    pub(crate) fn value(&self, operand: Operand) -> U256 {
        self.entries
            .get(operand.def as usize)
            .map_or(operand.value, |entry| entry.output)
    }

    /// Redoes the log after storage reads changed: `source` gives the value a source's slot
    /// holds now. Entries that a changed value reaches are recomputed in place (the log then
    /// records the new execution); the returned flags say which entries changed.
    ///
    /// # Errors
    ///
    /// A [`RedoFailure`] when the new values change something the log cannot recompute; the
    /// log is then in no useful state and the transaction must run again in full.
    pub(crate) fn redo(
        &mut self,
        mut source: impl FnMut(&Address, &U256) -> Option<U256>,
    ) -> Result<Vec<bool>, RedoFailure> {
        let mut changed = vec![false; self.entries.len()];
        for index in 0..self.entries.len() {
            let output = match &self.entries[index].kind {
                Kind::Source { address, slot } => {
                    source(address, slot).ok_or(RedoFailure::Guard)?
                }
                Kind::Op {
                    opcode,
                    inputs,
                    arity,
                } => {
                    let inputs = inputs.get(..usize::from(*arity)).unwrap_or(inputs);
                    if !inputs.iter().any(|input| is_changed(&changed, input.def)) {
                        continue;
                    }
                    let mut args = [U256::ZERO; 2];
                    for (arg, input) in args.iter_mut().zip(inputs) {
                        *arg = self.value(*input);
                    }
                    evaluate(*opcode, &args[..inputs.len()]).ok_or(RedoFailure::Guard)?
                }
                Kind::Load { bytes } => {
                    if !bytes.iter().any(|byte| is_changed(&changed, byte.def)) {
                        continue;
                    }
                    self.load(index, bytes)
                }
                Kind::Guard { defs } => {
                    if defs.iter().any(|def| is_changed(&changed, *def)) {
                        return Err(RedoFailure::Guard);
                    }
                    continue;
                }
                Kind::Store {
                    original,
                    present,
                    new,
                } => {
                    self.redo_store(&changed, *original, *present, *new)?;
                    continue;
                }
            };
            let entry = &mut self.entries[index];
            if entry.output != output {
                entry.output = output;
                changed[index] = true;
            }
        }
        self.refresh_operands(&changed);
        Ok(changed)
    }

    /// The word loaded by entry `index` with the bytes of `bytes` as their values are now.
    fn load(&self, index: usize, bytes: &[ByteSource]) -> U256 {
        let mut word = self.entries[index].output.to_be_bytes::<32>();
        self.patch(&mut word, bytes);
        U256::from_be_bytes(word)
    }

    /// Writes into `data` the bytes of `bytes` as their values are now.
    pub(crate) fn patch(&self, data: &mut [u8], bytes: &[ByteSource]) {
        for byte in bytes {
            let value = self.value(Operand {
                def: byte.def,
                value: U256::ZERO,
            });
            if let Some(slot) = data.get_mut(byte.position as usize) {
                *slot = value.to_be_bytes::<32>()[usize::from(byte.byte % 32)];
            }
        }
    }

    /// Checks that a store costs the gas and refunds what it did: both depend only on which
    /// of its three values are zero and which are equal.
    fn redo_store(
        &self,
        changed: &[bool],
        original: Operand,
        present: Operand,
        new: Operand,
    ) -> Result<(), RedoFailure> {
        let operands = [original, present, new];
        if !operands.iter().any(|op| is_changed(changed, op.def)) {
            return Ok(());
        }
        let recorded = store_class(operands.map(|op| op.value));
        let now = store_class(operands.map(|op| self.value(op)));
        if recorded == now {
            Ok(())
        } else {
            Err(RedoFailure::StoreGas)
        }
    }

    /// Writes the new values into the operands that recorded the old ones.
    fn refresh_operands(&mut self, changed: &[bool]) {
        let outputs: Vec<U256> = self.entries.iter().map(|entry| entry.output).collect();
        let refresh = |operand: &mut Operand| {
            if is_changed(changed, operand.def) {
                operand.value = outputs[operand.def as usize];
            }
        };
        for entry in &mut self.entries {
            match &mut entry.kind {
                Kind::Op { inputs, .. } => inputs.iter_mut().for_each(refresh),
                Kind::Store {
                    original,
                    present,
                    new,
                } => {
                    refresh(original);
                    refresh(present);
                    refresh(new);
                }
                Kind::Source { .. } | Kind::Load { .. } | Kind::Guard { .. } => {}
            }
        }
    }
}

fn is_changed(changed: &[bool], def: Def) -> bool {
    changed.get(def as usize).copied().unwrap_or(false)
}

/// What an `SSTORE`'s gas and refund depend on, in every fork: which of the slot's original,
/// present and new values are zero and which are equal.
fn store_class([original, present, new]: [U256; 3]) -> [bool; 6] {
    [
        original.is_zero(),
        present.is_zero(),
        new.is_zero(),
        original == present,
        present == new,
        original == new,
    ]
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
