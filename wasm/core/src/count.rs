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

/// True for an ISO-8601 calendar date `YYYY-MM-DD` that exists in the proleptic Gregorian
/// calendar (so `2026-02-30` and `2025-02-29` do not): the host turns dates into its own
/// calendar types and must never be handed one it would refuse.
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
    let digit = |c: &u8| u32::from(c - b'0');
    let year = digit(y0) * 1000 + digit(y1) * 100 + digit(y2) * 10 + digit(y3);
    let month = digit(m0) * 10 + digit(m1);
    let day = digit(d0) * 10 + digit(d1);
    (1..=days_in_month(year, month)).contains(&day)
}

/// 0 for a month that does not exist.
fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
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

    #[test]
    fn dates_that_no_calendar_has_are_refused() {
        for s in [
            "2026-02-30",
            "2026-02-29",
            "2025-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-00-10",
            "2026-05-00",
        ] {
            assert!(!is_iso_date(s), "{s}");
        }
        for s in [
            "2028-02-29",
            "2000-02-29",
            "2026-01-31",
            "2026-12-31",
            "2026-04-30",
        ] {
            assert!(is_iso_date(s), "{s}");
        }
    }
}
