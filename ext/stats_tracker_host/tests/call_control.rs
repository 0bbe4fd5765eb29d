//! One call's deadline and cancel flag.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use stats_tracker_host::call::CallControl;

#[test]
fn a_call_with_time_left_is_neither_expired_nor_cancelled() {
    let control = CallControl::new(60.0);
    assert!(!control.expired());
    assert!(!control.was_cancelled());
    assert_eq!(control.timeout_seconds(), 60.0);
}

#[test]
fn a_zero_or_negative_timeout_has_expired_at_once() {
    assert!(CallControl::new(0.0).expired());
    assert!(CallControl::new(-5.0).expired());
}

#[test]
fn non_finite_and_huge_timeouts_are_clamped_to_a_day_but_reported_as_given() {
    for timeout in [f64::NAN, f64::INFINITY, 1e300] {
        let control = CallControl::new(timeout);
        let left = control.deadline().saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(86_400 - 60),
            "{timeout}: {left:?}"
        );
        assert!(left <= Duration::from_secs(86_400), "{timeout}: {left:?}");
        assert!(!control.expired());
    }
    assert!(CallControl::new(f64::INFINITY)
        .timeout_seconds()
        .is_infinite());
}

#[test]
fn clones_share_the_cancel_flag_and_the_deadline() {
    let control = CallControl::new(60.0);
    let clone = control.clone();
    clone.cancel_flag().store(true, Ordering::Release);
    assert!(control.was_cancelled());
    assert_eq!(control.deadline(), clone.deadline());
}
