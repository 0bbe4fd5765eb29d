//! Times `ghcr_parser_core::parse_package` natively, driven by the Ruby bench over a pipe so
//! its rounds interleave with the wasm-hosted contenders measured in the same run.
//!
//! Protocol (one request per stdin line, one answer per stdout line):
//!   `<iterations> <path>`  ->  `ok <total_downloads> <ns> <ns> ...` (one duration per call)
//!                          or  `reject <reason> <ns> ...`, or `error <message>`.
//! The file is read once per request, outside the timed region, as the Ruby side does.

use std::io::{self, BufRead, Write};
use std::time::Instant;

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let answer = match line.split_once(' ') {
            Some((count, path)) => match count.parse::<usize>() {
                Ok(iterations) => time_file(path, iterations),
                Err(_) => format!("error bad iteration count {count:?}"),
            },
            None => format!("error expected `<iterations> <path>`, got {line:?}"),
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}

fn time_file(path: &str, iterations: usize) -> String {
    let input = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => return format!("error {path}: {err}"),
    };
    let mut samples = Vec::with_capacity(iterations);
    let mut outcome = String::from("error no iterations");
    for _ in 0..iterations {
        let started = Instant::now();
        // black_box keeps the optimiser from hoisting the pure call out of the loop.
        let result = ghcr_parser_core::parse_package(std::hint::black_box(&input));
        let elapsed = started.elapsed().as_nanos();
        outcome = match std::hint::black_box(result) {
            Ok(stats) => format!("ok {}", stats.total_downloads),
            Err(reject) => format!("reject {}", reject.as_str()),
        };
        samples.push(elapsed.to_string());
    }
    format!("{outcome} {}", samples.join(" "))
}
