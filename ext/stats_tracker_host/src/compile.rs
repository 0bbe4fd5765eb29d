//! Turning artifact bytes into compiled code: from the verified disk cache when
//! possible, else with Cranelift (and then written back to the cache).

use anyhow::Context as _;
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use crate::cache::{self, Entry, Kind, Settings};
use crate::errors::HostError;

/// The largest artifact compiled. Cranelift's time and memory grow with the input and
/// cannot be interrupted, so an untrusted module is refused before compiling starts.
/// The bundled parser component is a small fraction of this.
pub const MAX_ARTIFACT_BYTES: usize = 64 * 1024 * 1024;

/// A kind of compiled wasm the cache can hold: a core module or a component.
pub trait Artifact: Sized {
    const KIND: Kind;

    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;

    /// # Safety
    /// `bytes` must be what `serialize` produced with a compatible engine: wasmtime maps
    /// them as native code (see `Module::deserialize`).
    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;

    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
}

impl Artifact for Module {
    const KIND: Kind = Kind::Module;

    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Module::new(engine, bytes)
    }

    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller guarantees what this trait method's contract asks, which is
        // Module::deserialize's own.
        unsafe { Module::deserialize(engine, bytes) }
    }

    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Module::serialize(self)
    }
}

impl Artifact for Component {
    const KIND: Kind = Kind::Component;

    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Component::new(engine, bytes)
    }

    unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        // SAFETY: the caller guarantees what this trait method's contract asks, which is
        // Component::deserialize's own.
        unsafe { Component::deserialize(engine, bytes) }
    }

    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Component::serialize(self)
    }
}

fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Module => "module",
        Kind::Component => "component",
    }
}

fn check_size(bytes: &[u8]) -> Result<(), HostError> {
    if bytes.len() > MAX_ARTIFACT_BYTES {
        return Err(HostError::ResourceLimit(format!(
            "artifact is {} bytes; at most {MAX_ARTIFACT_BYTES} bytes are compiled",
            bytes.len()
        )));
    }
    Ok(())
}

/// A module or component for `bytes`, from the cache when a verified entry is there.
pub fn load<A: Artifact>(
    engine: &Engine,
    bytes: &[u8],
    settings: Option<&Settings>,
) -> Result<A, HostError> {
    check_size(bytes)?;
    let entry = Entry::locate(settings.and_then(cache::open), engine, A::KIND, bytes);
    if let Some(payload) = entry.as_ref().and_then(Entry::read) {
        // SAFETY: deserializing maps `payload` as native code, so it must be what this
        // library serialized. It was read through the cache directory's handle (a
        // directory owned by our uid that nobody else may write, reached through
        // directories no other user can change, never re-resolved by path), from a
        // regular file owned by us that was opened without following a symlink, and it
        // matches the SHA-256 recorded when it was written. That rules out
        // other users and accidental corruption, not code running as our own uid (which
        // could write the directory anyway); no guest is given a preopen overlapping the
        // directory. The name carries the artifact kind and the engine's compatibility
        // hash, and wasmtime checks its own header and version again before mapping.
        if let Ok(artifact) = unsafe { A::deserialize(engine, &payload) } {
            return Ok(artifact);
        }
    }
    let artifact = A::compile(engine, bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile the {}", noun(A::KIND)))
        .map_err(|e| HostError::Compile(format!("{e:#}")))?;
    if let (Some(entry), Ok(serialized)) = (entry, artifact.serialize()) {
        entry.write(&serialized);
    }
    Ok(artifact)
}
