//! Cheap whole-input checks that run before any tokenizing: `empty`, `not_html`, `too_large`.

use crate::Reject;

/// Largest page accepted, in bytes (16 MiB). Real pages are 150–400 KB; anything far larger is
/// not a GHCR page and would only cost the sandbox memory.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Returns the input (valid UTF-8 without NUL) when it may be an HTML page, or the first reason
/// (in the corpus order) why it cannot be one.
pub fn precheck(input: &[u8]) -> Result<&[u8], Reject> {
    if input.iter().all(|b| is_html_whitespace(*b)) {
        return Err(Reject::Empty);
    }
    if !is_utf8_without_nul(input) {
        return Err(Reject::NotHtml);
    }
    // Compressed or binary data that happens to be valid UTF-8, or a JSON/plain-text error
    // body, does not start with markup; every HTML page does (doctype, tag or comment).
    let body = input.strip_prefix(UTF8_BOM).unwrap_or(input);
    if body.iter().find(|b| !is_html_whitespace(**b)) != Some(&b'<') {
        return Err(Reject::NotHtml);
    }
    if input.len() > MAX_INPUT_BYTES {
        return Err(Reject::TooLarge);
    }
    Ok(input)
}

const LO: u64 = u64::from_ne_bytes([0x01; 8]);
const HI: u64 = u64::from_ne_bytes([0x80; 8]);

/// `!input.contains(&0) && std::str::from_utf8(input).is_ok()` in one pass, eight bytes at a
/// time. Pages are ASCII but for a few dozen bytes; inside wasmtime the two library passes
/// (a `memchr` and `from_utf8`, both four bytes per step on wasm32's `usize`) cost about 6% of
/// a parse. Non-ASCII sequences are checked one character at a time by `from_utf8`.
#[inline(never)]
fn is_utf8_without_nul(input: &[u8]) -> bool {
    let mut nul = 0;
    let mut at = 0;
    // 32 bytes a step: fewer loop iterations, and so fewer of wasmtime's epoch checks.
    while let Some(block) = input.get(at..).and_then(<[u8]>::first_chunk::<32>) {
        let mut high = 0;
        for word in block.chunks_exact(8) {
            let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
            // Flags a zero byte (exactly, as far as "is there one" goes).
            nul |= x.wrapping_sub(LO) & !x & HI;
            high |= x;
        }
        if high & HI == 0 {
            at += 32;
            continue;
        }
        // A non-ASCII byte: check this block byte by byte, one character at a time.
        let end = at + 32;
        while at < end {
            at = match input.get(at) {
                Some(b) if b.is_ascii() => at + 1,
                _ => match utf8_char_at(input, at) {
                    Some(len) => at + len,
                    None => return false,
                },
            };
        }
    }
    while at < input.len() {
        at = match input.get(at) {
            Some(0) => return false,
            Some(b) if b.is_ascii() => at + 1,
            _ => match utf8_char_at(input, at) {
                Some(len) => at + len,
                None => return false,
            },
        };
    }
    nul == 0
}

/// Length of the valid UTF-8 character starting at `input[at]` (a non-ASCII byte), or `None`
/// when the bytes there are not one.
fn utf8_char_at(input: &[u8], at: usize) -> Option<usize> {
    let len = match input.get(at)? {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let bytes = input.get(at..at.checked_add(len)?)?;
    std::str::from_utf8(bytes).ok().map(|_| len)
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

    /// The one-pass check agrees with the two library calls it replaces.
    #[test]
    fn utf8_without_nul_matches_the_library() {
        let reference = |b: &[u8]| !b.contains(&0) && std::str::from_utf8(b).is_ok();
        let pieces: &[&[u8]] = &[
            b"a",
            b"<p>",
            b"\0",
            b"\x7f",
            "\u{e9}".as_bytes(),
            "\u{20ac}".as_bytes(),
            "\u{1f600}".as_bytes(),
            "\u{fffd}".as_bytes(),
            b"\xc0\x80",
            b"\xc1\xbf",
            b"\xc2",
            b"\xe0\x80\x80",
            b"\xed\xa0\x80",
            b"\xef\xbf",
            b"\xf0\x8f\xbf\xbf",
            b"\xf4\x90\x80\x80",
            b"\xf5\x80\x80\x80",
            b"\x80",
            b"\xbf",
            b"\xff",
            b"\xfe",
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..50_000 {
            let mut input = Vec::new();
            for _ in 0..next() % 12 {
                match next() % 3 {
                    0 => input.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]),
                    1 => input.extend(std::iter::repeat_n(b'x', (next() % 20) as usize)),
                    _ => input.push(next() as u8),
                }
            }
            assert_eq!(is_utf8_without_nul(&input), reference(&input), "{input:?}");
        }
        for input in pieces {
            for pad in 0..10 {
                let mut padded = vec![b' '; pad];
                padded.extend_from_slice(input);
                assert_eq!(
                    is_utf8_without_nul(&padded),
                    reference(&padded),
                    "{padded:?}"
                );
            }
        }
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
