//! The open-element stack: HTML's nesting rules, simplified to what a scraper needs.
//!
//! No tree is built. The stack holds one small record per open element so that "is X open?",
//! "which element just closed?" and the implied closes (`<p>`, `<li>`, headings, options) are
//! O(1) amortised per tag, and its height is capped so pathological nesting is rejected in
//! linear time instead of exhausting memory or the call stack.

use crate::tags::Tag;

/// Deepest nesting accepted. Real GitHub pages nest well under 100; the corpus's `too_deep`
/// pages nest 100,000 levels.
pub const MAX_DEPTH: usize = 1024;

/// Stack index meaning "none below".
const NONE: i32 = -1;

#[derive(Debug, Clone, Copy)]
struct Open {
    tag: Tag,
    /// True for SVG/MathML content (self-closing tags count, no raw-text elements).
    foreign: bool,
    /// Index of the nearest open `<p>` at or below this entry, and of the nearest element that
    /// bounds the search for it; likewise for `<li>`. Kept per entry so scope checks are O(1).
    p_at: i32,
    p_bound_at: i32,
    li_at: i32,
    li_bound_at: i32,
}

/// Read-only view of the open elements, handed to visitors with every event.
#[derive(Debug, Default)]
pub struct Stack {
    open: Vec<Open>,
    /// How many elements of each tag id are open.
    counts: Vec<u32>,
}

/// Raised when a push would exceed [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep;

impl Stack {
    /// Number of open elements.
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    pub fn is_open(&self, tag: Tag) -> bool {
        self.counts.get(tag.index()).is_some_and(|c| *c > 0)
    }

    /// Text here is inside `<script>`, `<style>` or `<template>` and is not page content.
    pub fn hides_text(&self) -> bool {
        self.is_open(Tag::SCRIPT) || self.is_open(Tag::STYLE) || self.is_open(Tag::TEMPLATE)
    }

    /// The element being opened now would be SVG/MathML content.
    pub fn next_is_foreign(&self, tag: Tag) -> bool {
        if matches!(tag, Tag::SVG | Tag::MATH) {
            return true;
        }
        self.open.last().is_some_and(|parent| {
            parent.foreign && !matches!(parent.tag, Tag::FOREIGNOBJECT | Tag::DESC | Tag::TITLE)
        })
    }

    fn top_tag(&self) -> Option<Tag> {
        self.open.last().map(|o| o.tag)
    }

    /// Applies the implied closes a start tag causes, reporting each closed element.
    pub fn close_implied_by(&mut self, tag: Tag, mut on_close: impl FnMut(Tag, usize, &Stack)) {
        if tag == Tag::LI {
            if let Some(at) = self
                .open
                .last()
                .and_then(|o| in_scope(o.li_at, o.li_bound_at))
            {
                self.pop_to(at, &mut on_close);
            }
        }
        if tag.closes_p() {
            if let Some(at) = self
                .open
                .last()
                .and_then(|o| in_scope(o.p_at, o.p_bound_at))
            {
                self.pop_to(at, &mut on_close);
            }
        }
        let top = self.top_tag();
        let pop_top = (tag.is_heading() && top.is_some_and(Tag::is_heading))
            || (matches!(tag, Tag::OPTION | Tag::OPTGROUP) && top == Some(Tag::OPTION));
        if pop_top {
            self.pop_one(&mut on_close);
        }
        if tag == Tag::OPTGROUP && self.top_tag() == Some(Tag::OPTGROUP) {
            self.pop_one(&mut on_close);
        }
    }

