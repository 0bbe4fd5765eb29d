//! Just enough URL handling for GitHub's own links (already entity-decoded by the tokenizer).

const GITHUB_ORIGINS: &[&[u8]] = &[
    b"https://github.com",
    b"http://github.com",
    b"//github.com",
    b"https://www.github.com",
];

/// The path-and-query of a link to github.com itself: root-relative links as they are, absolute
/// ones with the origin stripped. `None` for other hosts and for document-relative links.
pub fn github_path(href: &[u8]) -> Option<&[u8]> {
    let href = crate::count::trim(href);
    for origin in GITHUB_ORIGINS {
        if let Some(prefix) = href.get(..origin.len()) {
            if prefix.eq_ignore_ascii_case(origin) {
                let rest = href.get(origin.len()..).unwrap_or_default();
                return match rest.first() {
                    None => Some(b"/"),
                    Some(b'/' | b'?' | b'#') => Some(rest),
                    Some(_) => None,
                };
            }
        }
    }
    match href {
        [b'/', b'/', ..] => None,
        [b'/', ..] => Some(href),
        _ => None,
    }
}

/// The path without query and fragment.
pub fn path_only(path_and_query: &[u8]) -> &[u8] {
    let end = path_and_query
        .iter()
        .position(|b| matches!(b, b'?' | b'#'))
        .unwrap_or(path_and_query.len());
    path_and_query.get(..end).unwrap_or_default()
}

/// The raw (still percent-encoded) value of the first query parameter named `key`.
pub fn query_param<'a>(href: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let start = href.iter().position(|b| *b == b'?')?;
    let query = href.get(start + 1..)?;
    let end = query.iter().position(|b| *b == b'#').unwrap_or(query.len());
    query.get(..end)?.split(|b| *b == b'&').find_map(|pair| {
        let eq = pair.iter().position(|b| *b == b'=');
        let (k, v) = match eq {
            Some(i) => (pair.get(..i)?, pair.get(i + 1..)?),
            None => (pair, &[][..]),
        };
        (k == key).then_some(v)
    })
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
pub fn percent_decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b == b'%' {
            let hi = hex_value(*bytes.next()?)?;
            let lo = hex_value(*bytes.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The non-empty `/`-separated segments of a path.
pub fn segments(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|b| *b == b'/').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_paths() {
        assert_eq!(github_path(b"/session"), Some(&b"/session"[..]));
        assert_eq!(
            github_path(b"https://github.com/fluxcd/flux2"),
            Some(&b"/fluxcd/flux2"[..])
        );
        assert_eq!(github_path(b"https://github.community/x"), None);
        assert_eq!(github_path(b"https://example.org/session"), None);
        assert_eq!(github_path(b"//evil.example/session"), None);
        assert_eq!(github_path(b"session"), None);
    }

    #[test]
    fn query_params() {
        let href = b"/orgs/fluxcd/packages?page=2&per_page=10&visibility=public";
        assert_eq!(query_param(href, b"page"), Some(&b"2"[..]));
        assert_eq!(query_param(href, b"per_page"), Some(&b"10"[..]));
        assert_eq!(query_param(href, b"pag"), None);
        assert_eq!(query_param(b"/x?tag=v1#frag", b"tag"), Some(&b"v1"[..]));
        assert_eq!(query_param(b"/x", b"tag"), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode(b"charts%2Fflagger").as_deref(),
            Some("charts/flagger")
        );
        assert_eq!(percent_decode(b"bad%2"), None);
        assert_eq!(percent_decode(b"bad%zz"), None);
        assert_eq!(percent_decode(b"%ff"), None);
    }
}
