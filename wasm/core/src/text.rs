//! Comparing page text by meaning: whitespace runs collapse, ASCII case is ignored.

use crate::precheck::is_html_whitespace;

/// True when `text`, whitespace-collapsed, is `phrase` (ASCII case-insensitive). `phrase` is
/// written with single spaces.
pub fn text_is(text: &[u8], phrase: &str) -> bool {
    let mut words = text
        .split(|b| is_html_whitespace(*b))
        .filter(|w| !w.is_empty());
    for expected in phrase.split(' ') {
        match words.next() {
            Some(word) if word.eq_ignore_ascii_case(expected.as_bytes()) => {}
            _ => return false,
        }
    }
    words.next().is_none()
}

/// True when `text` contains `needle` byte for byte.
pub fn contains(text: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return false;
    };
    let last_start = text.len().saturating_sub(needle.len());
    let mut from = 0;
    // Jump between occurrences of the first byte; most texts do not hold it at all.
    while let Some(offset) = text
        .get(from..=last_start)
        .and_then(|t| t.iter().position(|b| *b == first))
    {
        let at = from + offset;
        if text.get(at + 1..at + needle.len()) == Some(rest) {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_case_do_not_matter() {
        assert!(text_is(b"\n   Total downloads\n  ", "total downloads"));
        assert!(text_is(b"Total\tDownloads", "total downloads"));
        assert!(!text_is(
            b"Total downloads counts every pull",
            "total downloads"
        ));
        assert!(!text_is(b"Total", "total downloads"));
        assert!(!text_is(b"", "total downloads"));
    }

    #[test]
    fn substring_search() {
        assert!(contains(b"404 This is it", b"This is it"));
        assert!(contains(b"abc", b"abc"));
        assert!(contains(b"aab", b"ab"));
        assert!(!contains(b"ab", b"abc"));
        assert!(!contains(b"", b"a"));
        assert!(!contains(b"abc", b""));
    }
}
