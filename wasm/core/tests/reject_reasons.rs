//! The WIT enum `reject-reason` is the one list of reasons; the core's `Reject` must name the
//! same reasons in the same order (the command's exit codes and the documented check order
//! follow that order).

use ghcr_parser_core::Reject;

const WIT: &str = include_str!("../../wit/ghcr-parser.wit");

/// The enum's cases, comments stripped, in declaration order, as snake case.
fn wit_reasons() -> Vec<String> {
    let body = WIT
        .find("enum reject-reason")
        .and_then(|start| WIT.get(start..))
        .and_then(|rest| rest.get(rest.find('{')? + 1..rest.find('}')?))
        .unwrap_or_else(|| panic!("the WIT declares no enum reject-reason with a body"));
    body.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|case| !case.is_empty())
        .map(|case| case.replace('-', "_"))
        .collect()
}

#[test]
fn core_reasons_are_the_wit_reasons_in_order() {
    let core: Vec<&str> = Reject::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(core, wit_reasons());
}

#[test]
fn every_wit_reason_reads_back() {
    for name in wit_reasons() {
        let reason = Reject::from_name(&name).unwrap_or_else(|| panic!("core lacks {name}"));
        assert_eq!(reason.as_str(), name);
    }
}
