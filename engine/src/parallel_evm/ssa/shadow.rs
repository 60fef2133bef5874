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

/// The stack and memory of one frame, mirrored: each stack item is the [`Def`] of its value,
/// each memory byte a logged value stored is where that byte came from.
#[derive(Debug, Default)]
pub(crate) struct ShadowFrame {
    pub(crate) stack: Vec<Def>,
    /// Only the bytes holding a logged value; every other byte is constant.
    memory: BTreeMap<usize, (Def, u8)>,
}

impl ShadowFrame {
    /// A frame with room for the stack a contract call usually reaches.
    pub(crate) fn new() -> Self {
        Self {
            stack: Vec::with_capacity(32),
            memory: BTreeMap::new(),
        }
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
        let range = MemoryRange {
            offset,
            len: U256::from(32),
        };
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

    /// Where the logged bytes of the word at `offset` came from.
    pub(crate) fn word_sources(&self, offset: U256) -> Vec<ByteSource> {
        let Some((start, end)) = (MemoryRange {
            offset,
            len: U256::from(32),
        })
        .bounds() else {
            return Vec::new();
        };
        self.memory
            .range(start..end)
            .map(|(index, (def, byte))| ByteSource {
                position: u8::try_from(index - start).unwrap_or(31),
                def: *def,
                byte: *byte,
            })
            .collect()
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
