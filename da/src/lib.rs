//! altius-da
