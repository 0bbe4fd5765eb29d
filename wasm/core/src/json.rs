//! Results as JSON in exactly the shape of the corpus's `expected.json` (spec/fixtures/ghcr); the command
//! prints it and the corpus tests compare against it.

use serde_json::{json, Value};

use crate::{Listing, PackageStats, Reject, VersionDownloads};

/// The three parser entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Package,
    Versions,
    Listing,
}

impl PageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PageKind::Package => "package",
            PageKind::Versions => "versions",
            PageKind::Listing => "listing",
        }
    }

    pub fn from_name(name: &str) -> Option<PageKind> {
        [PageKind::Package, PageKind::Versions, PageKind::Listing]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// Parses `input` as `kind` and renders the result (or the reject) as JSON.
pub fn parse_to_json(kind: PageKind, input: &[u8]) -> Result<Value, (Reject, Value)> {
    let rendered = match kind {
        PageKind::Package => crate::parse_package(input).map(|s| package(&s)),
        PageKind::Versions => crate::parse_versions(input).map(|v| versions(&v)),
        PageKind::Listing => crate::parse_listing(input).map(|l| listing(&l)),
    };
    rendered.map_err(|reason| (reason, reject(reason, kind)))
}

pub fn package(stats: &PackageStats) -> Value {
    let days = stats.last_30_days.as_ref().map(|days| {
        days.iter()
            .map(|d| json!({"date": d.date, "count": d.count}))
            .collect::<Vec<_>>()
    });
    json!({
        "kind": "package",
        "total_downloads": stats.total_downloads,
        "last_30_days": days,
        "last_published": stats.last_published,
    })
}

pub fn versions(list: &[VersionDownloads]) -> Value {
    let versions: Vec<Value> = list
        .iter()
        .map(|v| json!({"tag": v.tag, "downloads": v.downloads}))
        .collect();
    json!({"kind": "versions", "versions": versions})
}

pub fn listing(listing: &Listing) -> Value {
    let packages: Vec<Value> = listing
        .packages
        .iter()
        .map(|p| json!({"name": p.name, "repository": p.repository}))
        .collect();
    json!({"kind": "listing", "packages": packages, "next_page": listing.next_page})
}

pub fn reject(reason: Reject, page: PageKind) -> Value {
    json!({"kind": "error", "reason": reason.as_str(), "page": page.as_str()})
}
