//! The shadow of one call frame: which logged value each stack item and memory byte holds.

use super::log::{ByteSource, CONST, Def};
use alloy_primitives::U256;
use std::collections::BTreeMap;

/// A memory range given by an offset and a length on the stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemoryRange {
    pub(crate) offset: U256,
    pub(crate) len: U256,
}

impl MemoryRange {
    /// The bytes as indices; `None` when empty. A range the instruction could use fits in
    /// memory; a larger one saturates, and its instruction failed anyway.
    fn bounds(self) -> Option<(usize, usize)> {
        if self.len.is_zero() {
            return None;
        }
        let start = usize::try_from(self.offset).unwrap_or(usize::MAX);
        let len = usize::try_from(self.len).unwrap_or(usize::MAX);
        Some((start, start.saturating_add(len)))
    }
}

/// The bytes of a memory or calldata that hold a logged value: index, the value and which of
/// its 32 big-endian bytes; every other byte is constant.
pub(crate) type Taint = BTreeMap<usize, (Def, u8)>;

/// The stack, memory and calldata of one frame, mirrored: each stack item is the [`Def`] of
/// its value, each byte a logged value stored is where that byte came from.
#[derive(Debug, Default)]
pub(crate) struct ShadowFrame {
    pub(crate) stack: Vec<Def>,
    memory: Taint,
    /// The calldata bytes the caller passed from its logged values.
    calldata: Taint,
}

/// Where the logged bytes of `range` of `taint` came from, by position in the range.
fn sources(taint: &Taint, range: MemoryRange) -> Vec<ByteSource> {
    let Some((start, end)) = range.bounds() else {
        return Vec::new();
    };
    taint
        .range(start..end)
        .map(|(index, (def, byte))| ByteSource {
            position: u32::try_from(index - start).unwrap_or(u32::MAX),
            def: *def,
            byte: *byte,
        })
        .collect()
}

/// The word at `offset`.
fn word(offset: U256) -> MemoryRange {
    MemoryRange {
        offset,
        len: U256::from(32),
    }
}

impl ShadowFrame {
    /// A frame with room for the stack a contract call usually reaches, called with
    /// `calldata`.
    pub(crate) fn new(calldata: Taint) -> Self {
        Self {
            stack: Vec::with_capacity(32),
            memory: BTreeMap::new(),
            calldata,
        }
    }

    /// Whether some calldata byte holds a logged value.
    pub(crate) fn has_calldata_values(&self) -> bool {
        !self.calldata.is_empty()
    }

    /// Whether some memory byte holds a logged value.
    pub(crate) fn has_memory_values(&self) -> bool {
        !self.memory.is_empty()
    }

    /// Removes the top `n` items; false if there are fewer.
    pub(crate) fn drop_top(&mut self, n: usize) -> bool {
        match self.stack.len().checked_sub(n) {
            Some(keep) => {
                self.stack.truncate(keep);
                true
            }
            None => false,
        }
    }

    /// Whether one of the top `n` items is a logged value.
    pub(crate) fn top_is_logged(&self, n: usize) -> bool {
        self.stack.iter().rev().take(n).any(|def| *def != CONST)
    }

    /// `DUPn`; false if the stack is too short.
    pub(crate) fn dup(&mut self, n: usize) -> bool {
        match self.stack.len().checked_sub(n) {
            Some(index) => {
                self.stack.push(self.stack[index]);
                true
            }
            None => false,
        }
    }

    /// `SWAPn`; false if the stack is too short.
    pub(crate) fn swap(&mut self, n: usize) -> bool {
        let len = self.stack.len();
        match len.checked_sub(n + 1) {
            Some(index) => {
                self.stack.swap(index, len - 1);
                true
            }
            None => false,
        }
    }

    /// Records that the 32 bytes at `offset` now hold `def` (a constant clears them).
    pub(crate) fn store_word(&mut self, offset: U256, def: Def) {
        let range = word(offset);
        self.clear(range);
        if def == CONST {
            return;
        }
        if let Some((start, _)) = range.bounds() {
            for byte in 0..32u8 {
                self.memory
                    .insert(start.saturating_add(usize::from(byte)), (def, byte));
            }
        }
    }

    /// Records that the byte at `offset` now holds the last byte of `def`.
    pub(crate) fn store_byte(&mut self, offset: U256, def: Def) {
        let range = MemoryRange {
            offset,
            len: U256::from(1),
        };
        self.clear(range);
        if def != CONST
            && let Some((start, _)) = range.bounds()
        {
            self.memory.insert(start, (def, 31));
        }
    }

