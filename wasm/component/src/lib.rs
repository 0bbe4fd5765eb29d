//! The WASI p2 component: world `ghcr-parser` of `wasm/wit/ghcr-parser.wit`, implemented by
//! mapping the core's results onto the generated WIT types. No logic lives here.

wit_bindgen::generate!({
    world: "ghcr-parser",
    path: "../wit",
});

use exports::stats_tracker::ghcr::parse::Guest;
use stats_tracker::ghcr::types as wit;

use ghcr_parser_core as core;

struct Parser;

impl Guest for Parser {
    fn max_input_bytes() -> u64 {
        core::MAX_INPUT_BYTES as u64
    }

    fn package(html: Vec<u8>) -> Result<wit::PackageStats, wit::RejectReason> {
        let stats = core::parse_package(&html).map_err(reason)?;
        Ok(wit::PackageStats {
            total_downloads: stats.total_downloads,
            last_thirty_days: stats.last_30_days.map(|days| {
                days.into_iter()
                    .map(|d| wit::DailyCount {
                        date: d.date,
                        count: d.count,
                    })
                    .collect()
            }),
            last_published: stats.last_published,
        })
    }

    fn versions(html: Vec<u8>) -> Result<Vec<wit::VersionDownloads>, wit::RejectReason> {
        let versions = core::parse_versions(&html).map_err(reason)?;
        Ok(versions
            .into_iter()
            .map(|v| wit::VersionDownloads {
                tag: v.tag,
                downloads: v.downloads,
            })
            .collect())
    }

    fn listing(html: Vec<u8>) -> Result<wit::Listing, wit::RejectReason> {
        let listing = core::parse_listing(&html).map_err(reason)?;
        Ok(wit::Listing {
            packages: listing
                .packages
                .into_iter()
                .map(|p| wit::ListedPackage {
                    name: p.name,
                    repository: p.repository,
                })
                .collect(),
            next_page: listing.next_page,
        })
    }
}

fn reason(reject: core::Reject) -> wit::RejectReason {
    use wit::RejectReason as R;
    match reject {
        core::Reject::Empty => R::Empty,
        core::Reject::NotHtml => R::NotHtml,
        core::Reject::TooLarge => R::TooLarge,
        core::Reject::Truncated => R::Truncated,
        core::Reject::TooDeep => R::TooDeep,
        core::Reject::NotFound => R::NotFound,
        core::Reject::RateLimited => R::RateLimited,
        core::Reject::LoginRequired => R::LoginRequired,
        core::Reject::MalformedCount => R::MalformedCount,
        core::Reject::Ambiguous => R::Ambiguous,
        core::Reject::NoStatistics => R::NoStatistics,
    }
}

export!(Parser);