    /// Opens an element; `ids` is the number of tag ids in use (for the per-tag counts).
    pub fn push(&mut self, tag: Tag, foreign: bool, ids: usize) -> Result<usize, TooDeep> {
        let index = self.open.len();
        if index >= MAX_DEPTH {
            return Err(TooDeep);
        }
        // MAX_DEPTH fits in i32, so the index does too.
        let here = i32::try_from(index).map_err(|_| TooDeep)?;
        let parent = self.open.last().copied();
        let inherit = |f: fn(&Open) -> i32| parent.as_ref().map_or(NONE, f);
        let open = Open {
            tag,
            foreign,
            p_at: if tag == Tag::P {
                here
            } else {
                inherit(|o| o.p_at)
            },
            p_bound_at: if tag.is_p_scope_boundary() {
                here
            } else {
                inherit(|o| o.p_bound_at)
            },
            li_at: if tag == Tag::LI {
                here
            } else {
                inherit(|o| o.li_at)
            },
            li_bound_at: if tag.is_li_scope_boundary() {
                here
            } else {
                inherit(|o| o.li_bound_at)
            },
        };
        if self.counts.len() < ids {
            self.counts.resize(ids, 0);
        }
        if let Some(c) = self.counts.get_mut(tag.index()) {
            *c = c.saturating_add(1);
        }
        self.open.push(open);
        Ok(index)
    }

    /// Closes the nearest open `tag` and everything above it; an end tag with no open element
    /// of its name is ignored, as browsers do.
    pub fn close(&mut self, tag: Tag, mut on_close: impl FnMut(Tag, usize, &Stack)) {
        if !self.is_open(tag) {
            return;
        }
        // The count says an element with this tag is open, so the loop pops at least down to it;
        // its cost is paid for by the pushes of the elements it pops.
        while let Some(popped) = self.pop_one(&mut on_close) {
            if popped == tag {
                break;
            }
        }
    }

    fn pop_to(&mut self, index: usize, on_close: &mut impl FnMut(Tag, usize, &Stack)) {
        while self.open.len() > index {
            self.pop_one(on_close);
        }
    }

    fn pop_one(&mut self, on_close: &mut impl FnMut(Tag, usize, &Stack)) -> Option<Tag> {
        let open = self.open.pop()?;
        if let Some(c) = self.counts.get_mut(open.tag.index()) {
            *c = c.saturating_sub(1);
        }
        on_close(open.tag, self.open.len(), self);
        Some(open.tag)
    }
}

/// The index of the element sought, when it lies above the nearest scope boundary.
fn in_scope(at: i32, bound_at: i32) -> Option<usize> {
    if at > bound_at {
        usize::try_from(at).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(stack: &mut Stack, tag: Tag) {
        stack.close_implied_by(tag, |_, _, _| {});
        assert!(stack.push(tag, false, 200).is_ok());
    }

    #[test]
    fn nested_p_closes_previous() {
        let mut s = Stack::default();
        push(&mut s, Tag::DIV);
        push(&mut s, Tag::P);
        push(&mut s, Tag::P);
        assert_eq!(s.depth(), 2);
        push(&mut s, Tag::DIV);
        assert_eq!(s.depth(), 2, "div closes the open p");
    }

    #[test]
    fn p_inside_button_is_not_closed_from_outside_scope() {
        let mut s = Stack::default();
        push(&mut s, Tag::P);
        push(&mut s, Tag::BUTTON);
        push(&mut s, Tag::DIV);
        assert_eq!(s.depth(), 3);
    }

    #[test]
    fn li_closes_sibling_li_but_not_outer_list_item() {
        let mut s = Stack::default();
        push(&mut s, Tag::UL);
        push(&mut s, Tag::LI);
        push(&mut s, Tag::UL);
        push(&mut s, Tag::LI);
        push(&mut s, Tag::LI);
        assert_eq!(s.depth(), 4);
    }

    #[test]
    fn end_tag_pops_through_unclosed_children_and_stray_end_is_ignored() {
        let mut s = Stack::default();
        push(&mut s, Tag::DIV);
        push(&mut s, Tag::A);
        push(&mut s, Tag::H3);
        let mut closed = Vec::new();
        s.close(Tag::SVG, |t, d, _| closed.push((t, d)));
        assert!(closed.is_empty());
        s.close(Tag::DIV, |t, d, _| closed.push((t, d)));
        assert_eq!(closed, vec![(Tag::H3, 2), (Tag::A, 1), (Tag::DIV, 0)]);
        assert_eq!(s.depth(), 0);
    }

    #[test]
    fn depth_is_capped() {
        let mut s = Stack::default();
        for _ in 0..MAX_DEPTH {
            assert!(s.push(Tag::DIV, false, 200).is_ok());
        }
        assert_eq!(s.push(Tag::DIV, false, 200), Err(TooDeep));
    }
}
