//! On-disk cache of compiled artifacts, so a second process skips Cranelift.
//!
//! `Module::deserialize` / `Component::deserialize` trust their input (they map it as
//! executable code), so nothing is handed to them unless:
//! * the cache directory was opened once, as a capability (a `cap_std::fs::Dir`), and is
//!   a real directory owned by this uid that nobody else may write into (checked on the
//!   open handle, so the path is never resolved again between the check and a use);
//! * it was reached from `/` one directory handle at a time, without following a
//!   symlink, and no directory on the way can be changed by another user: each belongs
//!   to root or to us, and one that group or others may write has the sticky bit (so
//!   they cannot rename or replace what is ours in it) or is the one directory
//!   STATS_TRACKER_CACHE_TRUSTED_DIR names (a Pod's emptyDir, shared only by that Pod's
//!   containers);
//! * the entry was opened relative to that handle without following a symlink, and is a
//!   regular file owned by us, not writable by others, and not larger than
//!   `MAX_ENTRY_BYTES` (all checked on the open file);
//! * the entry's name encodes the wasmtime version, the engine's compatibility hash and
//!   the SHA-256 of the source artifact, so a different engine or input never matches;
//! * the entry's header carries the SHA-256 of its payload and the payload matches it,
//!   so a truncated, corrupted or edited file is detected and recompiled.
//!
//! The checksum is unkeyed: it detects accidents, not an attacker. What keeps an
//! attacker out is that only our uid can write into the directory, and that a guest is
//! never given a preopen that is, contains or lies inside it (`overlaps`).
//!
//! Entries are written to a temporary file and renamed, so readers never see half a
//! file. After each write the directory is pruned: temporary files left by a crashed
//! writer are removed once stale, and the least recently used entries (a hit refreshes
//! an entry's mtime) go while the total is over the configured size.

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::per_process::PerProcess;
use std::time::{Duration, SystemTime};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, MetadataExt, OpenOptions, OpenOptionsExt};
use sha2::{Digest, Sha256};
use wasmtime::Engine;

const MAGIC: &[u8; 8] = b"STWASM01";
const HEADER_LEN: usize = MAGIC.len() + 32;
/// No compiled artifact we produce comes near this; a larger file is not read at all.
pub const MAX_ENTRY_BYTES: u64 = 256 * 1024 * 1024;
/// Default bound on the directory's total size (STATS_TRACKER_CACHE_MAX_BYTES).
const DEFAULT_MAX_CACHE_BYTES: u64 = 1024 * 1024 * 1024;
/// A temporary file older than this belongs to a writer that died.
const STALE_TMP: Duration = Duration::from_secs(10 * 60);
const TMP_PREFIX: &str = ".tmp-";
const ENTRY_SUFFIX: &str = ".bin";

/// Process-wide counters, exposed to Ruby as `StatsTracker::Native.cache_stats`
/// (how tests observe a cache hit without timing anything).
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub rejected: AtomicU64,
    pub writes: AtomicU64,
    pub write_errors: AtomicU64,
    pub pruned: AtomicU64,
}

pub static STATS: CacheStats = CacheStats {
    hits: AtomicU64::new(0),
    misses: AtomicU64::new(0),
    rejected: AtomicU64::new(0),
    writes: AtomicU64::new(0),
    write_errors: AtomicU64::new(0),
    pruned: AtomicU64::new(0),
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

/// Where the cache lives and how big it may grow, read from the environment. Read
/// while the GVL is held (Ruby's ENV[]= calls setenv, which may move the environment
/// under a concurrent getenv), then handed to the GVL-free side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub dir: PathBuf,
    pub max_bytes: u64,
    /// An ancestor that may be writable by group or others without a sticky bit.
    pub trusted: Option<PathBuf>,
}

