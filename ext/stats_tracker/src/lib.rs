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
mod per_process;
mod released;
mod reloadable;
mod ruby_api;
mod slots;
mod wasi_command;

use magnus::{Error, Ruby};

#[magnus::init]
fn init(ruby: &Ruby) -> Result<(), Error> {
    per_process::watch_forks().map_err(|m| Error::new(ruby.exception_load_error(), m))?;
    ruby_api::define(ruby)
}
