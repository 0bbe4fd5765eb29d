//! Admission to the instance pool, with a pool of one slot (this test binary's own
//! process, so the setting is read before anything makes the engine).

mod common;

use std::time::Duration;

use common::finish;
use stats_tracker_host::call::CallControl;
use stats_tracker_host::engine;
use stats_tracker_host::errors::HostError;
use stats_tracker_host::slots::Slot;

fn acquire(timeout: f64) -> Result<Slot, HostError> {
    let control = CallControl::new(timeout);
    finish(Slot::acquire(&control), &control)
}

#[test]
fn a_call_waits_for_a_free_slot_and_times_out_if_none_frees() {
    std::env::set_var("STATS_TRACKER_POOL_SLOTS", "1");
    assert_eq!(engine::pool_slots().ok(), Some(1));

    let held = acquire(30.0);
    assert!(held.is_ok());
    match acquire(0.2) {
        Err(HostError::Timeout(message)) => {
            assert!(message.contains("one of 1 instance slots"), "{message}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }

    // A waiter is woken by the release, long before its own deadline.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        drop(held);
    });
    assert!(acquire(600.0).is_ok());
    assert!(releaser.join().is_ok());
    assert!(acquire(30.0).is_ok());
}