impl Settings {
    /// Directory from STATS_TRACKER_CACHE_DIR, else $XDG_CACHE_HOME/stats_tracker/modules,
    /// else ~/.cache/stats_tracker/modules. None disables caching (no home at all).
    pub fn from_env() -> Option<Settings> {
        let var = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
        let dir = var("STATS_TRACKER_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                let base = var("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"))
                })?;
                Some(base.join("stats_tracker").join("modules"))
            })?;
        let max_bytes = var("STATS_TRACKER_CACHE_MAX_BYTES")
            .and_then(|v| v.to_str().and_then(|s| s.trim().parse::<u64>().ok()))
            .unwrap_or(DEFAULT_MAX_CACHE_BYTES);
        let trusted = var("STATS_TRACKER_CACHE_TRUSTED_DIR").map(PathBuf::from);
        Some(Settings {
            dir,
            max_bytes,
            trusted,
        })
    }
}

/// The cache directory, opened once per path and kept as a capability.
pub struct CacheDir {
    dir: Dir,
    settings: Settings,
}

/// The directory in use (or why there is none), remembered so every compile uses the
/// same handle and `StatsTracker::Native.cache_off_reason` can say why it is off.
enum Opened {
    On(Arc<CacheDir>),
    Off { settings: Settings, reason: String },
}

/// Per process: the lock is taken with the GVL released (while compiling), so another
/// thread may fork while it is held.
static OPENED: PerProcess<Mutex<Option<Opened>>> = PerProcess::new();

fn opened() -> &'static Mutex<Option<Opened>> {
    OPENED.get(|| Mutex::new(None))
}

/// The open cache directory for `settings`, opening (and creating) it on first use.
/// None when caching is off; the reason is kept for `off_reason`.
pub fn open(settings: &Settings) -> Option<Arc<CacheDir>> {
    let mut opened = opened().lock().unwrap_or_else(|p| p.into_inner());
    let same = match opened.as_ref() {
        Some(Opened::On(dir)) => dir.settings == *settings,
        Some(Opened::Off {
            settings: tried, ..
        }) => tried == settings,
        None => false,
    };
    if !same {
        *opened = Some(
            match open_private_dir(&settings.dir, settings.trusted.as_deref()) {
                Ok(dir) => Opened::On(Arc::new(CacheDir {
                    dir,
                    settings: settings.clone(),
                })),
                Err(reason) => Opened::Off {
                    settings: settings.clone(),
                    reason,
                },
            },
        );
    }
    match opened.as_ref() {
        Some(Opened::On(dir)) => Some(Arc::clone(dir)),
        _ => None,
    }
}

/// Why the last cache directory tried is not in use (None: in use, or not tried yet).
pub fn off_reason() -> Option<String> {
    match opened().lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        Some(Opened::Off { reason, .. }) => Some(reason.clone()),
        _ => None,
    }
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Creates `path` (0700, and any missing parents) if needed and opens it. Its last
/// component must not be a symlink. The directory is reached from `/` one handle at a
/// time without following symlinks (through the path with the symlinks before it
/// resolved), each ancestor checked on its handle by `ancestor_problem`, and the open
/// handle must be a directory owned by us that group and others cannot write: only our
/// uid can then put files into it, and nobody else can move it or swap it for another.
fn open_private_dir(path: &Path, trusted: Option<&Path>) -> Result<Dir, String> {
    let shown = path.display();
    if std::fs::symlink_metadata(path).is_err() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| format!("cannot create {shown}: {e}"))?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| format!("{shown} does not name a directory"))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = std::fs::canonicalize(parent)
        .map_err(|e| format!("cannot resolve {}: {e}", parent.display()))?;
    // Identified by device and inode, so another path to the same directory matches.
    let trusted = trusted.and_then(|t| {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(t).ok().map(|m| (m.dev(), m.ino()))
    });
    let mut here = PathBuf::from("/");
    let mut dir = Dir::open_ambient_dir(&here, ambient_authority())
        .map_err(|e| format!("cannot open /: {e}"))?;
    let mut steps: Vec<&std::ffi::OsStr> = parent
        .components()
        .filter_map(|c| match c {
            Component::Normal(step) => Some(step),
            _ => None,
        })
        .collect();
    steps.push(name);
    let last = steps.len() - 1;
    for (index, step) in steps.into_iter().enumerate() {
        let meta = dir
            .dir_metadata()
            .map_err(|e| format!("cannot stat {}: {e}", here.display()))?;
        let is_trusted = trusted == Some((meta.dev(), meta.ino()));
        if let Some(problem) = ancestor_problem(&here, meta.uid(), meta.mode(), is_trusted) {
            return Err(format!("{shown} is not used: {problem}"));
        }
        here.push(step);
        let file = dir
            .open_with(
                step,
                OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW),
            )
            .map_err(|e| {
                if index == last {
                    format!("cannot open {shown} as a directory (a symlink is refused): {e}")
                } else {
                    format!("cannot open {} on the way to {shown}: {e}", here.display())
                }
            })?;
        dir = Dir::from_std_file(file.into_std());
    }
    let meta = dir
        .dir_metadata()
        .map_err(|e| format!("cannot stat {shown}: {e}"))?;
    if !meta.is_dir() {
        return Err(format!("{shown} is not a directory"));
    }
    if meta.uid() != euid() {
        return Err(format!(
            "{shown} belongs to uid {}, not {}",
            meta.uid(),
            euid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{shown} has mode {:04o} (group or others may write)",
            meta.mode() & 0o7777
        ));
    }
    Ok(dir)
}

