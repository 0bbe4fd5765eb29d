//! Extracts download statistics from GitHub Container Registry web pages.
//!
//! GitHub has no API for these counts; they exist only on the package pages. This crate reads
//! such a page in one streaming pass (an HTML tokenizer and a bounded element stack, no DOM) and
//! returns typed values, or a [`Reject`] saying why the page holds none. It does no I/O, so the
//! same code runs natively (tests, benchmarks) and inside the WASI component and command.
//!
//! Rules (spec/fixtures/README.md, exercised by the corpus there): values are anchored on visible labels, never on
//! class names; counts are exact `u64`s from `title` attributes, never expanded from "4.1B";
//! rejects are checked in the order empty, not_html, too_large, truncated, too_deep, page types
//! (not_found, rate_limited, login_required), malformed_count, ambiguous; `no_statistics` means
//! the page parsed fine but holds none of the asked data.

mod count;
pub mod json;
mod listing;
mod model;
mod package;
mod page_type;
mod precheck;
mod reader;
mod rows;
mod scan;
mod tags;
mod text;
mod tree;
mod url;
mod versions;

pub use count::parse_count;
pub use model::{DailyCount, ListedPackage, Listing, PackageStats, Reject, VersionDownloads};
pub use precheck::MAX_INPUT_BYTES;
pub use tree::MAX_DEPTH;

use page_type::PageTypeVisitor;
use scan::{scan, Visitor};

/// Parses a package page (`/orgs/{o}/packages/container/package/{name}`).
pub fn parse_package(input: &[u8]) -> Result<PackageStats, Reject> {
    let visitor = run(
        input,
        (
            package::PackageVisitor::default(),
            PageTypeVisitor::default(),
        ),
    )?;
    package::finish(visitor)
}

/// Parses a versions page (`.../packages/container/{name}/versions`).
pub fn parse_versions(input: &[u8]) -> Result<Vec<VersionDownloads>, Reject> {
    let visitor = run(
        input,
        (
            versions::VersionsVisitor::default(),
            PageTypeVisitor::default(),
        ),
    )?;
    versions::finish(visitor)
}

/// Parses an org or user package listing (`/orgs/{o}/packages`, `/{user}?tab=packages`).
pub fn parse_listing(input: &[u8]) -> Result<Listing, Reject> {
    let visitor = run(
        input,
        (
            listing::ListingVisitor::default(),
            PageTypeVisitor::default(),
        ),
    )?;
    listing::finish(visitor)
}

/// The shared front half: input checks, the scan, and the structural rejects.
fn run<V: Visitor>(input: &[u8], mut visitor: V) -> Result<V, Reject> {
    let html = precheck::precheck(input)?;
    let outcome = scan(html, &mut visitor);
    if outcome.truncated {
        return Err(Reject::Truncated);
    }
    if outcome.too_deep {
        return Err(Reject::TooDeep);
    }
    Ok(visitor)
}
