//! Counts and dates as GHCR pages write them.

use crate::precheck::is_html_whitespace;

/// Parses an exact count: ASCII digits with optional `,` thousands separators (first group of 1–3
/// digits, then groups of exactly 3), surrounding whitespace ignored. Abbreviations such as
/// `4.1B` or `12.3k` are display text and are refused, never expanded. `None` also when the
/// value does not fit in a u64.
pub fn parse_count(raw: &[u8]) -> Option<u64> {
    let digits = trim(raw);
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    let mut group_len = 0usize;
    let mut seen_separator = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                group_len += 1;
                if seen_separator && group_len > 3 {
                    return None;
                }
                value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            }
            b',' => {
                let lead_ok = !seen_separator && (1..=3).contains(&group_len);
                if !(lead_ok || (seen_separator && group_len == 3)) {
                    return None;
                }
                seen_separator = true;
                group_len = 0;
            }
            _ => return None,
        }
    }
    if seen_separator && group_len != 3 {
        return None;
    }
    Some(value)
}

/// True when the text looks like a count (digits and commas only), whether or not it is a
/// well-formed one; used to spot the figure among other short texts of a row.
pub fn looks_like_count(raw: &[u8]) -> bool {
    let t = trim(raw);
    matches!(t.first(), Some(b'0'..=b'9')) && t.iter().all(|b| b.is_ascii_digit() || *b == b',')
}

/// True for an ISO-8601 calendar date `YYYY-MM-DD` with a plausible month and day.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = b else {
        return false;
    };
    let all_digits = [y0, y1, y2, y3, m0, m1, d0, d1]
        .iter()
        .all(|c| c.is_ascii_digit());
    if !all_digits {
        return false;
    }
    let month = (m0 - b'0') * 10 + (m1 - b'0');
    let day = (d0 - b'0') * 10 + (d1 - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Strips HTML whitespace from both ends.
pub fn trim(raw: &[u8]) -> &[u8] {
    let start = raw
        .iter()
        .position(|b| !is_html_whitespace(*b))
        .unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|b| !is_html_whitespace(*b))
        .map_or(start, |i| i + 1);
    raw.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_separated_counts() {
        assert_eq!(parse_count(b"0"), Some(0));
        assert_eq!(parse_count(b" 42\n"), Some(42));
        assert_eq!(parse_count(b"1,234"), Some(1234));
        assert_eq!(parse_count(b"12,345,678"), Some(12_345_678));
        assert_eq!(parse_count(b"4,294,967,296"), Some(4_294_967_296));
        assert_eq!(parse_count(b"18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn above_u64_is_refused() {
        assert_eq!(parse_count(b"18446744073709551616"), None);
        assert_eq!(parse_count(b"99,999,999,999,999,999,999"), None);
    }

    #[test]
    fn abbreviations_are_never_expanded() {
        for s in ["4.1B", "355M", "12.3k", "1.2K", "7K", "1e6", "1.5"] {
            assert_eq!(parse_count(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn bad_separators_are_refused() {
        for s in [
            ",123", "123,", "1,23", "1,2345", "1234,567", "1,,234", "", " ", "-1", "+1",
        ] {
            assert_eq!(parse_count(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn dates() {
        assert!(is_iso_date("2026-10-14"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("2026-1-01"));
        assert!(!is_iso_date("2026-10-14T00:00"));
    }
}
