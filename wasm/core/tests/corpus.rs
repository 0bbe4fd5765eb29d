//! The project's corpus (spec/fixtures/ghcr, written by its generator), the hand-written extra
//! cases (spec/fixtures/ghcr-extra) and, when it is present, the acceptance set beside the
//! checkout (../shared/fixtures/ghcr or $GHCR_ACCEPTANCE_FIXTURES), each compared exactly with
//! its expected JSON.

use std::io::Write;
use std::path::{Path, PathBuf};

use ghcr_parser_core::json::{parse_to_json, PageKind};
use serde_json::Value;

/// The checkout's root: this crate lives in `wasm/core`. Read from the environment cargo sets when
/// it runs the test, not baked in at compile time: the build cache is shared between checkouts at
/// different paths, and a test binary built in one must read the fixtures of the one running it.
fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(&manifest)
        .to_path_buf()
}

fn acceptance_dir() -> PathBuf {
    match std::env::var_os("GHCR_ACCEPTANCE_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let root = root();
            root.parent().unwrap_or(&root).join("shared/fixtures/ghcr")
        }
    }
}

fn fixtures_dir(name: &str) -> PathBuf {
    root().join("spec/fixtures").join(name)
}

/// The entry point a case calls: `kind`, or `page` for rejects.
fn kind_of(expected: &Value) -> PageKind {
    let kind = expected["kind"].as_str().unwrap_or_default();
    let name = if kind == "error" {
        expected["page"].as_str().unwrap_or_default()
    } else {
        kind
    };
    PageKind::from_name(name).unwrap_or_else(|| panic!("unknown page kind in {expected}"))
}

/// Runs every case of a manifest; panics listing every mismatch (none is skipped: a missing
/// file is a failure).
fn check_manifest(dir: &Path) -> usize {
    let manifest = dir.join("expected.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let cases: serde_json::Map<String, Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad {}: {e}", manifest.display()));
    assert!(!cases.is_empty(), "{} lists no cases", manifest.display());
    let mut failures = Vec::new();
    for (file, expected) in &cases {
        let path = dir.join(file);
        let input = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                failures.push(format!("{file}: cannot read {}: {e}", path.display()));
                continue;
            }
        };
        let actual = match parse_to_json(kind_of(expected), &input) {
            Ok(value) | Err((_, value)) => value,
        };
        if &actual != expected {
            failures.push(format!(
                "{file}:\n  expected {expected}\n  actual   {actual}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn project_corpus_matches_expected_json() {
    let checked = check_manifest(&fixtures_dir("ghcr"));
    assert!(checked >= 39, "only {checked} cases in spec/fixtures/ghcr");
}

#[test]
fn extra_cases_match_expected_json() {
    let checked = check_manifest(&fixtures_dir("ghcr-extra"));
    assert!(checked >= 1);
}

/// Optional extra data: absent, it is reported in one line (written past the test harness's
/// capture, so it shows in a passing run) instead of failing.
#[test]
fn acceptance_set_matches_expected_json_when_present() {
    let dir = acceptance_dir();
    if !dir.join("expected.json").is_file() {
        let _ = writeln!(
            std::io::stderr(),
            "GHCR acceptance set not run: {} is absent (it is optional extra data)",
            dir.display()
        );
        return;
    }
    let checked = check_manifest(&dir);
    assert!(checked >= 1);
}
