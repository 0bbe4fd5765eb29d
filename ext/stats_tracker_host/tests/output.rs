//! The capped stdout/stderr pipe.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use stats_tracker_host::output::{CappedOutput, OutputLimitExceeded};
use tokio::io::AsyncWrite;
use wasmtime_wasi::p2::{OutputStream, StreamError};

#[test]
fn writes_within_the_cap_are_kept_and_taken_once() {
    let mut out = CappedOutput::new(8);
    assert!(OutputStream::write(&mut out, Bytes::from_static(b"abc")).is_ok());
    assert!(OutputStream::write(&mut out, Bytes::from_static(b"defgh")).is_ok());
    assert!(!out.overflowed());
    assert_eq!(out.take(), b"abcdefgh");
    assert!(out.take().is_empty());
}

#[test]
fn a_write_past_the_cap_traps_keeps_nothing_of_it_and_is_remembered() {
    let mut out = CappedOutput::new(4);
    assert!(OutputStream::write(&mut out, Bytes::from_static(b"abc")).is_ok());
    match OutputStream::write(&mut out, Bytes::from_static(b"de")) {
        Err(StreamError::Trap(err)) => assert!(err.is::<OutputLimitExceeded>()),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(out.overflowed());
    assert_eq!(out.take(), b"abc");
}

#[test]
fn clones_share_one_buffer_so_the_host_sees_what_the_guest_wrote() {
    let out = CappedOutput::new(16);
    let mut guest_side = out.clone();
    assert!(OutputStream::write(&mut guest_side, Bytes::from_static(b"hi")).is_ok());
    assert_eq!(out.take(), b"hi");
}

#[test]
fn the_async_writer_refuses_an_oversized_write_with_the_limit_as_its_cause() {
    let mut out = CappedOutput::new(2);
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut out).poll_write(&mut cx, b"abc") {
        Poll::Ready(Err(err)) => {
            assert!(err.get_ref().is_some_and(|e| e.is::<OutputLimitExceeded>()))
        }
        other => panic!("expected a refused write, got {other:?}"),
    }
    assert!(out.overflowed());
    assert!(matches!(
        Pin::new(&mut CappedOutput::new(2)).poll_write(&mut cx, b"ab"),
        Poll::Ready(Ok(2))
    ));
}
