//! One guest call's stop conditions: a wall-clock deadline and a cancel flag set by
//! Ruby's unblocking function. Both are checked from the epoch-deadline callback while
//! wasm runs, and by the executor while the guest waits in a host call, so stopping one
//! call never disturbs calls running in other threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, UpdateDeadline};

/// Why the host stopped a guest; travels inside the wasmtime error so the caller can
/// tell it apart from a trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    TimedOut,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::TimedOut => f.write_str("guest exceeded its time limit"),
        }
    }
}

impl std::error::Error for Stopped {}

#[derive(Clone)]
pub struct CallControl {
    cancelled: Arc<AtomicBool>,
    deadline: Instant,
    /// The timeout as given, for messages.
    seconds: f64,
}

impl CallControl {
    /// `timeout` in seconds; non-finite or huge values are clamped to a day.
    pub fn new(timeout: f64) -> Self {
        let secs = if timeout.is_finite() {
            timeout.clamp(0.0, 86_400.0)
        } else {
            86_400.0
        };
        CallControl {
            cancelled: Arc::new(AtomicBool::new(false)),
            deadline: Instant::now() + Duration::from_secs_f64(secs),
            seconds: timeout,
        }
    }

    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancelled
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    pub fn timeout_seconds(&self) -> f64 {
        self.seconds
    }

    pub fn was_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Arms `store` so each epoch tick re-checks this call's deadline and flag. A
    /// cancelled call yields to the executor, which pauses it (the caller decides
    /// whether to resume or drop it); an expired one traps.
    pub fn arm<T: 'static>(&self, store: &mut Store<T>) {
        let control = self.clone();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if control.expired() {
                Err(wasmtime::Error::new(Stopped::TimedOut))
            } else if control.was_cancelled() {
                Ok(UpdateDeadline::Yield(1))
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
    }
}
