//! Recognises the pages GitHub serves instead of the one asked for: not found, rate limited,
//! sign-in required. Used only when a page holds no statistics.

use crate::scan::{StartTag, Visitor};
use crate::tags::Tag;
use crate::text::{contains, text_is};
use crate::tree::Stack;
use crate::url;
use crate::Reject;

const NOT_FOUND_PHRASE: &[u8] = b"This is not the web page you are looking for";

#[derive(Debug, Default)]
pub struct PageTypeVisitor {
    not_found: bool,
    rate_limited: bool,
    login_required: bool,
    /// Stack index of an open sign-in form (one that posts to `/session`).
    login_form_at: Option<usize>,
}

impl PageTypeVisitor {
    /// The page type, in the corpus's priority order, if any was recognised.
    pub fn reject(&self) -> Option<Reject> {
        if self.not_found {
            Some(Reject::NotFound)
        } else if self.rate_limited {
            Some(Reject::RateLimited)
        } else if self.login_required {
            Some(Reject::LoginRequired)
        } else {
            None
        }
    }
}

impl Visitor for PageTypeVisitor {
    fn start(&mut self, tag: &StartTag<'_>, _stack: &Stack) {
        match tag.tag {
            Tag::FORM if tag.opened => {
                let posts_to_session = tag
                    .attr(b"action")
                    .and_then(Result::ok)
                    .and_then(url::github_path)
                    .is_some_and(|path| url::path_only(path) == b"/session");
                if posts_to_session && self.login_form_at.is_none() {
                    self.login_form_at = Some(tag.index);
                }
            }
            Tag::INPUT if self.login_form_at.is_some() => {
                let password = tag
                    .attr(b"type")
                    .and_then(Result::ok)
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"password"));
                self.login_required |= password;
            }
            Tag::IMG => {
                if let Some(Ok(alt)) = tag.attr(b"alt") {
                    self.not_found |= contains(alt, NOT_FOUND_PHRASE);
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, _tag: Tag, index: usize, _stack: &Stack) {
        if self.login_form_at == Some(index) {
            self.login_form_at = None;
        }
    }

    fn text(&mut self, text: &[u8], stack: &Stack) {
        if stack.is_open(Tag::TITLE) && !stack.is_open(Tag::SVG) {
            self.not_found |= text_is(text, "Page not found · GitHub");
            self.rate_limited |= text_is(text, "Rate limit · GitHub");
        }
        self.not_found |= contains(text, NOT_FOUND_PHRASE);
        self.rate_limited |= text_is(text, "Whoa there!");
    }
}
