//! Tests of the Block-STM core, with a key-value program VM instead of the EVM.

mod differential;
mod kv;
mod mv_memory;
mod scheduler;
mod throughput;
