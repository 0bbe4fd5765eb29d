//! Package pages: total downloads, the 30-day chart and the last-published time.

use crate::count::{is_iso_date, parse_count, trim};
use crate::page_type::PageTypeVisitor;
use crate::scan::{StartTag, Visitor};
use crate::tags::Tag;
use crate::text::text_is;
use crate::tree::Stack;
use crate::{DailyCount, PackageStats, Reject};

const CHART_LABEL: &str = "Downloads for the last 30 days";

/// Where the 30-day chart element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chart {
    NotSeen,
    Open { index: usize },
    Done,
}

#[derive(Debug)]
pub struct PackageVisitor {
    /// A "Total downloads" label was read and waits for its heading.
    total_label_pending: bool,
    /// One entry per label: the heading's count, `None` when it is not a count.
    totals: Vec<Option<u64>>,
    published_label_pending: bool,
    /// `Some` once the first "Last published" label met its heading.
    last_published: Option<Option<String>>,
    chart: Chart,
    days: Vec<DailyCount>,
    malformed_day: bool,
}

impl Default for PackageVisitor {
    fn default() -> Self {
        PackageVisitor {
            total_label_pending: false,
            totals: Vec::new(),
            published_label_pending: false,
            last_published: None,
            chart: Chart::NotSeen,
            days: Vec::with_capacity(32),
            malformed_day: false,
        }
    }
}

impl PackageVisitor {
    fn heading(&mut self, tag: &StartTag<'_>) {
        let title = tag.attr(b"title");
        if self.total_label_pending {
            self.total_label_pending = false;
            let count = title.and_then(Result::ok).and_then(parse_count);
            self.totals.push(count);
        }
        if self.published_label_pending {
            self.published_label_pending = false;
            let value = title
                .and_then(Result::ok)
                .and_then(|t| String::from_utf8(t.to_vec()).ok());
            self.last_published = Some(value);
        }
    }

    fn chart_bar(&mut self, tag: &StartTag<'_>) {
        let (Some(count), Some(date)) = (tag.attr(b"data-merge-count"), tag.attr(b"data-date"))
        else {
            return;
        };
        let count = count.ok().and_then(parse_count);
        let date = date
            .ok()
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| is_iso_date(d));
        match (count, date) {
            (Some(count), Some(date)) => self.days.push(DailyCount {
                date: date.to_owned(),
                count,
            }),
            _ => self.malformed_day = true,
        }
    }

    /// The statistics, or why there are none. Page types are decided by the caller.
    fn statistics(self) -> Result<PackageStats, Reject> {
        // A label whose heading never came is as unreadable as a heading without a count.
        if self.total_label_pending {
            return Err(Reject::MalformedCount);
        }
        if self.totals.is_empty() {
            return Err(Reject::NoStatistics);
        }
        if self.malformed_day {
            return Err(Reject::MalformedCount);
        }
        let mut counts = Vec::with_capacity(self.totals.len());
        for total in &self.totals {
            counts.push(total.ok_or(Reject::MalformedCount)?);
        }
        let total_downloads = counts.first().copied().ok_or(Reject::NoStatistics)?;
        if counts.iter().any(|c| *c != total_downloads) {
            return Err(Reject::Ambiguous);
        }
        let last_30_days = match self.chart {
            Chart::NotSeen => None,
            Chart::Open { .. } | Chart::Done => {
                let mut days = self.days;
                // GitHub lists the newest day first; ISO dates sort as strings.
                days.sort_by(|a, b| a.date.cmp(&b.date));
                Some(days)
            }
        };
        Ok(PackageStats {
            total_downloads,
            last_30_days,
            last_published: self.last_published.flatten(),
        })
    }
}

impl Visitor for PackageVisitor {
    fn start(&mut self, tag: &StartTag<'_>, stack: &Stack) {
        if stack.is_open(Tag::TEMPLATE) {
            return;
        }
        if tag.tag == Tag::H3 {
            self.heading(tag);
        }
        match self.chart {
            Chart::NotSeen => {
                let is_chart = tag
                    .attr(b"aria-label")
                    .and_then(Result::ok)
                    .is_some_and(|label| text_is(label, CHART_LABEL));
                if is_chart {
                    self.chart = if tag.opened {
                        Chart::Open { index: tag.index }
                    } else {
                        Chart::Done
                    };
                }
            }
            Chart::Open { .. } if tag.tag == Tag::RECT => self.chart_bar(tag),
            _ => {}
        }
    }

    fn end(&mut self, _tag: Tag, index: usize, _stack: &Stack) {
        if self.chart == (Chart::Open { index }) {
            self.chart = Chart::Done;
        }
    }

    fn text(&mut self, text: &[u8], _stack: &Stack) {
        // Labels are short; skip the word-by-word comparison for everything else.
        let text = trim(text);
        if text.len() > 64 {
            return;
        }
        if text_is(text, "Total downloads") {
            self.total_label_pending = true;
        } else if text_is(text, "Last published") && self.last_published.is_none() {
            self.published_label_pending = true;
        }
    }
}

/// Combines the statistics with the page type, in the corpus's reject order.
pub fn finish(visitor: (PackageVisitor, PageTypeVisitor)) -> Result<PackageStats, Reject> {
    let (package, page_type) = visitor;
    match package.statistics() {
        Ok(stats) => Ok(stats),
        Err(reason) => Err(page_type.reject().unwrap_or(reason)),
    }
}
