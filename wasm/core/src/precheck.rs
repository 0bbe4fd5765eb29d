//! Cheap whole-input checks that run before any tokenizing: `empty`, `not_html`, `too_large`.

use crate::Reject;

/// Largest page accepted, in bytes (16 MiB). Real pages are 150–400 KB; anything far larger is
/// not a GHCR page and would only cost the sandbox memory.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Returns the input as text when it may be an HTML page, or the first reason (in the corpus
/// order) why it cannot be one.
pub fn precheck(input: &[u8]) -> Result<&str, Reject> {
    if input.iter().all(|b| is_html_whitespace(*b)) {
        return Err(Reject::Empty);
    }
    if input.contains(&0) {
        return Err(Reject::NotHtml);
    }
    let Ok(text) = std::str::from_utf8(input) else {
        return Err(Reject::NotHtml);
    };
    // Compressed or binary data that happens to be valid UTF-8, or a JSON/plain-text error
    // body, does not start with markup; every HTML page does (doctype, tag or comment).
    let body = input.strip_prefix(UTF8_BOM).unwrap_or(input);
    if body.iter().find(|b| !is_html_whitespace(**b)) != Some(&b'<') {
        return Err(Reject::NotHtml);
    }
    if input.len() > MAX_INPUT_BYTES {
        return Err(Reject::TooLarge);
    }
    Ok(text)
}

/// ASCII whitespace as HTML defines it (tab, LF, FF, CR, space).
pub(crate) fn is_html_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(precheck(b""), Err(Reject::Empty));
        assert_eq!(precheck(b" \n\t\r\x0C"), Err(Reject::Empty));
    }

    #[test]
    fn binary_is_not_html() {
        assert_eq!(precheck(b"<html>\0</html>"), Err(Reject::NotHtml));
        assert_eq!(precheck(b"\x1f\x8b\x08\x00"), Err(Reject::NotHtml));
        assert_eq!(precheck(b"<p>\xff</p>"), Err(Reject::NotHtml));
        assert_eq!(
            precheck(b"{\"message\":\"Not Found\"}"),
            Err(Reject::NotHtml)
        );
    }

    #[test]
    fn markup_passes_with_bom_and_leading_space() {
        assert!(precheck(b"\xEF\xBB\xBF  <!DOCTYPE html><p>x").is_ok());
    }

    #[test]
    fn oversized_markup_is_too_large() {
        let mut big = b"<html>".to_vec();
        big.resize(MAX_INPUT_BYTES + 1, b'a');
        assert_eq!(precheck(&big), Err(Reject::TooLarge));
        big.truncate(MAX_INPUT_BYTES);
        assert!(precheck(&big).is_ok());
    }
}
