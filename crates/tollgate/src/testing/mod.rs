//! Helpers for `cargo test`: the tests tollgate asks of its users, written in Rust.
//!
//! - [`frames`]: `assert_frames_eq!` over record batches or files, with tolerances, order
//!   ignored, columns selected or ignored; failures show the differing rows.
//! - [`strategy`]: a proptest strategy for record batches that satisfy a suite.
//! - [`roundtrip`]: write in one format, read back with tollgate's readers, compare values and
//!   types.

pub mod frames;
pub mod roundtrip;
pub mod strategy;
