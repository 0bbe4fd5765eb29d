//! `ghcr_parser_command [--kind package|versions|listing] [PATH]`: a WASI p1 command that reads
//! one page (from PATH inside a preopened directory, or stdin for no PATH or `-`) and prints one
//! JSON object in the shape of the corpus's expected.json (spec/fixtures/ghcr). Exit codes: README.md.

use std::io::{Read, Write};
use std::process::ExitCode;

use ghcr_parser_core::json::{parse_to_json, PageKind};
use ghcr_parser_core::{Reject, MAX_INPUT_BYTES};

const USAGE: &str = "usage: ghcr_parser_command [--kind package|versions|listing] [PATH|-]\n";
const EXIT_USAGE: u8 = 2;
const EXIT_IO: u8 = 3;

/// The first reject exit code; each reason adds its place in the check order (`Reject::ALL`,
/// which a core test keeps equal to the WIT enum), as the table in README.md lists.
const EXIT_REJECT_BASE: u8 = 10;

fn exit_code(reason: Reject) -> u8 {
    let place = Reject::ALL.iter().position(|r| *r == reason).unwrap_or(0);
    EXIT_REJECT_BASE.saturating_add(u8::try_from(place).unwrap_or(u8::MAX))
}

struct Args {
    kind: PageKind,
    path: Option<String>,
}

enum Parsed {
    Run(Args),
    Help,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut kind = PageKind::Package;
    let mut path = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--kind" => {
                let value = args.next().ok_or("--kind needs a value")?;
                kind = PageKind::from_name(&value).ok_or(format!("unknown kind {value:?}"))?;
            }
            _ if arg.starts_with("--kind=") => {
                let value = arg.trim_start_matches("--kind=");
                kind = PageKind::from_name(value).ok_or(format!("unknown kind {value:?}"))?;
            }
            _ if arg.starts_with('-') && arg != "-" => return Err(format!("unknown option {arg}")),
            _ if path.is_some() => return Err("more than one PATH".to_owned()),
            _ => path = Some(arg),
        }
    }
    Ok(Parsed::Run(Args { kind, path }))
}

/// Reads at most one byte more than the parser accepts: enough to answer `too_large` without
/// holding an arbitrarily large input in the sandbox's memory.
fn read_input(path: Option<&str>) -> std::io::Result<Vec<u8>> {
    let limit = (MAX_INPUT_BYTES as u64).saturating_add(1);
    let mut input = Vec::new();
    match path {
        None | Some("-") => {
            std::io::stdin()
                .lock()
                .take(limit)
                .read_to_end(&mut input)?;
        }
        Some(path) => {
            std::fs::File::open(path)?
                .take(limit)
                .read_to_end(&mut input)?;
        }
    }
    Ok(input)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprint!("ghcr_parser_command: {message}\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let input = match read_input(args.path.as_deref()) {
        Ok(input) => input,
        Err(e) => {
            let source = args.path.as_deref().unwrap_or("stdin");
            eprintln!("ghcr_parser_command: cannot read {source}: {e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    let (value, code) = match parse_to_json(args.kind, &input) {
        Ok(value) => (value, 0),
        Err((reason, value)) => (value, exit_code(reason)),
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{value}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(EXIT_IO);
    }
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Parsed, String> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn exit_codes_count_up_from_the_base_in_check_order() {
        let codes: Vec<u8> = Reject::ALL.into_iter().map(exit_code).collect();
        let want: Vec<u8> = (0..codes.len())
            .map(|i| EXIT_REJECT_BASE + u8::try_from(i).unwrap_or(u8::MAX))
            .collect();
        assert_eq!(codes, want);
        assert!(codes.iter().all(|c| *c > EXIT_IO && *c < 126));
    }

    #[test]
    fn arguments() {
        assert!(matches!(
            args(&[]),
            Ok(Parsed::Run(Args {
                kind: PageKind::Package,
                path: None
            }))
        ));
        match args(&["--kind", "listing", "page.html"]) {
            Ok(Parsed::Run(a)) => {
                assert_eq!(a.kind, PageKind::Listing);
                assert_eq!(a.path.as_deref(), Some("page.html"));
            }
            _ => panic!("should parse"),
        }
        assert!(matches!(
            args(&["--kind=versions", "-"]),
            Ok(Parsed::Run(Args {
                kind: PageKind::Versions,
                ..
            }))
        ));
        assert!(args(&["--kind", "nope"]).is_err());
        assert!(args(&["--kind"]).is_err());
        assert!(args(&["a", "b"]).is_err());
        assert!(args(&["--verbose"]).is_err());
        assert!(matches!(args(&["--help"]), Ok(Parsed::Help)));
    }
}
