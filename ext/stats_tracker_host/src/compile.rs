//! Turning artifact bytes into compiled code: from the verified disk cache when
//! possible, else with Cranelift (and then written back to the cache).

use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::cache::{self, Entry, Kind, Settings};
use crate::errors::HostError;

/// The largest artifact compiled. Cranelift's time and memory grow with the input and
/// cannot be interrupted, so an untrusted module is refused before compiling starts.
/// The bundled parser component is a small fraction of this.
pub const MAX_ARTIFACT_BYTES: usize = 64 * 1024 * 1024;

fn check_size(bytes: &[u8]) -> Result<(), HostError> {
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(HostError::ResourceLimit(format!(
            "artifact is {} bytes; at most {MAX_ARTIFACT_BYTES} bytes are compiled",
            bytes.len()
        )));
    }
    Ok(())
}

fn entry(settings: Option<&Settings>, engine: &Engine, kind: Kind, bytes: &[u8]) -> Option<Entry> {
    Entry::locate(settings.and_then(cache::open), engine, kind, bytes)
}

pub fn module(
    engine: &Engine,
    bytes: &[u8],
    settings: Option<&Settings>,
) -> Result<Module, HostError> {
    check_size(bytes)?;
    let entry = entry(settings, engine, Kind::Module, bytes);
    if let Some(payload) = entry.as_ref().and_then(Entry::read) {
        // SAFETY: deserializing maps `payload` as native code, so it must be what this
        // library serialized. It was read through the cache directory's handle (a
        // directory owned by our uid that nobody else may write, reached through
        // directories no other user can change, never re-resolved by path), from a regular file owned by us that was opened without following a
        // symlink, and it matches the SHA-256 recorded when it was written. That rules out
        // other users and accidental corruption, not code running as our own uid (which
        // could write the directory anyway); no guest is given a preopen overlapping the
        // directory. The name carries the engine's compatibility hash, and wasmtime checks
        // its own header and version again before mapping.
        if let Ok(module) = unsafe { Module::deserialize(engine, &payload) } {
            return Ok(module);
        }
    }
    let module = Module::new(engine, bytes).map_err(|e| HostError::Compile(format!("{e:#}")))?;
    if let (Some(entry), Ok(serialized)) = (entry, module.serialize()) {
        entry.write(&serialized);
    }
    Ok(module)
}

pub fn component(
    engine: &Engine,
    bytes: &[u8],
    settings: Option<&Settings>,
) -> Result<Component, HostError> {
    check_size(bytes)?;
    let entry = entry(settings, engine, Kind::Component, bytes);
    if let Some(payload) = entry.as_ref().and_then(Entry::read) {
        // SAFETY: as for modules above: bytes read through the private directory's handle
        // from a regular file of ours, not via a symlink, verified by checksum, keyed by
        // the engine's compatibility hash.
        if let Ok(component) = unsafe { Component::deserialize(engine, &payload) } {
            return Ok(component);
        }
    }
    let component =
        Component::new(engine, bytes).map_err(|e| HostError::Compile(format!("{e:#}")))?;
    if let (Some(entry), Ok(serialized)) = (entry, component.serialize()) {
        entry.write(&serialized);
    }
    Ok(component)
}
