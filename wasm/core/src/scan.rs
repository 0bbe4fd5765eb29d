//! One streaming pass over a page: html5gum tokenizes, our emitter keeps the element stack and
//! hands visitors start tags (with the few attributes anyone reads), closes and text runs.
//! Nothing is allocated per token; buffers are reused and capped.

use html5gum::{Emitter, Error, State, Tokenizer};

use crate::precheck::is_html_whitespace;
use crate::reader::SliceReader;
use crate::tags::{Interner, Tag};
use crate::tree::Stack;

/// Attribute values and text runs longer than this are not kept: no count, date, tag, URL or
/// label comes near it, and the cap bounds memory whatever the input.
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// What the visitors see of a start tag.
pub struct StartTag<'a> {
    pub tag: Tag,
    /// Stack index of the element; it is open (visible in the stack) only when `opened`.
    pub index: usize,
    pub opened: bool,
    attrs: Attrs<'a>,
}

impl StartTag<'_> {
    /// The value of a wanted attribute (first occurrence wins, as in HTML). `Err` when the value
    /// was too long to keep.
    pub fn attr(&self, name: &[u8]) -> Option<Result<&[u8], Overlong>> {
        self.attrs.get(name)
    }
}

/// An attribute value longer than the scanner keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlong;

#[derive(Debug, Clone, Copy)]
struct AttrSpan {
    name_start: usize,
    name_end: usize,
    value_start: usize,
    value_end: usize,
    wanted: bool,
    overlong: bool,
}

struct Attrs<'a> {
    buf: &'a [u8],
    spans: &'a [AttrSpan],
}

impl<'a> Attrs<'a> {
    fn get(&self, name: &[u8]) -> Option<Result<&'a [u8], Overlong>> {
        let span = self
            .spans
            .iter()
            .find(|s| s.wanted && self.buf.get(s.name_start..s.name_end) == Some(name))?;
        if span.overlong {
            return Some(Err(Overlong));
        }
        Some(Ok(self
            .buf
            .get(span.value_start..span.value_end)
            .unwrap_or_default()))
    }
}

/// Receives the document's events in order. `stack` is the state after the event.
pub trait Visitor {
    fn start(&mut self, tag: &StartTag<'_>, stack: &Stack);
    /// An element closed (explicitly or implied); `index` was its stack index.
    fn end(&mut self, tag: Tag, index: usize, stack: &Stack);
    /// A run of text between two tags (character references decoded, not trimmed). Text inside
    /// `<script>`, `<style>` and `<template>` and runs over the size cap are not reported.
    fn text(&mut self, text: &[u8], stack: &Stack);
}

impl<A: Visitor, B: Visitor> Visitor for (A, B) {
    fn start(&mut self, tag: &StartTag<'_>, stack: &Stack) {
        self.0.start(tag, stack);
        self.1.start(tag, stack);
    }

    fn end(&mut self, tag: Tag, index: usize, stack: &Stack) {
        self.0.end(tag, index, stack);
        self.1.end(tag, index, stack);
    }

    fn text(&mut self, text: &[u8], stack: &Stack) {
        self.0.text(text, stack);
        self.1.text(text, stack);
    }
}

/// Structural problems found by the scan, which outrank anything the visitors found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanOutcome {
    /// The input ended inside a tag, attribute, comment or doctype.
    pub truncated: bool,
    /// Nesting exceeded [`crate::tree::MAX_DEPTH`]; visitors saw nothing after that point.
    pub too_deep: bool,
}

/// Tokenizes `html` (valid UTF-8, see [`crate::precheck`]) once, feeding `visitor`.
pub fn scan<V: Visitor>(html: &[u8], visitor: &mut V) -> ScanOutcome {
    let mut outcome = ScanOutcome::default();
    let emitter = ScanEmitter {
        input: html,
        position: 0,
        visitor,
        outcome: &mut outcome,
        interner: Interner::default(),
        stack: Stack::default(),
        pending: Pending::None,
        tag_name: Vec::with_capacity(32),
        self_closing: false,
        last_start_tag: Vec::with_capacity(32),
        attr_buf: Vec::with_capacity(1024),
        attrs: Vec::with_capacity(16),
        text: Vec::with_capacity(256),
        text_overlong: false,
    };
    match Tokenizer::new_with_emitter(SliceReader::new(html), emitter).finish() {
        Ok(()) => {}
        Err(never) => match never {},
    }
    outcome
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    StartTag,
    EndTag,
    Comment,
    Doctype,
}