/// Why an ancestor of the cache directory lets another user move or replace it, if it
/// does: its owner is someone else (root aside), or group or others may write it and
/// neither a sticky bit nor the trust setting covers that.
fn ancestor_problem(path: &Path, uid: u32, mode: u32, trusted: bool) -> Option<String> {
    let shown = path.display();
    if uid != 0 && uid != euid() {
        return Some(format!(
            "its ancestor {shown} belongs to uid {uid}, who could move it"
        ));
    }
    let shared = mode & 0o022 != 0;
    let sticky = mode & 0o1000 != 0;
    if shared && !sticky && !trusted {
        return Some(format!(
            "its ancestor {shown} has mode {:04o}: group or others may write it and it has no \
             sticky bit, so they could move it or swap it for a directory of theirs \
             (STATS_TRACKER_CACHE_TRUSTED_DIR names one such directory to trust)",
            mode & 0o7777
        ));
    }
    None
}

/// True when `a` is, contains or lies inside `b`, once both are resolved as far as they
/// exist (symlinks and `..` included). A guest given such a preopen could plant cache
/// entries, which this process would then map as native code.
pub fn overlaps(a: &Path, b: &Path) -> bool {
    let (a, b) = (resolve(a), resolve(b));
    a.starts_with(&b) || b.starts_with(&a)
}

/// The canonical form of the longest existing prefix of `path`, with the rest appended
/// lexically (a cache directory need not exist yet).
fn resolve(path: &Path) -> PathBuf {
    let parts: Vec<Component> = path.components().collect();
    for existing in (1..=parts.len()).rev() {
        let prefix: PathBuf = parts[..existing].iter().collect();
        if let Ok(mut out) = std::fs::canonicalize(&prefix) {
            for part in &parts[existing..] {
                match part {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::Normal(name) => out.push(name),
                    _ => {}
                }
            }
            return out;
        }
    }
    path.to_path_buf()
}

pub struct Entry {
    dir: Arc<CacheDir>,
    name: String,
}

impl Entry {
    /// The cache slot for `source` compiled by `engine`, or None when caching is off.
    pub fn locate(
        dir: Option<Arc<CacheDir>>,
        engine: &Engine,
        kind: Kind,
        source: &[u8],
    ) -> Option<Entry> {
        let dir = dir?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let name = format!(
            "{}-wasmtime{}-{:016x}-{}{ENTRY_SUFFIX}",
            kind.tag(),
            wasmtime_version(),
            hasher.finish(),
            hex(&sha256(source))
        );
        Some(Entry { dir, name })
    }

