//! altius-settlement
