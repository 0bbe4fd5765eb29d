//! Limits and decoys through the public entry points, on inputs too big or too odd to store as
//! fixtures.

use ghcr_parser_core::{
    parse_listing, parse_package, parse_versions, Reject, MAX_DEPTH, MAX_INPUT_BYTES,
};

fn page(body: &str) -> Vec<u8> {
    format!("<!DOCTYPE html><html><head><title>Package x · GitHub</title></head><body>{body}</body></html>")
        .into_bytes()
}

#[test]
fn input_over_the_cap_is_too_large_for_every_entry_point() {
    let mut input = page(r#"<span>Total downloads</span><h3 title="1">1</h3>"#);
    input.resize(MAX_INPUT_BYTES + 1, b' ');
    assert_eq!(parse_package(&input), Err(Reject::TooLarge));
    assert_eq!(parse_versions(&input), Err(Reject::TooLarge));
    assert_eq!(parse_listing(&input), Err(Reject::TooLarge));
}

#[test]
fn input_at_the_cap_is_parsed() {
    let mut input = page(r#"<span>Total downloads</span><h3 title="1">1</h3>"#);
    input.resize(MAX_INPUT_BYTES, b' ');
    assert_eq!(parse_package(&input).map(|s| s.total_downloads), Ok(1));
}

#[test]
fn nesting_at_the_limit_passes_and_one_more_is_too_deep() {
    // <html>, <body> and the <h3> (or <span>) make three levels besides the divs.
    let body = |divs: usize| {
        format!(
            r#"{}<span>Total downloads</span><h3 title="5">5</h3>{}"#,
            "<div>".repeat(divs),
            "</div>".repeat(divs)
        )
    };
    let at_limit = MAX_DEPTH - 3;
    assert_eq!(
        parse_package(&page(&body(at_limit))).map(|s| s.total_downloads),
        Ok(5)
    );
    assert_eq!(
        parse_package(&page(&body(at_limit + 1))),
        Err(Reject::TooDeep)
    );
}

#[test]
fn a_million_unclosed_elements_are_rejected_not_overflowing() {
    let input = page(&"<span>".repeat(1_000_000));
    assert_eq!(parse_package(&input), Err(Reject::TooDeep));
}

#[test]
fn many_stray_end_tags_are_ignored() {
    let body = format!(
        r#"{}<span>Total downloads</span><h3 title="8">8</h3>"#,
        "</div></p></li>".repeat(100_000)
    );
    assert_eq!(
        parse_package(&page(&body)).map(|s| s.total_downloads),
        Ok(8)
    );
}

#[test]
fn count_above_u32_and_separators() {
    let input = page(r#"<span>Total downloads</span><h3 title="12,345,678,901">12.3B</h3>"#);
    assert_eq!(
        parse_package(&input).map(|s| s.total_downloads),
        Ok(12_345_678_901)
    );
}

#[test]
fn abbreviated_counts_are_never_expanded() {
    for title in ["355M", "4.1B", "12.3k", "1K", "1.2e9"] {
        let input = page(&format!(
            r#"<span>Total downloads</span><h3 title="{title}">{title}</h3>"#
        ));
        assert_eq!(
            parse_package(&input),
            Err(Reject::MalformedCount),
            "{title}"
        );
    }
}

#[test]
fn differing_totals_are_ambiguous_but_malformed_wins() {
    let two = page(
        r#"<span>Total downloads</span><h3 title="1">1</h3><span>Total downloads</span><h3 title="2">2</h3>"#,
    );
    assert_eq!(parse_package(&two), Err(Reject::Ambiguous));
    let bad = page(
        r#"<span>Total downloads</span><h3 title="1">1</h3><span>Total downloads</span><h3 title="x">x</h3>"#,
    );
    assert_eq!(parse_package(&bad), Err(Reject::MalformedCount));
}

#[test]
fn label_in_attribute_or_script_is_not_a_label() {
    let input = page(
        r#"<span title="Total downloads">x</span><h3 title="9">9</h3><script>"Total downloads"</script><h3 title="7">7</h3>"#,
    );
    assert_eq!(parse_package(&input), Err(Reject::NoStatistics));
}

#[test]
fn statistics_win_over_a_stray_page_type_signal() {
    let input = page(r#"<h1>Whoa there!</h1><span>Total downloads</span><h3 title="3">3</h3>"#);
    assert_eq!(parse_package(&input).map(|s| s.total_downloads), Ok(3));
}
