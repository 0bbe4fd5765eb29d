//! Native parse time per corpus page: `cargo run --release -p ghcr-parser-core --example
//! parse_timing [-- RUNS [DIR]]`. Prints one line per page (median and minimum of RUNS parses,
//! size, throughput) and a summary; the benchmark compares these with the wasm build.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ghcr_parser_core::json::{parse_to_json, PageKind};

fn kind_of(expected: &serde_json::Value) -> Option<PageKind> {
    let kind = expected.get("kind")?.as_str()?;
    let name = if kind == "error" {
        expected.get("page")?.as_str()?
    } else {
        kind
    };
    PageKind::from_name(name)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(Ok(200), |s| s.parse())?;
    let dir = args.next().map_or_else(
        || {
            std::env::var_os("GHCR_FIXTURES").map_or_else(
                || {
                    // Runtime, not compile time: the build cache is shared between checkouts.
                    std::env::var_os("CARGO_MANIFEST_DIR")
                        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
                        .join("../../spec/fixtures/ghcr")
                },
                PathBuf::from,
            )
        },
        PathBuf::from,
    );
    let manifest: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json"))?)?;

    println!(
        "{:<40} {:>9} {:>8} {:>11} {:>11} {:>9}",
        "page", "kind", "bytes", "median_us", "min_us", "MB/s"
    );
    let mut package_medians = Vec::new();
    for (file, expected) in &manifest {
        let Some(kind) = kind_of(expected) else {
            continue;
        };
        let input = std::fs::read(dir.join(file))?;
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let result = parse_to_json(kind, std::hint::black_box(&input));
            samples.push(start.elapsed());
            std::hint::black_box(result.is_ok());
        }
        let min = samples.iter().min().copied().unwrap_or_default();
        let med = median(&mut samples);
        let mbps = input.len() as f64 / med.as_secs_f64().max(1e-9) / 1e6;
        println!(
            "{:<40} {:>9} {:>8} {:>11.1} {:>11.1} {:>9.0}",
            file,
            kind.as_str(),
            input.len(),
            med.as_secs_f64() * 1e6,
            min.as_secs_f64() * 1e6,
            mbps
        );
        if file.starts_with("package-") {
            package_medians.push(med);
        }
    }
    let overall = median(&mut package_medians);
    println!(
        "median over package-*.html pages: {:.1} us ({} runs each)",
        overall.as_secs_f64() * 1e6,
        runs
    );
    Ok(())
}
