//! Records the wasmtime version Cargo resolved (Cargo.lock is the one place it is
//! written down), for cache keys and StatsTracker.wasmtime_version.

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let lock = manifest_dir.join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock)
        .map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
    let version = text
        .split("[[package]]")
        .find_map(|package| {
            let mut lines = package.lines().map(str::trim);
            let name = lines.find(|l| l.starts_with("name = "))?;
            (name == "name = \"wasmtime\"").then_some(())?;
            let version = package
                .lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix("version = "))?;
            Some(version.trim_matches('"').to_owned())
        })
        .ok_or("no wasmtime package in Cargo.lock")?;
    println!("cargo:rustc-env=STATS_TRACKER_WASMTIME_VERSION={version}");
    Ok(())
}