    /// The verified payload, or None (counted as a miss, or as rejected when a file was
    /// there but failed a check; a rejected file is removed so it is rewritten).
    pub fn read(&self) -> Option<Vec<u8>> {
        match read_checked(&self.dir.dir, &self.name) {
            Lookup::Missing => {
                STATS.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            Lookup::Payload(payload) => {
                STATS.hits.fetch_add(1, Ordering::Relaxed);
                Some(payload)
            }
            Lookup::Rejected => {
                STATS.rejected.fetch_add(1, Ordering::Relaxed);
                let _ = self.dir.dir.remove_file(&self.name);
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
        let pruned = prune(
            &self.dir.dir,
            self.dir.settings.max_bytes,
            &self.name,
            SystemTime::now(),
        );
        STATS.pruned.fetch_add(pruned, Ordering::Relaxed);
    }

    fn try_write(&self, payload: &[u8]) -> std::io::Result<()> {
        let dir = &self.dir.dir;
        let tmp = format!(
            "{TMP_PREFIX}{}-{:?}-{}",
            std::process::id(),
            std::thread::current().id(),
            self.name
        );
        let result = (|| {
            let mut file = dir.open_with(
                &tmp,
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW),
            )?;
            file.write_all(MAGIC)?;
            file.write_all(&sha256(payload))?;
            file.write_all(payload)?;
            file.sync_all()?;
            dir.rename(&tmp, dir, &self.name)
        })();
        if result.is_err() {
            let _ = dir.remove_file(&tmp);
        }
        result
    }
}

enum Lookup {
    Missing,
    Payload(Vec<u8>),
    Rejected,
}

/// Opens `name` inside `dir` without following a symlink and without blocking (a FIFO
/// planted under an entry's name must not hang the process), then checks the open file.
fn read_checked(dir: &Dir, name: &str) -> Lookup {
    let opened = dir.open_with(
        name,
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK),
    );
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Missing,
        // A symlink (ELOOP) or anything else that is there but cannot be opened as asked.
        Err(_) => return Lookup::Rejected,
    };
    let Ok(meta) = file.metadata() else {
        return Lookup::Rejected;
    };
    let trusted = meta.is_file()
        && meta.uid() == euid()
        && meta.mode() & 0o022 == 0
        && meta.len() <= MAX_ENTRY_BYTES;
    if !trusted {
        return Lookup::Rejected;
    }
    let mut file = file.into_std();
    let mut data = Vec::new();
    if (&mut file)
        .take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut data)
        .is_err()
    {
        return Lookup::Rejected;
    }
    match verified_payload(&data) {
        Some(payload) => {
            // Pruning removes the least recently modified first: a hit counts as a use.
            let _ = file.set_modified(SystemTime::now());
            Lookup::Payload(payload.to_vec())
        }
        None => Lookup::Rejected,
    }
}

fn verified_payload(data: &[u8]) -> Option<&[u8]> {
    if data.len() as u64 > MAX_ENTRY_BYTES {
        return None;
    }
    let magic = data.get(..MAGIC.len())?;
    let checksum = data.get(MAGIC.len()..HEADER_LEN)?;
    let payload = data.get(HEADER_LEN..)?;
    (magic == MAGIC && checksum == sha256(payload)).then_some(payload)
}

/// One file of the cache directory, as pruning sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    name: String,
    len: u64,
    modified: SystemTime,
}

