//! stats_tracker's native extension: wasmtime embedded behind a small typed Ruby API.
//! A thin magnus layer over stats_tracker_host; see ruby_api.rs for what Ruby sees.

mod errors;
mod gc_pressure;
mod gvl;
mod released;
mod ruby_api;

// The host logic lives in a crate without Ruby (so it has `cargo test`); these are the
// parts the bindings call.
use stats_tracker_host::{
    cache, call, compile, engine, executor, parser, per_process, reloadable, wasi_command,
};

use magnus::{Error, Ruby};

#[magnus::init]
fn init(ruby: &Ruby) -> Result<(), Error> {
    errors::check_classes(ruby)?;
    per_process::watch_forks().map_err(|m| Error::new(ruby.exception_load_error(), m))?;
    ruby_api::define(ruby)
}