struct ScanEmitter<'a, V> {
    input: &'a [u8],
    /// Bytes consumed so far, as the tokenizer reports them.
    position: usize,
    visitor: &'a mut V,
    outcome: &'a mut ScanOutcome,
    interner: Interner,
    stack: Stack,
    /// The token begun but not yet emitted; still set at end of input means truncation.
    pending: Pending,
    tag_name: Vec<u8>,
    self_closing: bool,
    last_start_tag: Vec<u8>,
    attr_buf: Vec<u8>,
    attrs: Vec<AttrSpan>,
    text: Vec<u8>,
    text_overlong: bool,
}

impl<V: Visitor> ScanEmitter<'_, V> {
    fn alive(&self) -> bool {
        !self.outcome.too_deep
    }

    fn flush_text(&mut self) {
        // Whitespace between tags is most of the text events and means nothing to any visitor.
        let meaningful = !self.text.iter().all(|b| is_html_whitespace(*b));
        if meaningful && !self.text_overlong && self.alive() {
            self.visitor.text(&self.text, &self.stack);
        }
        self.text.clear();
        self.text_overlong = false;
    }

    fn begin_tag(&mut self, pending: Pending) {
        self.flush_text();
        self.pending = pending;
        self.tag_name.clear();
        self.self_closing = false;
        self.attr_buf.clear();
        self.attrs.clear();
    }

    fn emit_start_tag(&mut self) -> Option<State> {
        let tag = self.interner.intern(&self.tag_name);
        self.last_start_tag.clear();
        self.last_start_tag.extend_from_slice(&self.tag_name);
        if !self.alive() {
            // Only the tokenizer state matters now: truncation is still checked to the end.
            return tag.text_state();
        }
        let foreign = self.stack.next_is_foreign(tag);
        let visitor = &mut *self.visitor;
        if !foreign {
            self.stack
                .close_implied_by(tag, |t, i, s| visitor.end(t, i, s));
        }
        let attrs = Attrs {
            buf: &self.attr_buf,
            spans: &self.attrs,
        };
        let leaf = tag.is_void() || (foreign && self.self_closing);
        if leaf {
            let index = self.stack.depth();
            let start = StartTag {
                tag,
                index,
                opened: false,
                attrs,
            };
            self.visitor.start(&start, &self.stack);
            return None;
        }
        match self.stack.push(tag, foreign, self.interner.len()) {
            Ok(index) => {
                let start = StartTag {
                    tag,
                    index,
                    opened: true,
                    attrs,
                };
                self.visitor.start(&start, &self.stack);
            }
            Err(_) => {
                self.outcome.too_deep = true;
            }
        }
        if foreign {
            None
        } else {
            tag.text_state()
        }
    }

    fn emit_end_tag(&mut self) {
        if !self.alive() {
            return;
        }
        let tag = self.interner.intern(&self.tag_name);
        let visitor = &mut *self.visitor;
        self.stack.close(tag, |t, i, s| visitor.end(t, i, s));
    }

    /// The tokenizer emits a comment or doctype cut off by the end of input as if it were
    /// complete; only a token that really ended consumed a closing `>`.
    fn check_closed_by_gt(&mut self) {
        self.pending = Pending::None;
        let consumed = self.input.get(..self.position).unwrap_or(self.input);
        if !consumed.ends_with(b">") {
            self.outcome.truncated = true;
        }
    }

    fn current_attr(&mut self) -> Option<&mut AttrSpan> {
        self.attrs.last_mut()
    }
}

/// The only attributes any visitor reads; the values of all others (SVG paths, styles,
/// classes) are skipped without copying.
fn is_wanted(name: &[u8]) -> bool {
    matches!(
        name,
        b"title"
            | b"href"
            | b"rel"
            | b"aria-label"
            | b"data-merge-count"
            | b"data-date"
            | b"action"
            | b"type"
            | b"alt"
    )
}

