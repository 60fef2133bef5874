//! altius-batcher
