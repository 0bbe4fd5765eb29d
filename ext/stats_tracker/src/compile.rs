//! Turning artifact bytes into compiled code: from the verified disk cache when
//! possible, else with Cranelift (and then written back to the cache).

use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::cache::{Entry, Kind};
use crate::errors::HostError;

pub fn module(engine: &Engine, bytes: &[u8]) -> Result<Module, HostError> {
    let entry = Entry::locate(engine, Kind::Module, bytes);
    if let Some(payload) = entry.as_ref().and_then(Entry::read) {
        // SAFETY: `payload` is bytes this library serialized from a module compiled by an
        // engine with the same compatibility hash (it is in the file name), read from a
        // private 0700 directory and matching the SHA-256 recorded when it was written.
        // wasmtime additionally checks its own header/version before mapping it.
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

pub fn component(engine: &Engine, bytes: &[u8]) -> Result<Component, HostError> {
    let entry = Entry::locate(engine, Kind::Component, bytes);
    if let Some(payload) = entry.as_ref().and_then(Entry::read) {
        // SAFETY: as for modules above: our own serialized output, verified by checksum,
        // keyed by engine compatibility hash, from a private directory.
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
