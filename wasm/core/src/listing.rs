//! Org and user package listings: package links, their rows' repositories, the next page.

use crate::count::trim;
use crate::page_type::PageTypeVisitor;
use crate::rows::Rows;
use crate::scan::{StartTag, Visitor};
use crate::tags::Tag;
use crate::text::text_is;
use crate::tree::Stack;
use crate::url;
use crate::{ListedPackage, Listing, Reject};

/// First path segments that are GitHub pages, not owners, in a two-segment link.
const RESERVED_OWNERS: &[&[u8]] = &[
    b"orgs",
    b"users",
    b"settings",
    b"login",
    b"logout",
    b"signup",
    b"sponsors",
    b"marketplace",
    b"features",
    b"topics",
    b"collections",
    b"explore",
    b"notifications",
    b"search",
    b"site",
    b"about",
    b"pricing",
    b"enterprise",
    b"apps",
    b"codespaces",
];

#[derive(Debug, Default)]
struct Row {
    /// Indices into the visitor's packages.
    packages: Vec<usize>,
    repository: Option<String>,
}

#[derive(Debug, Default)]
pub struct ListingVisitor {
    rows: Rows<Row>,
    packages: Vec<ListedPackage>,
    next_page: Option<Result<u32, Reject>>,
    empty_notice: bool,
}

impl ListingVisitor {
    fn package_link(&mut self, name: String) {
        if let Some(row) = self.rows.current() {
            // Several links of one row (icon, title) name the same package.
            let packages = &self.packages;
            if row
                .packages
                .iter()
                .any(|i| packages.get(*i).is_some_and(|p| p.name == name))
            {
                return;
            }
            row.packages.push(self.packages.len());
        }
        self.packages.push(ListedPackage {
            name,
            repository: None,
        });
    }

    fn finish_row(&mut self, row: Row) {
        for i in row.packages {
            if let Some(package) = self.packages.get_mut(i) {
                package.repository.clone_from(&row.repository);
            }
        }
    }

    fn statistics(mut self) -> Result<Listing, Reject> {
        let unclosed: Vec<Row> = self.rows.drain().collect();
        for row in unclosed {
            self.finish_row(row);
        }
        let next_page = self.next_page.transpose()?;
        if self.packages.is_empty() && !self.empty_notice {
            return Err(Reject::NoStatistics);
        }
        Ok(Listing {
            packages: self.packages,
            next_page,
        })
    }
}

/// The decoded package name of a `/{orgs|users}/{owner}/packages/container/package/{name}` link.
fn package_name(path: &[u8]) -> Option<String> {
    let mut parts = url::segments(path);
    let scope = parts.next()?;
    let owner = parts.next()?;
    let fixed = [parts.next()?, parts.next()?, parts.next()?];
    if !matches!(scope, b"orgs" | b"users")
        || owner.is_empty()
        || fixed != [&b"packages"[..], b"container", b"package"]
    {
        return None;
    }
    let mut raw = Vec::new();
    for (i, part) in parts.enumerate() {
        if i > 0 {
            raw.push(b'/');
        }
        raw.extend_from_slice(part);
    }
    url::percent_decode(&raw).filter(|n| !n.is_empty())
}

/// `owner/repo` for a `/{owner}/{repo}` link.
fn repository(path_and_query: &[u8]) -> Option<String> {
    if path_and_query.contains(&b'?') || path_and_query.contains(&b'#') {
        return None;
    }
    let mut parts = url::segments(path_and_query);
    let (owner, repo) = (parts.next()?, parts.next()?);
    if parts.next().is_some() || RESERVED_OWNERS.contains(&owner) {
        return None;
    }
    let owner = url::percent_decode(owner)?;
    let repo = url::percent_decode(repo)?;
    Some(format!("{owner}/{repo}"))
}

fn has_rel_next(tag: &StartTag<'_>) -> bool {
    tag.attr(b"rel").and_then(Result::ok).is_some_and(|rel| {
        rel.split(|b| crate::precheck::is_html_whitespace(*b))
            .any(|token| token.eq_ignore_ascii_case(b"next"))
    })
}

fn page_number(href: &[u8]) -> Result<u32, Reject> {
    let raw = url::query_param(href, b"page").ok_or(Reject::MalformedCount)?;
    let digits = trim(raw);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Reject::MalformedCount);
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or(Reject::MalformedCount)
}

impl Visitor for ListingVisitor {
    fn start(&mut self, tag: &StartTag<'_>, stack: &Stack) {
        if stack.is_open(Tag::TEMPLATE) {
            return;
        }
        self.rows.on_start(tag.tag, tag.index, tag.opened);
        if tag.tag != Tag::A {
            return;
        }
        let Some(Ok(href)) = tag.attr(b"href") else {
            return;
        };
        if self.next_page.is_none() && has_rel_next(tag) {
            self.next_page = Some(page_number(href));
        }
        let Some(path) = url::github_path(href) else {
            return;
        };
        if let Some(name) = package_name(url::path_only(path)) {
            self.package_link(name);
        } else if let Some(repo) = repository(path) {
            if let Some(row) = self.rows.current() {
                if row.repository.is_none() {
                    row.repository = Some(repo);
                }
            }
        }
    }

    fn end(&mut self, _tag: Tag, index: usize, _stack: &Stack) {
        if let Some(row) = self.rows.on_end(index) {
            self.finish_row(row);
        }
    }

    fn text(&mut self, text: &[u8], _stack: &Stack) {
        let text = trim(text);
        if text.len() <= 64 && text_is(text, "No results matched your search.") {
            self.empty_notice = true;
        }
    }
}

pub fn finish(visitor: (ListingVisitor, PageTypeVisitor)) -> Result<Listing, Reject> {
    let (listing, page_type) = visitor;
    match listing.statistics() {
        Ok(list) if !list.packages.is_empty() => Ok(list),
        Ok(list) => match page_type.reject() {
            Some(reason) => Err(reason),
            None => Ok(list),
        },
        Err(reason) => Err(page_type.reject().unwrap_or(reason)),
    }
}
