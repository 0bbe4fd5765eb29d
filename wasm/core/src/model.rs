//! The typed results of parsing, mirroring the records of `wasm/wit/ghcr-parser.wit`.

use std::fmt;

/// One bar of the "Downloads for the last 30 days" chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCount {
    /// ISO-8601 calendar date, `YYYY-MM-DD`.
    pub date: String,
    pub count: u64,
}

/// What a package page says about downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageStats {
    pub total_downloads: u64,
    /// Ascending by date; `None` when the page has no 30-day chart.
    pub last_30_days: Option<Vec<DailyCount>>,
    /// The `title` of the "Last published" heading, verbatim.
    pub last_published: Option<String>,
}

/// One tag of a versions page, sharing its row's download figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDownloads {
    pub tag: String,
    pub downloads: u64,
}

/// One package of an org or user package listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPackage {
    /// Percent-decoded: `charts%2Fflagger` becomes `charts/flagger`.
    pub name: String,
    /// `owner/repo`, when the row links one.
    pub repository: Option<String>,
}

/// One page of a package listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub packages: Vec<ListedPackage>,
    pub next_page: Option<u32>,
}

/// Why a page yields no statistics. Variants are in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    Empty,
    NotHtml,
    TooLarge,
    Truncated,
    TooDeep,
    NotFound,
    RateLimited,
    LoginRequired,
    MalformedCount,
    Ambiguous,
    /// The page parsed but holds none of the asked data (no label, no version rows, ...).
    NoStatistics,
}

impl Reject {
    /// Every reason, for exhaustive tables (exit codes, tests).
    pub const ALL: [Reject; 11] = [
        Reject::Empty,
        Reject::NotHtml,
        Reject::TooLarge,
        Reject::Truncated,
        Reject::TooDeep,
        Reject::NotFound,
        Reject::RateLimited,
        Reject::LoginRequired,
        Reject::MalformedCount,
        Reject::Ambiguous,
        Reject::NoStatistics,
    ];

    /// The reason's name as written in `expected.json` and in the Ruby API's symbols.
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::Empty => "empty",
            Reject::NotHtml => "not_html",
            Reject::TooLarge => "too_large",
            Reject::Truncated => "truncated",
            Reject::TooDeep => "too_deep",
            Reject::NotFound => "not_found",
            Reject::RateLimited => "rate_limited",
            Reject::LoginRequired => "login_required",
            Reject::MalformedCount => "malformed_count",
            Reject::Ambiguous => "ambiguous",
            Reject::NoStatistics => "no_statistics",
        }
    }

    /// Inverse of [`Reject::as_str`].
    pub fn from_name(name: &str) -> Option<Reject> {
        Reject::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for Reject {}
