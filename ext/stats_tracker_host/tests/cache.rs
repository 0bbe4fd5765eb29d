//! The compiled-artifact cache: what it writes it reads back, and nothing else is
//! handed to wasmtime's deserializer.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use common::Scratch;
use stats_tracker_host::cache::{self, CacheDir, Entry, Kind, Settings};
use wasmtime::Engine;

/// `cache::open` remembers one directory per process (and why it is off): tests that open
/// one take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn settings(dir: &Path) -> Settings {
    Settings {
        dir: dir.to_path_buf(),
        max_bytes: 1 << 30,
        trusted: None,
    }
}

fn open(dir: &Path) -> Option<Arc<CacheDir>> {
    cache::open(&settings(dir))
}

fn entry(dir: &Path, source: &[u8]) -> Entry {
    match Entry::locate(open(dir), &Engine::default(), Kind::Module, source) {
        Some(entry) => entry,
        None => panic!(
            "cache at {} is off: {:?}",
            dir.display(),
            cache::off_reason()
        ),
    }
}

fn entry_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|read| read.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn only_entry_file(dir: &Path) -> PathBuf {
    let files = entry_files(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn an_entry_is_read_back_as_written() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("roundtrip");
    let entry = entry(scratch.path(), b"source bytes");
    assert_eq!(entry.read(), None);
    entry.write(b"compiled code");
    assert_eq!(entry.read().as_deref(), Some(&b"compiled code"[..]));
    let name = only_entry_file(scratch.path());
    let name = name
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    assert!(name.starts_with("module-wasmtime"), "{name}");
    assert!(name.contains(cache::wasmtime_version()), "{name}");
    assert!(
        name.ends_with(&format!(
            "-{}.bin",
            cache::hex(&cache::sha256(b"source bytes"))
        )),
        "{name}"
    );
}

#[test]
fn other_sources_and_other_kinds_never_share_an_entry() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("keys");
    entry(scratch.path(), b"one").write(b"code of one");
    assert_eq!(entry(scratch.path(), b"two").read(), None);
    let component = Entry::locate(
        open(scratch.path()),
        &Engine::default(),
        Kind::Component,
        b"one",
    );
    assert_eq!(component.and_then(|e| e.read()), None);
}

#[test]
fn a_tampered_entry_is_refused_and_removed_so_it_is_rewritten() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("tampered");
    let entry = entry(scratch.path(), b"src");
    entry.write(b"compiled code");
    let file = only_entry_file(scratch.path());
    let mut bytes = std::fs::read(&file).unwrap_or_default();
    if let Some(last) = bytes.last_mut() {
        *last ^= 1;
    }
    assert!(std::fs::write(&file, &bytes).is_ok());
    assert_eq!(entry.read(), None);
    assert!(!file.exists());
}

#[test]
fn a_truncated_entry_is_refused() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("truncated");
    let entry = entry(scratch.path(), b"src");
    entry.write(b"compiled code");
    let file = only_entry_file(scratch.path());
    assert!(std::fs::write(&file, b"STWASM01").is_ok());
    assert_eq!(entry.read(), None);
}

#[test]
fn a_symlink_in_place_of_an_entry_is_not_followed() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("symlink");
    let elsewhere = Scratch::new("symlink-target");
    let entry = entry(scratch.path(), b"src");
    entry.write(b"compiled code");
    let file = only_entry_file(scratch.path());
    let moved = elsewhere.path().join("real.bin");
    assert!(std::fs::rename(&file, &moved).is_ok());
    assert!(std::os::unix::fs::symlink(&moved, &file).is_ok());
    assert_eq!(entry.read(), None);
}

#[test]
fn an_entry_others_may_write_is_refused() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("mode");
    let entry = entry(scratch.path(), b"src");
    entry.write(b"compiled code");
    let file = only_entry_file(scratch.path());
    assert!(std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).is_ok());
    assert_eq!(entry.read(), None);
}

#[test]
fn a_fifo_in_place_of_an_entry_is_refused_without_blocking() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("fifo");
    let entry = entry(scratch.path(), b"src");
    entry.write(b"compiled code");
    let file = only_entry_file(scratch.path());
    assert!(std::fs::remove_file(&file).is_ok());
    let path = std::ffi::CString::new(file.as_os_str().as_encoded_bytes().to_vec());
    // SAFETY: mkfifo only reads the NUL-terminated path it is given.
    let made = path.map(|p| unsafe { libc::mkfifo(p.as_ptr(), 0o600) });
    assert_eq!(made.ok(), Some(0));
    // A blocking open(2) would hang here: nobody ever writes to the FIFO.
    assert_eq!(entry.read(), None);
}

#[test]
fn a_directory_others_may_write_is_not_used_and_says_why() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("open-dir");
    let dir = scratch.path().join("modules");
    assert!(std::fs::create_dir(&dir).is_ok());
    assert!(std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).is_ok());
    assert!(open(&dir).is_none());
    let reason = cache::off_reason().unwrap_or_default();
    assert!(reason.contains("group or others may write"), "{reason}");
}

#[test]
fn a_symlinked_directory_is_not_used() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("dir-link");
    let real = scratch.path().join("real");
    let link = scratch.path().join("link");
    assert!(std::fs::create_dir(&real).is_ok());
    assert!(std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).is_ok());
    assert!(std::os::unix::fs::symlink(&real, &link).is_ok());
    assert!(open(&link).is_none());
    let reason = cache::off_reason().unwrap_or_default();
    assert!(reason.contains("symlink is refused"), "{reason}");
}

#[test]
fn a_missing_directory_is_created_private() {
    let _turn = one_at_a_time();
    let scratch = Scratch::new("create");
    let dir = scratch.path().join("a/b/modules");
    assert!(open(&dir).is_some());
    let mode = std::fs::metadata(&dir).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode.ok(), Some(0o700));
    assert_eq!(cache::off_reason(), None);
}
