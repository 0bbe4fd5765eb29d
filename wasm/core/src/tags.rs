//! Tag names as small integers, so the element stack can answer "is X open?" in O(1).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// An interned tag name. Known names have fixed ids (the constants below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag(pub u32);

macro_rules! known_tags {
    ($($konst:ident = $name:literal),+ $(,)?) => {
        const KNOWN: &[&[u8]] = &[$($name),+];
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum KnownIndex { $($konst),+ }
        impl Tag {
            $(pub const $konst: Tag = Tag(KnownIndex::$konst as u32);)+
        }
    };
}

known_tags! {
    // Catch-all once the interner is full (adversarial input with endless distinct names).
    OTHER = b"\0other",
    A = b"a", ADDRESS = b"address", APPLET = b"applet", AREA = b"area", ARTICLE = b"article",
    ASIDE = b"aside", BASE = b"base", BASEFONT = b"basefont", BGSOUND = b"bgsound",
    BLOCKQUOTE = b"blockquote", BR = b"br", BUTTON = b"button",
    CAPTION = b"caption", CENTER = b"center", COL = b"col", DD = b"dd", DESC = b"desc",
    DETAILS = b"details", DIALOG = b"dialog", DIR = b"dir", DIV = b"div", DL = b"dl", DT = b"dt",
    EMBED = b"embed", FIELDSET = b"fieldset", FIGCAPTION = b"figcaption", FIGURE = b"figure",
    FOOTER = b"footer", FOREIGNOBJECT = b"foreignobject", FORM = b"form", FRAME = b"frame",
    H1 = b"h1", H2 = b"h2", H3 = b"h3", H4 = b"h4", H5 = b"h5", H6 = b"h6", HEADER = b"header",
    HGROUP = b"hgroup", HR = b"hr", HTML = b"html", IFRAME = b"iframe", IMG = b"img",
    INPUT = b"input", KEYGEN = b"keygen", LI = b"li", LINK = b"link", LISTING = b"listing",
    MAIN = b"main", MARQUEE = b"marquee", MATH = b"math", MENU = b"menu", META = b"meta",
    NAV = b"nav", NOEMBED = b"noembed", NOFRAMES = b"noframes", OBJECT = b"object", OL = b"ol",
    OPTGROUP = b"optgroup", OPTION = b"option", P = b"p", PARAM = b"param",
    PLAINTEXT = b"plaintext", PRE = b"pre", RECT = b"rect", SCRIPT = b"script",
    SECTION = b"section", SOURCE = b"source", STYLE = b"style", SUMMARY = b"summary",
    SVG = b"svg", TABLE = b"table", TD = b"td", TEMPLATE = b"template", TEXTAREA = b"textarea",
    TH = b"th", TITLE = b"title", TRACK = b"track", UL = b"ul", WBR = b"wbr", XMP = b"xmp",
}

/// Beyond this many distinct names every new name maps to [`Tag::OTHER`]: memory stays bounded
/// whatever the input, at the cost of approximate nesting for pages no real site produces.
const MAX_DISTINCT_TAGS: usize = 4096;

/// Maps tag names to [`Tag`] ids.
#[derive(Debug)]
pub struct Interner {
    /// Names of up to 8 bytes (nearly all tags), packed into one word: one multiply to hash,
    /// one compare to match. Tag names never contain NUL (the tokenizer replaces it), so
    /// zero-padding is unambiguous.
    short: HashMap<u64, Tag, BuildHasherDefault<FxHasher>>,
    long: HashMap<Box<[u8]>, Tag, BuildHasherDefault<FxHasher>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            short: HashMap::with_capacity_and_hasher(256, BuildHasherDefault::default()),
            long: HashMap::with_capacity_and_hasher(64, BuildHasherDefault::default()),
        };
        for name in KNOWN {
            interner.intern(name);
        }
        interner
    }
}

fn pack(name: &[u8]) -> Option<u64> {
    if name.len() > 8 {
        return None;
    }
    // Built in registers: a byte copy into a stack array followed by a word load stalls on
    // store forwarding, which showed up as the interner's main cost.
    let mut key = 0u64;
    for (i, &b) in name.iter().enumerate() {
        key |= u64::from(b) << (8 * i);
    }
    Some(key)
}

impl Interner {
    pub fn intern(&mut self, name: &[u8]) -> Tag {
        let packed = pack(name);
        let found = match packed {
            Some(key) => self.short.get(&key),
            None => self.long.get(name),
        };
        if let Some(tag) = found {
            return *tag;
        }
        if self.len() >= MAX_DISTINCT_TAGS {
            return Tag::OTHER;
        }
        let tag = Tag(u32::try_from(self.len()).unwrap_or(0));
        match packed {
            Some(key) => self.short.insert(key, tag),
            None => self.long.insert(Box::from(name), tag),
        };
        tag
    }