    /// Where the logged bytes of the memory word at `offset` came from.
    pub(crate) fn word_sources(&self, offset: U256) -> Vec<ByteSource> {
        sources(&self.memory, word(offset))
    }

    /// Where the logged bytes of the calldata word at `offset` came from.
    pub(crate) fn calldata_word_sources(&self, offset: U256) -> Vec<ByteSource> {
        sources(&self.calldata, word(offset))
    }

    /// Where the logged bytes of memory `range` came from.
    pub(crate) fn data_sources(&self, range: MemoryRange) -> Vec<ByteSource> {
        sources(&self.memory, range)
    }

    /// The logged bytes of memory `range`, indexed from its start: a callee's calldata.
    pub(crate) fn taint_of(&self, range: MemoryRange) -> Taint {
        let Some((start, end)) = range.bounds() else {
            return Taint::new();
        };
        self.memory
            .range(start..end)
            .map(|(index, source)| (index - start, *source))
            .collect()
    }

    /// `CALLDATACOPY` of `len` calldata bytes from `offset` to memory at `dest` (cleared
    /// before).
    pub(crate) fn copy_calldata(&mut self, dest: U256, offset: U256, len: U256) {
        let copied = sources(&self.calldata, MemoryRange { offset, len });
        let Ok(dest) = usize::try_from(dest) else {
            return;
        };
        for byte in copied {
            let index = dest.saturating_add(byte.position as usize);
            self.memory.insert(index, (byte.def, byte.byte));
        }
    }
    /// The logged values some byte of `range` holds.
    pub(crate) fn defs_in(&self, range: MemoryRange, defs: &mut Vec<Def>) {
        if let Some((start, end)) = range.bounds() {
            defs.extend(self.memory.range(start..end).map(|(_, (def, _))| *def));
        }
    }

    /// Records that every byte of `range` now holds a constant.
    pub(crate) fn clear(&mut self, range: MemoryRange) {
        let Some((start, end)) = range.bounds() else {
            return;
        };
        if self.memory.range(start..end).next().is_none() {
            return;
        }
        let mut tail = self.memory.split_off(&start);
        let mut rest = tail.split_off(&end);
        self.memory.append(&mut rest);
        tail.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_word_is_found_byte_by_byte_until_overwritten() {
        let mut frame = ShadowFrame::default();
        frame.store_word(U256::from(64), 3);
        let sources = frame.word_sources(U256::from(80));
        assert_eq!(sources.len(), 16);
        assert_eq!(
            sources[0],
            ByteSource {
                position: 0,
                def: 3,
                byte: 16
            }
        );
        frame.store_byte(U256::from(95), 5);
        assert_eq!(frame.word_sources(U256::from(64))[31].def, 5);
        frame.store_word(U256::from(70), CONST);
        assert_eq!(frame.word_sources(U256::from(64)).len(), 6);
        frame.clear(MemoryRange {
            offset: U256::from(60),
            len: U256::from(100),
        });
        assert!(!frame.has_memory_values());
    }

    #[test]
    fn a_calls_arguments_become_the_callees_calldata() {
        let mut caller = ShadowFrame::new(Taint::new());
        // `transfer(to, amount)`: the amount, a logged value, at argument offset 36.
        caller.store_word(U256::from(128 + 36), 7);
        let args = MemoryRange {
            offset: U256::from(128),
            len: U256::from(68),
        };
        let mut callee = ShadowFrame::new(caller.taint_of(args));
        assert!(callee.has_calldata_values() && !callee.has_memory_values());
        let amount = callee.calldata_word_sources(U256::from(36));
        assert_eq!(amount.len(), 32);
        assert_eq!((amount[31].def, amount[31].byte), (7, 31));
        assert!(callee.calldata_word_sources(U256::from(4)).is_empty());
        callee.copy_calldata(U256::from(64), U256::from(36), U256::from(32));
        assert_eq!(callee.word_sources(U256::from(64)).len(), 32);
    }

    #[test]
    fn stack_operations_move_definitions() {
        let mut frame = ShadowFrame {
            stack: vec![1, 2, 3],
            ..ShadowFrame::default()
        };
        assert!(frame.dup(3));
        assert_eq!(frame.stack, [1, 2, 3, 1]);
        assert!(frame.swap(2));
        assert_eq!(frame.stack, [1, 1, 3, 2]);
        assert!(frame.top_is_logged(1));
        assert!(frame.drop_top(2));
        assert_eq!(frame.stack, [1, 1]);
        assert!(!frame.swap(2));
        assert!(!frame.drop_top(3));
    }
}
