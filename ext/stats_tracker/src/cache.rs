//! On-disk cache of compiled artifacts, so a second process skips Cranelift.
//!
//! `Module::deserialize` / `Component::deserialize` trust their input (they map it as
//! executable code), so nothing is handed to them unless:
//! * the cache directory is ours: owned by this uid, mode 0700 (created that way);
//! * the entry's name encodes the wasmtime version, the engine's compatibility hash and
//!   the SHA-256 of the source artifact, so a different engine or input never matches;
//! * the entry's header carries the SHA-256 of its payload and the payload matches it,
//!   so a truncated, corrupted or edited file is detected and recompiled.
//!
//! Entries are written to a temporary file and renamed, so readers never see half a file.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;

const MAGIC: &[u8; 8] = b"STWASM01";
const HEADER_LEN: usize = MAGIC.len() + 32;

/// Process-wide counters, exposed to Ruby as `StatsTracker::Native.cache_stats`
/// (how tests observe a cache hit without timing anything).
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub rejected: AtomicU64,
    pub writes: AtomicU64,
    pub write_errors: AtomicU64,
}

pub static STATS: CacheStats = CacheStats {
    hits: AtomicU64::new(0),
    misses: AtomicU64::new(0),
    rejected: AtomicU64::new(0),
    writes: AtomicU64::new(0),
    write_errors: AtomicU64::new(0),
};

/// What kind of artifact an entry holds; part of the key so a module and a component
/// with equal bytes (impossible today, cheap to rule out) never collide.
#[derive(Clone, Copy)]
pub enum Kind {
    Module,
    Component,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Module => "module",
            Kind::Component => "component",
        }
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_slice());
    out
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Directory from STATS_TRACKER_CACHE_DIR, else $XDG_CACHE_HOME/stats_tracker/modules,
/// else ~/.cache/stats_tracker/modules. None disables caching (no home at all).
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("STATS_TRACKER_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("stats_tracker").join("modules"))
}

pub struct Entry {
    path: PathBuf,
}

impl Entry {
    /// The cache slot for `source` compiled by `engine`, or None when there is no usable
    /// cache directory (missing and not creatable, or not private to us).
    pub fn locate(engine: &Engine, kind: Kind, source: &[u8]) -> Option<Entry> {
        let dir = cache_dir()?;
        ensure_private_dir(&dir)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let name = format!(
            "{}-wasmtime{}-{:016x}-{}.bin",
            kind.tag(),
            wasmtime_version(),
            hasher.finish(),
            hex(&sha256(source))
        );
        Some(Entry {
            path: dir.join(name),
        })
    }

    /// The verified payload, or None (counted as a miss, or as rejected when a file was
    /// there but failed verification; a rejected file is removed so it is rewritten).
    pub fn read(&self) -> Option<Vec<u8>> {
        let data = match fs::read(&self.path) {
            Ok(data) => data,
            Err(_) => {
                STATS.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        match verified_payload(&data) {
            Some(payload) => {
                STATS.hits.fetch_add(1, Ordering::Relaxed);
                Some(payload.to_vec())
            }
            None => {
                STATS.rejected.fetch_add(1, Ordering::Relaxed);
                let _ = fs::remove_file(&self.path);
                None
            }
        }
    }

    /// Best effort: a failed write only costs the next process a compile.
    pub fn write(&self, payload: &[u8]) {
        match self.try_write(payload) {
            Ok(()) => STATS.writes.fetch_add(1, Ordering::Relaxed),
            Err(_) => STATS.write_errors.fetch_add(1, Ordering::Relaxed),
        };
    }

    fn try_write(&self, payload: &[u8]) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let tmp = dir.join(format!(
            ".tmp-{}-{:?}-{}",
            std::process::id(),
            std::thread::current().id(),
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let result = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&sha256(payload))?;
            file.write_all(payload)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

fn verified_payload(data: &[u8]) -> Option<&[u8]> {
    let magic = data.get(..MAGIC.len())?;
    let checksum = data.get(MAGIC.len()..HEADER_LEN)?;
    let payload = data.get(HEADER_LEN..)?;
    (magic == MAGIC && checksum == sha256(payload)).then_some(payload)
}

/// Creates the directory 0700 if missing; accepts it only if it is a real directory
/// owned by us that nobody else can write into (otherwise someone else could plant
/// an entry whose checksum matches).
fn ensure_private_dir(dir: &Path) -> Option<()> {
    if fs::symlink_metadata(dir).is_err() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .ok()?;
    }
    let meta = fs::symlink_metadata(dir).ok()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc_geteuid() };
    let private = meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o022 == 0;
    private.then_some(())
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// The wasmtime this extension was built with, as Cargo.lock resolved it (build.rs):
/// the cache key and StatsTracker.wasmtime_version cannot disagree with the build.
pub fn wasmtime_version() -> &'static str {
    env!("STATS_TRACKER_WASMTIME_VERSION")
}
