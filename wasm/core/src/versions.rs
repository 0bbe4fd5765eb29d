//! Versions pages: one entry per tag link, sharing its row's download figure.

use crate::count::{looks_like_count, parse_count};
use crate::page_type::PageTypeVisitor;
use crate::rows::Rows;
use crate::scan::{StartTag, Visitor};
use crate::tags::Tag;
use crate::tree::Stack;
use crate::url;
use crate::{Reject, VersionDownloads};

#[derive(Debug, Default)]
struct Row {
    tags: Vec<String>,
    /// The last count-shaped text of the row outside links; `Some(None)` when it was not a
    /// valid count.
    downloads: Option<Option<u64>>,
    malformed_tag: bool,
}

#[derive(Debug, Default)]
pub struct VersionsVisitor {
    rows: Rows<Row>,
    versions: Vec<VersionDownloads>,
    malformed: bool,
}

impl VersionsVisitor {
    fn finish_row(&mut self, row: Row) {
        if row.tags.is_empty() {
            return;
        }
        match row.downloads {
            Some(Some(downloads)) if !row.malformed_tag => {
                for tag in row.tags {
                    self.versions.push(VersionDownloads { tag, downloads });
                }
            }
            _ => self.malformed = true,
        }
    }

    fn statistics(mut self) -> Result<Vec<VersionDownloads>, Reject> {
        let unclosed: Vec<Row> = self.rows.drain().collect();
        for row in unclosed {
            self.finish_row(row);
        }
        if self.malformed {
            return Err(Reject::MalformedCount);
        }
        if self.versions.is_empty() {
            return Err(Reject::NoStatistics);
        }
        Ok(self.versions)
    }
}

impl Visitor for VersionsVisitor {
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
        let Some(raw) = url::query_param(href, b"tag") else {
            return;
        };
        if let Some(row) = self.rows.current() {
            match url::percent_decode(raw).filter(|t| !t.is_empty()) {
                Some(name) => row.tags.push(name),
                None => row.malformed_tag = true,
            }
        }
    }

    fn end(&mut self, _tag: Tag, index: usize, _stack: &Stack) {
        if let Some(row) = self.rows.on_end(index) {
            self.finish_row(row);
        }
    }

    fn text(&mut self, text: &[u8], stack: &Stack) {
        // A tag name such as `3` is count-shaped too; the figure is never inside a link.
        if stack.is_open(Tag::A) || !looks_like_count(text) {
            return;
        }
        if let Some(row) = self.rows.current() {
            row.downloads = Some(parse_count(text));
        }
    }
}

pub fn finish(
    visitor: (VersionsVisitor, PageTypeVisitor),
) -> Result<Vec<VersionDownloads>, Reject> {
    let (versions, page_type) = visitor;
    match versions.statistics() {
        Ok(list) => Ok(list),
        Err(reason) => Err(page_type.reject().unwrap_or(reason)),
    }
}
