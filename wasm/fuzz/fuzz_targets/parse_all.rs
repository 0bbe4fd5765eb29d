//! Every entry point on the same bytes: none may panic, loop or exhaust memory, and each
//! answer must respect the documented invariants.
#![no_main]

use ghcr_parser_core::{parse_listing, parse_package, parse_versions, Reject, MAX_INPUT_BYTES};
use libfuzzer_sys::fuzz_target;

/// Rejects that depend only on the bytes, not on which page kind was asked for.
fn structural(reason: Reject) -> bool {
    matches!(
        reason,
        Reject::Empty | Reject::NotHtml | Reject::TooLarge | Reject::Truncated | Reject::TooDeep
    )
}

fuzz_target!(|data: &[u8]| {
    let package = parse_package(data);
    let versions = parse_versions(data);
    let listing = parse_listing(data);

    if let Ok(stats) = &package {
        if let Some(days) = &stats.last_30_days {
            assert!(
                days.windows(2).all(|w| w[0].date <= w[1].date),
                "days not ascending"
            );
        }
    }
    if let Ok(list) = &versions {
        assert!(!list.is_empty(), "an empty versions list must be a reject");
    }
    // The structural checks run before any page-specific logic, so all three agree on them.
    let reasons = [package.err(), versions.err(), listing.err()];
    if let Some(reason) = reasons.iter().flatten().copied().find(|r| structural(*r)) {
        assert!(reasons.iter().all(|r| *r == Some(reason)), "{reasons:?}");
    }
    if data.len() > MAX_INPUT_BYTES {
        assert!(reasons.iter().all(Option::is_some));
    }
});
