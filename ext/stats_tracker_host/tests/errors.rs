//! How a failed guest call is classified before it reaches Ruby.

use stats_tracker_host::call::Stopped;
use stats_tracker_host::errors::{panic_message, HostError, Observed};
use stats_tracker_host::output::OutputLimitExceeded;
use wasmtime::Trap;

fn observed() -> Observed {
    Observed {
        memory_limit: 100,
        memory_cap_hit: false,
        output_limit: 10,
        output_overflowed: false,
        timeout: 2.5,
    }
}

#[test]
fn the_deadline_wins_over_everything_else_the_store_saw() {
    let err = wasmtime::Error::new(Stopped::TimedOut);
    let seen = Observed {
        memory_cap_hit: true,
        output_overflowed: true,
        ..observed()
    };
    assert_eq!(
        HostError::from_run(&err, &seen),
        HostError::Timeout("guest exceeded its timeout of 2.5s".into())
    );
}

#[test]
fn an_output_overflow_is_a_resource_limit_whether_the_guest_trapped_or_not() {
    let expected =
        HostError::ResourceLimit("guest output exceeded output_limit of 10 bytes".into());
    let trapped = wasmtime::Error::new(Trap::UnreachableCodeReached);
    let overflowed = Observed {
        output_overflowed: true,
        ..observed()
    };
    assert_eq!(HostError::from_run(&trapped, &overflowed), expected);
    let refused = wasmtime::Error::new(OutputLimitExceeded);
    assert_eq!(HostError::from_run(&refused, &observed()), expected);
}

#[test]
fn a_refused_allocation_is_reported_as_the_memory_limit_not_as_the_guests_abort() {
    let err = wasmtime::Error::new(Trap::UnreachableCodeReached);
    let seen = Observed {
        memory_cap_hit: true,
        ..observed()
    };
    assert_eq!(
        HostError::from_run(&err, &seen),
        HostError::ResourceLimit("guest exceeded memory_limit of 100 bytes".into())
    );
}

#[test]
fn a_trap_is_named_by_its_code() {
    let err = wasmtime::Error::new(Trap::IntegerDivisionByZero);
    assert_eq!(
        HostError::from_run(&err, &observed()),
        HostError::Trap(Trap::IntegerDivisionByZero.to_string())
    );
}

#[test]
fn another_failure_keeps_its_whole_context_chain() {
    let err = wasmtime::Error::msg("no such export").context("cannot instantiate");
    assert_eq!(
        HostError::from_run(&err, &observed()),
        HostError::Trap("cannot instantiate: no such export".into())
    );
}

#[test]
fn a_trap_carries_the_tail_of_the_guests_stderr() {
    let trap = HostError::Trap("wasm trap".into());
    assert_eq!(
        trap.with_guest_stderr(b"panicked at src/main.rs"),
        HostError::Trap("wasm trap\nguest stderr:\npanicked at src/main.rs".into())
    );
    let long = [b"x".repeat(10_000), b"END".to_vec()].concat();
    match HostError::Trap("t".into()).with_guest_stderr(&long) {
        HostError::Trap(message) => {
            assert!(message.ends_with("xEND"));
            assert_eq!(message.len(), "t\nguest stderr:\n".len() + 4096);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_traps_take_stderr() {
    let timeout = HostError::Timeout("late".into());
    assert_eq!(
        timeout.with_guest_stderr(b"noise"),
        HostError::Timeout("late".into())
    );
    assert_eq!(
        HostError::Trap("t".into()).with_guest_stderr(b""),
        HostError::Trap("t".into())
    );
}

#[test]
fn a_panic_payload_becomes_its_message() {
    assert_eq!(panic_message(&"static"), "static");
    assert_eq!(panic_message(&String::from("owned")), "owned");
    assert_eq!(panic_message(&42_u8), "panic with a non-string payload");
}