impl<V: Visitor> Emitter for ScanEmitter<'_, V> {
    type Token = std::convert::Infallible;

    fn set_last_start_tag(&mut self, last_start_tag: Option<&[u8]>) {
        self.last_start_tag.clear();
        self.last_start_tag
            .extend_from_slice(last_start_tag.unwrap_or_default());
    }

    fn emit_eof(&mut self) {
        self.flush_text();
        if self.pending != Pending::None {
            self.outcome.truncated = true;
        }
    }

    fn emit_error(&mut self, _error: Error) {}

    #[inline]
    fn should_emit_errors(&mut self) -> bool {
        false
    }

    fn pop_token(&mut self) -> Option<Self::Token> {
        None
    }

    fn emit_string(&mut self, s: &[u8]) {
        if self.text_overlong || self.stack.hides_text() {
            return;
        }
        if self.text.len().saturating_add(s.len()) > MAX_VALUE_BYTES {
            self.text_overlong = true;
            self.text.clear();
            return;
        }
        self.text.extend_from_slice(s);
    }

    fn init_start_tag(&mut self) {
        self.begin_tag(Pending::StartTag);
    }

    fn init_end_tag(&mut self) {
        self.begin_tag(Pending::EndTag);
    }

    fn init_comment(&mut self) {
        self.flush_text();
        self.pending = Pending::Comment;
    }

    fn emit_current_tag(&mut self) -> Option<State> {
        let pending = std::mem::replace(&mut self.pending, Pending::None);
        match pending {
            Pending::StartTag => self.emit_start_tag(),
            Pending::EndTag => {
                self.emit_end_tag();
                None
            }
            _ => None,
        }
    }

    fn emit_current_comment(&mut self) {
        self.check_closed_by_gt();
    }

    fn emit_current_doctype(&mut self) {
        self.check_closed_by_gt();
    }

    #[inline]
    fn move_position(&mut self, offset: isize) {
        self.position = self.position.saturating_add_signed(offset);
    }

    fn set_self_closing(&mut self) {
        self.self_closing = true;
    }

    fn set_force_quirks(&mut self) {}

    fn push_tag_name(&mut self, s: &[u8]) {
        // Names beyond the cap are still compared, just not grown further.
        if self.tag_name.len() < MAX_VALUE_BYTES {
            self.tag_name.extend_from_slice(s);
        }
    }

    fn push_comment(&mut self, _s: &[u8]) {}

    fn push_doctype_name(&mut self, _s: &[u8]) {}

    fn init_doctype(&mut self) {
        self.flush_text();
        self.pending = Pending::Doctype;
    }

    fn init_attribute(&mut self) {
        if self.pending != Pending::StartTag {
            return;
        }
        let at = self.attr_buf.len();
        self.attrs.push(AttrSpan {
            name_start: at,
            name_end: at,
            value_start: at,
            value_end: at,
            wanted: true,
            overlong: false,
        });
    }

    fn init_attribute_value(&mut self) {
        if self.pending != Pending::StartTag {
            return;
        }
        let buf = &self.attr_buf;
        let Some((last, earlier)) = self.attrs.split_last() else {
            return;
        };
        let name = buf.get(last.name_start..last.name_end).unwrap_or_default();
        // HTML keeps the first of duplicated attributes.
        let wanted = is_wanted(name)
            && !earlier
                .iter()
                .any(|e| buf.get(e.name_start..e.name_end) == Some(name));
        let at = self.attr_buf.len();
        if let Some(attr) = self.current_attr() {
            attr.wanted = wanted;
            attr.value_start = at;
            attr.value_end = at;
        }
    }

    fn push_attribute_name(&mut self, s: &[u8]) {
        if self.pending != Pending::StartTag {
            return;
        }
        let Some(attr) = self.attrs.last_mut() else {
            return;
        };
        // Attribute names are pushed before any value, so the name ends where the buffer ends.
        if attr.name_end - attr.name_start < MAX_VALUE_BYTES {
            self.attr_buf.extend_from_slice(s);
            let end = self.attr_buf.len();
            if let Some(attr) = self.attrs.last_mut() {
                attr.name_end = end;
                attr.value_start = end;
                attr.value_end = end;
            }
        }
    }

    fn push_attribute_value(&mut self, s: &[u8]) {
        if self.pending != Pending::StartTag {
            return;
        }
        let Some(attr) = self.attrs.last_mut() else {
            return;
        };
        if !attr.wanted || attr.overlong {
            return;
        }
        if (attr.value_end - attr.value_start).saturating_add(s.len()) > MAX_VALUE_BYTES {
            attr.overlong = true;
            return;
        }
        self.attr_buf.extend_from_slice(s);
        attr.value_end = self.attr_buf.len();
    }

    fn set_doctype_public_identifier(&mut self, _value: &[u8]) {}

    fn set_doctype_system_identifier(&mut self, _value: &[u8]) {}

    fn push_doctype_public_identifier(&mut self, _s: &[u8]) {}

    fn push_doctype_system_identifier(&mut self, _s: &[u8]) {}

    fn current_is_appropriate_end_tag_token(&mut self) -> bool {
        self.pending == Pending::EndTag
            && !self.last_start_tag.is_empty()
            && self.tag_name == self.last_start_tag
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&mut self) -> bool {
        // CDATA sections are text inside SVG/MathML and bogus comments elsewhere.
        self.stack.next_is_foreign(Tag::OTHER)
    }
}
