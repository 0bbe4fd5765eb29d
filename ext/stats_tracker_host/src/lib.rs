//! The host side of stats_tracker, without Ruby: the one wasmtime engine, the verified
//! compiled-artifact cache, and guest calls under a deadline, a memory cap, capped output
//! and a write quota. The Ruby extension (ext/stats_tracker) is a thin magnus layer over
//! this crate; keeping Ruby out is what lets `cargo test` run these modules' unit tests.

pub mod cache;
pub mod call;
pub mod compile;
pub mod engine;
pub mod errors;
pub mod executor;
pub mod fs_guard;
pub mod limits;
pub mod output;
pub mod parser;
pub mod per_process;
pub mod reloadable;
pub mod slots;
pub mod wasi_command;
