//! The tokenizer's input: the page bytes, read like html5gum's own `StringReader`, with a
//! delimiter search whose needle folds into constants on every target.
//!
//! html5gum's reader asks `<[u8]>::contains` whether a byte is a delimiter. Natively LLVM inlines
//! that `memchr` and folds the (constant) needle away; for wasm32 it does not, so every
//! `read_until` call built its search tests at run time with six or more out-of-line `memchr`
//! calls, and every 8-byte word looped over that run-time test list. That made the tokenizer
//! about twice as slow inside wasmtime as the same code natively. Comparing bytes in a plain
//! loop over the needle lets LLVM unroll it into a handful of compares on both targets.
//!
//! The chunks returned are exactly those of html5gum's reader (the tokenizer's positions, which
//! the scanner uses to detect truncation, depend on them): a lone delimiter byte, or the longest
//! run of bytes that holds none.

use std::convert::Infallible;

use html5gum::Reader;

pub(crate) struct SliceReader<'a> {
    input: &'a [u8],
}

impl<'a> SliceReader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        SliceReader { input }
    }
}

impl Reader for SliceReader<'_> {
    type Error = Infallible;

    #[inline(always)]
    fn read_byte(&mut self) -> Result<Option<u8>, Infallible> {
        let Some((&first, rest)) = self.input.split_first() else {
            return Ok(None);
        };
        self.input = rest;
        Ok(Some(first))
    }

    #[inline(always)]
    fn try_read_string(&mut self, s: &[u8], case_sensitive: bool) -> Result<bool, Infallible> {
        if let Some((head, rest)) = self.input.split_at_checked(s.len()) {
            if head == s || (!case_sensitive && head.eq_ignore_ascii_case(s)) {
                self.input = rest;
                return Ok(true);
            }
        }
        Ok(false)
    }

    #[inline(always)]
    fn read_until<'b>(
        &'b mut self,
        needle: &[u8],
        _char_buf: &'b mut [u8; 4],
    ) -> Result<Option<&'b [u8]>, Infallible> {
        if self.input.is_empty() {
            return Ok(None);
        }
        let (chunk, rest) = self.input.split_at(chunk_len(needle, self.input));
        self.input = rest;
        Ok(Some(chunk))
    }
}

/// Whether `b` is one of `needle`'s bytes. Deliberately not `needle.contains(&b)`: see the
/// module documentation.
#[inline(always)]
#[allow(clippy::manual_contains)] // `contains` is what this avoids
fn is_delimiter(needle: &[u8], b: u8) -> bool {
    needle.iter().any(|&n| n == b)
}

/// Length of the next chunk of non-empty `haystack`: 1 if it starts with a delimiter, else the
/// bytes up to (not including) the first delimiter, or all of it.
#[inline(always)]
fn chunk_len(needle: &[u8], haystack: &[u8]) -> usize {
    match haystack.first() {
        None => 0,
        Some(&b) if is_delimiter(needle, b) => 1,
        Some(_) => find_delimiter(needle, haystack, 1),
    }
}

const LO: u64 = u64::from_ne_bytes([0x01; 8]);
const HI: u64 = u64::from_ne_bytes([0x80; 8]);

/// Position of the first delimiter in `haystack` at or after `at`, or `haystack.len()`.
///
/// Eight bytes at a time: for each needle byte `n`, `y = word ^ splat(n)` has a zero byte where
/// the word holds `n`, and `(y - LO) & !y & HI` flags zero bytes. A borrow can flag bytes above a
/// real zero byte but never below one, so the lowest flagged byte over all needle bytes is exact.
/// Words are read little-endian so the lowest byte comes first in memory.
#[inline(always)]
fn find_delimiter(needle: &[u8], haystack: &[u8], mut at: usize) -> usize {
    while let Some(word) = haystack.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*word);
        let mut found = 0;
        for &n in needle {
            let y = x ^ (LO * u64::from(n));
            found |= y.wrapping_sub(LO) & !y & HI;
        }
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = haystack.get(at..).unwrap_or_default();
    match tail.iter().position(|&b| is_delimiter(needle, b)) {
        Some(i) => at + i,
        None => haystack.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The needles the tokenizer passes (with the `\r` its read helper appends), and a few that
    /// stress the bit tricks: NUL, bytes next to needle bytes, high-bit bytes.
    const NEEDLES: &[&[u8]] = &[
        b"\r",
        b"<\r",
        b"&<\r",
        b"\0\r",
        b"\x01\r",
        b"\x80\r",
        b"\xff\x7f\r",
        b"\t\n\x0c />\0\r",
        b"\t\n\x0c \"&'<=>`\0\r",
        b"\"&\0\r",
        b"&<\0\r",
        b"\t\n\x0c \r",
        b"\t\n\x0c >\0\r",
        b"\t\n\x0c />=\0\"'<\r",
    ];

    /// html5gum's contract, stated directly.
    fn naive_chunk_len(needle: &[u8], haystack: &[u8]) -> usize {
        match haystack.iter().position(|b| needle.contains(b)) {
            Some(pos) => pos.max(1),
            None => haystack.len(),
        }
    }

    fn check(needle: &[u8], haystack: &[u8]) {
        assert_eq!(
            chunk_len(needle, haystack),
            naive_chunk_len(needle, haystack),
            "needle={needle:?} haystack={haystack:?}"
        );
    }

    #[test]
    fn delimiter_at_every_offset_over_every_filler() {
        let fillers: &[u8] = &[
            b'a', 0x00, 0x01, 0x02, 0x04, 0x05, 0x08, b'\t', 0x0c, 0x0e, 0x1f, b' ', b'!', 0x7f,
            0x80, 0x81, 0x8d, 0xa1, 0xfe, 0xff,
        ];
        for needle in NEEDLES {
            for len in 0..40 {
                for &filler in fillers {
                    let haystack = vec![filler; len];
                    check(needle, &haystack);
                    for pos in 0..len {
                        for &hit in *needle {
                            let mut h = haystack.clone();
                            h[pos] = hit;
                            check(needle, &h);
                            if pos + 3 < len {
                                h[pos + 3] = hit;
                                check(needle, &h);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn random_haystacks_match_the_contract() {
        // xorshift: deterministic, no dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let needle = NEEDLES[(next() % NEEDLES.len() as u64) as usize];
            let len = (next() % 70) as usize;
            let haystack: Vec<u8> = (0..len)
                .map(|_| match next() % 4 {
                    0 => needle[(next() % needle.len() as u64) as usize],
                    1 => (next() % 0x22) as u8,
                    _ => next() as u8,
                })
                .collect();
            check(needle, &haystack);
        }
    }

    #[test]
    fn reads_like_html5gums_string_reader() {
        let mut reader = SliceReader::new(b"hello world");
        let mut chunks = Vec::new();
        let mut buf = [0; 4];
        while let Ok(Some(chunk)) = reader.read_until(b" r", &mut buf) {
            chunks.push(String::from_utf8_lossy(chunk).into_owned());
        }
        assert_eq!(chunks, ["hello", " ", "wo", "r", "ld"]);

        let mut reader = SliceReader::new(b"DocType x");
        assert_eq!(reader.try_read_string(b"doctype", false), Ok(true));
        assert_eq!(reader.try_read_string(b"X", true), Ok(false));
        assert_eq!(reader.read_byte(), Ok(Some(b' ')));
        assert_eq!(reader.try_read_string(b"xy", true), Ok(false));
        assert_eq!(reader.read_byte(), Ok(Some(b'x')));
        assert_eq!(reader.read_byte(), Ok(None));
    }
}
