//! stats_tracker's native extension: wasmtime embedded behind a small typed Ruby API.
//! One file per concern; see ruby_api.rs for what Ruby sees.

mod cache;
mod call;
mod compile;
mod engine;
mod errors;
mod executor;
mod fs_guard;
mod gc_pressure;
mod gvl;
mod limits;
mod output;
mod parser;
mod released;
mod ruby_api;
mod slots;
mod wasi_command;

use magnus::{Error, Ruby};

#[magnus::init]
fn init(ruby: &Ruby) -> Result<(), Error> {
    ruby_api::define(ruby)
}