/// Removes stale temporary files, then the oldest entries while the entries' total is
/// over `max_bytes`, never `keep` (the entry just written). Only names this cache
/// writes are touched. Returns how many files were removed.
fn prune(dir: &Dir, max_bytes: u64, keep: &str, now: SystemTime) -> u64 {
    let Ok(read) = dir.entries() else { return 0 };
    let listed: Vec<Listed> = read
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            // The entry itself, not what a symlink points at.
            let meta = entry.metadata().ok()?;
            Some(Listed {
                name,
                len: meta.len(),
                modified: meta.modified().ok()?.into_std(),
            })
        })
        .collect();
    let mut removed = 0;
    for name in doomed(&listed, max_bytes, keep, now) {
        if dir.remove_file(&name).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Which of `listed` pruning removes (pure, so it is unit-tested).
fn doomed(listed: &[Listed], max_bytes: u64, keep: &str, now: SystemTime) -> Vec<String> {
    let is_entry = |name: &str| {
        (name.starts_with("module-") || name.starts_with("component-"))
            && name.ends_with(ENTRY_SUFFIX)
    };
    let mut out: Vec<String> = listed
        .iter()
        .filter(|f| f.name.starts_with(TMP_PREFIX))
        .filter(|f| now.duration_since(f.modified).unwrap_or_default() > STALE_TMP)
        .map(|f| f.name.clone())
        .collect();
    let mut entries: Vec<&Listed> = listed.iter().filter(|f| is_entry(&f.name)).collect();
    let mut total: u64 = entries.iter().map(|f| f.len).sum();
    entries.sort_by_key(|f| f.modified);
    for entry in entries {
        if total <= max_bytes {
            break;
        }
        if entry.name != keep {
            total = total.saturating_sub(entry.len);
            out.push(entry.name.clone());
        }
    }
    out
}

/// The wasmtime this extension was built with, as Cargo.lock resolved it (build.rs):
/// the cache key and StatsTracker.wasmtime_version cannot disagree with the build.
pub fn wasmtime_version() -> &'static str {
    env!("STATS_TRACKER_WASMTIME_VERSION")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str, len: u64, age_secs: u64, now: SystemTime) -> Listed {
        Listed {
            name: name.into(),
            len,
            modified: now - Duration::from_secs(age_secs),
        }
    }

    #[test]
    fn pruning_removes_stale_temporaries_and_the_oldest_entries_over_the_bound() {
        let now = SystemTime::now();
        let files = [
            listed(".tmp-1-ThreadId(2)-module-x.bin", 10, 3600, now),
            listed(".tmp-9-ThreadId(2)-module-y.bin", 10, 5, now),
            listed("module-old.bin", 400, 300, now),
            listed("component-mid.bin", 400, 200, now),
            listed("module-new.bin", 400, 100, now),
            listed("notes.txt", 10_000, 9_000, now),
        ];
        let doomed = doomed(&files, 900, "module-new.bin", now);
        assert_eq!(
            doomed,
            vec![
                ".tmp-1-ThreadId(2)-module-x.bin".to_string(),
                "module-old.bin".to_string()
            ]
        );
    }

    #[test]
    fn pruning_never_removes_the_entry_just_written() {
        let now = SystemTime::now();
        let files = [listed("module-only.bin", 5_000, 9_000, now)];
        assert!(doomed(&files, 10, "module-only.bin", now).is_empty());
    }

    #[test]
    fn a_payload_is_verified_by_its_checksum() {
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&sha256(b"code"));
        data.extend_from_slice(b"code");
        assert_eq!(verified_payload(&data), Some(&b"code"[..]));
        let last = data.len() - 1;
        data[last] ^= 1;
        assert_eq!(verified_payload(&data), None);
    }

    #[test]
    fn an_ancestor_others_may_write_needs_a_sticky_bit_or_trust() {
        let tmp = Path::new("/tmp");
        assert_eq!(ancestor_problem(tmp, 0, 0o41777, false), None);
        assert_eq!(ancestor_problem(tmp, 0, 0o40755, false), None);
        assert_eq!(ancestor_problem(tmp, euid(), 0o40700, false), None);
        assert_eq!(ancestor_problem(tmp, 0, 0o42777, true), None);
        let open = ancestor_problem(tmp, 0, 0o40777, false).unwrap_or_default();
        assert!(open.contains("/tmp has mode 0777"), "{open}");
        let group = ancestor_problem(tmp, 0, 0o42775, false).unwrap_or_default();
        assert!(group.contains("2775"), "{group}");
        let stranger = if euid() == 4242 { 4243 } else { 4242 };
        let owned = ancestor_problem(tmp, stranger, 0o40755, true).unwrap_or_default();
        assert!(owned.contains("belongs to uid"), "{owned}");
    }

    #[test]
    fn overlap_is_containment_either_way_after_resolving_links() {
        let root = std::env::temp_dir().join(format!("st-overlap-{}", std::process::id()));
        let cache = root.join("home/.cache/stats_tracker/modules");
        assert!(std::fs::create_dir_all(&cache).is_ok());
        let home = root.join("home");
        assert!(overlaps(&home, &cache));
        assert!(overlaps(&cache.join("sub"), &cache));
        assert!(overlaps(&cache, &cache));
        assert!(!overlaps(&root.join("elsewhere"), &cache));
        let link = root.join("link-to-home");
        assert!(std::os::unix::fs::symlink(&home, &link).is_ok());
        assert!(overlaps(&link, &cache));
        assert!(overlaps(&home.join("x/../.cache"), &cache));
        let _ = std::fs::remove_dir_all(&root);
    }
}
