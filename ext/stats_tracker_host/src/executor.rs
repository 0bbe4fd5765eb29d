//! Drives one guest call (a wasmtime async future) on the calling thread until it
//! finishes, its deadline passes, or the caller is interrupted.
//!
//! Guests run on wasmtime's own fiber stacks, so their recursion never depends on how
//! much of the caller's native stack (a Ruby Fiber, a small-stack thread) is left. A
//! guest blocked in a WASI host call (a clock sleep, a FIFO) is a pending future here,
//! so the deadline and cancellation are noticed while it waits, not after. An interrupt
//! only pauses the call: the future is kept and can be resumed, which lets a harmless
//! interrupt (a signal whose trap handler returns) leave the call running.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};
use tokio::time::{Interval, MissedTickBehavior};

use crate::call::CallControl;
use crate::per_process;

/// How often a pending call re-checks its cancel flag and deadline. The unblocking
/// function must stay async-signal-safe, so it cannot wake the executor itself.
const POLL: Duration = Duration::from_millis(5);

/// How far one `drive` got.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    Done(T),
    /// The cancel flag was set: the call is paused, not dropped.
    Interrupted,
    /// The deadline passed while the guest waited in the host.
    Expired,
}

/// A per-thread, single-threaded tokio runtime: WASI's host calls need one for their
/// timers and blocking file operations. Per thread so each call drives its own timers
/// and no worker thread is shared; remembered with its process generation because a
/// forked child inherits the value but none of the runtime's threads.
struct ThreadRuntime {
    generation: u64,
    runtime: Option<Runtime>,
}

impl Drop for ThreadRuntime {
    fn drop(&mut self) {
        // A guest may have left a blocking task stuck (an open(2) of a FIFO nobody
        // writes): do not wait for it when the thread exits.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

thread_local! {
    static RUNTIME: RefCell<Option<ThreadRuntime>> = const { RefCell::new(None) };
}

fn with_runtime<R>(f: impl FnOnce(&Runtime) -> R) -> std::io::Result<R> {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let generation = per_process::generation();
        if slot.as_ref().is_some_and(|rt| rt.generation != generation) {
            // Inherited across fork: its threads do not exist here, so shutting it down
            // could wait forever. Leak it instead.
            if let Some(inherited) = slot.take() {
                std::mem::forget(inherited);
            }
        }
        if slot.is_none() {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            *slot = Some(ThreadRuntime {
                generation,
                runtime: Some(runtime),
            });
        }
        match slot.as_ref().and_then(|rt| rt.runtime.as_ref()) {
            Some(runtime) => Ok(f(runtime)),
            None => Err(std::io::Error::other("no runtime")),
        }
    })
}

/// Polls `future` until it is ready, `control` is cancelled, or (while the future is
/// pending) its deadline passes. Must not be called re-entrantly on one thread.
pub fn drive<F: Future + ?Sized>(
    future: Pin<&mut F>,
    control: &CallControl,
) -> std::io::Result<Step<F::Output>> {
    let mut future = future;
    with_runtime(|runtime| {
        let mut ticks: Option<Interval> = None;
        runtime.block_on(std::future::poll_fn(|cx: &mut Context<'_>| {
            if let Poll::Ready(value) = future.as_mut().poll(cx) {
                return Poll::Ready(Step::Done(value));
            }
            if control.was_cancelled() {
                return Poll::Ready(Step::Interrupted);
            }
            if control.expired() {
                return Poll::Ready(Step::Expired);
            }
            let ticks = ticks.get_or_insert_with(|| {
                let mut interval = tokio::time::interval(POLL);
                interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
                interval
            });
            // Register for the next tick (the first one completes at once).
            while ticks.poll_tick(cx).is_ready() {}
            Poll::Pending
        }))
    })
}

/// Drops a guest call, finished or not. An unfinished one unwinds its guest (wasmtime
/// resumes the fiber with an error), which may drop tokio timers and tasks: done inside
/// this thread's runtime so they find it.
pub fn dispose<F: ?Sized>(future: Pin<Box<F>>) {
    let mut future = Some(future);
    let _ = with_runtime(|runtime| {
        let _inside = runtime.enter();
        drop(future.take());
    });
    drop(future);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn a_ready_future_is_done_at_once() {
        let control = CallControl::new(5.0);
        let mut future = Box::pin(async { 7 });
        assert_eq!(drive(future.as_mut(), &control).ok(), Some(Step::Done(7)));
    }

    #[test]
    fn a_pending_future_expires_at_its_deadline() {
        let control = CallControl::new(0.05);
        // Made inside the async block: a tokio timer needs the runtime `drive` enters.
        let mut future = Box::pin(async { tokio::time::sleep(Duration::from_secs(60)).await });
        assert_eq!(drive(future.as_mut(), &control).ok(), Some(Step::Expired));
    }

    #[test]
    fn a_cancelled_call_pauses_and_can_be_resumed() {
        let control = CallControl::new(60.0);
        let flag = control.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            flag.cancel_flag().store(true, Ordering::Release);
        });
        let mut future = Box::pin(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            "slept"
        });
        assert_eq!(
            drive(future.as_mut(), &control).ok(),
            Some(Step::Interrupted)
        );
        assert!(canceller.join().is_ok());
        control.cancel_flag().store(false, Ordering::Release);
        assert_eq!(
            drive(future.as_mut(), &control).ok(),
            Some(Step::Done("slept"))
        );
    }
}