    /// Number of ids handed out so far (ids are dense from 0).
    pub fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }
}

impl Tag {
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// Elements that never have content or an end tag.
    pub fn is_void(self) -> bool {
        matches!(
            self,
            Tag::AREA
                | Tag::BASE
                | Tag::BASEFONT
                | Tag::BGSOUND
                | Tag::BR
                | Tag::COL
                | Tag::EMBED
                | Tag::FRAME
                | Tag::HR
                | Tag::IMG
                | Tag::INPUT
                | Tag::KEYGEN
                | Tag::LINK
                | Tag::META
                | Tag::PARAM
                | Tag::SOURCE
                | Tag::TRACK
                | Tag::WBR
        )
    }

    /// Start tags that close an open `<p>` (HTML's "close a p element in button scope").
    pub fn closes_p(self) -> bool {
        matches!(
            self,
            Tag::ADDRESS
                | Tag::ARTICLE
                | Tag::ASIDE
                | Tag::BLOCKQUOTE
                | Tag::CENTER
                | Tag::DETAILS
                | Tag::DIALOG
                | Tag::DIR
                | Tag::DIV
                | Tag::DL
                | Tag::DD
                | Tag::DT
                | Tag::FIELDSET
                | Tag::FIGCAPTION
                | Tag::FIGURE
                | Tag::FOOTER
                | Tag::FORM
                | Tag::H1
                | Tag::H2
                | Tag::H3
                | Tag::H4
                | Tag::H5
                | Tag::H6
                | Tag::HEADER
                | Tag::HGROUP
                | Tag::HR
                | Tag::LI
                | Tag::LISTING
                | Tag::MAIN
                | Tag::MENU
                | Tag::NAV
                | Tag::OL
                | Tag::P
                | Tag::PLAINTEXT
                | Tag::PRE
                | Tag::SECTION
                | Tag::SUMMARY
                | Tag::TABLE
                | Tag::UL
                | Tag::XMP
        )
    }

    /// Elements that bound the search for an open `<p>` ("button scope").
    pub fn is_p_scope_boundary(self) -> bool {
        matches!(
            self,
            Tag::APPLET
                | Tag::BUTTON
                | Tag::CAPTION
                | Tag::HTML
                | Tag::MARQUEE
                | Tag::OBJECT
                | Tag::TABLE
                | Tag::TD
                | Tag::TEMPLATE
                | Tag::TH
                | Tag::SVG
                | Tag::MATH
        )
    }

    /// Elements that bound the search for an open `<li>` ("list item scope").
    pub fn is_li_scope_boundary(self) -> bool {
        self.is_p_scope_boundary() || matches!(self, Tag::OL | Tag::UL)
    }

    pub fn is_heading(self) -> bool {
        matches!(
            self,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6
        )
    }

    /// Elements (in HTML content) whose content the tokenizer must read as text, not markup.
    pub fn text_state(self) -> Option<html5gum::State> {
        use html5gum::State;
        match self {
            Tag::TEXTAREA | Tag::TITLE => Some(State::RcData),
            Tag::PLAINTEXT => Some(State::PlainText),
            Tag::SCRIPT => Some(State::ScriptData),
            // noscript is left as markup: we read pages as a scripting-disabled scraper does.
            Tag::STYLE | Tag::IFRAME | Tag::XMP | Tag::NOEMBED | Tag::NOFRAMES => {
                Some(State::RawText)
            }
            _ => None,
        }
    }
}

/// The multiply-rotate hash used by rustc: tag names are short and trusted to be few (capped),
/// so DoS-resistant SipHash buys nothing here and costs a noticeable share of the parse.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_have_fixed_ids() {
        let mut interner = Interner::default();
        assert_eq!(interner.intern(b"div"), Tag::DIV);
        assert_eq!(interner.intern(b"rect"), Tag::RECT);
        let custom = interner.intern(b"turbo-frame");
        assert_eq!(interner.intern(b"turbo-frame"), custom);
        assert_ne!(custom, Tag::OTHER);
    }

    #[test]
    fn interner_is_bounded() {
        let mut interner = Interner::default();
        for i in 0..(MAX_DISTINCT_TAGS * 2) {
            interner.intern(format!("x-{i}").as_bytes());
        }
        assert_eq!(interner.len(), MAX_DISTINCT_TAGS);
        assert_eq!(interner.intern(b"x-never-seen"), Tag::OTHER);
    }
}
