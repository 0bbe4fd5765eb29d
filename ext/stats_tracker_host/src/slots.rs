//! Admission to the pooling allocator: at most `engine::pool_slots()` stores hold an
//! instance at once, so instantiation never fails with wasmtime's pool-exhausted error;
//! a call beyond that waits here for a slot, and the wait counts against its timeout
//! and pauses on Thread#raise / Thread#kill / Timeout like the guest itself.
//!
//! The count belongs to one process, like the engine whose pool it guards: a forked
//! child starts with every slot free in its own engine's pool, whatever the parent's
//! other threads held at the fork, and with no waiter left over from them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::call::CallControl;
use crate::engine;
use crate::errors::HostError;
use crate::per_process::PerProcess;

/// Longest a waiter sleeps between looks at the count.
const RECHECK: Duration = Duration::from_millis(50);

struct Pool {
    in_use: AtomicU32,
    freed: Notify,
}

impl Pool {
    fn try_take(&self, capacity: u32) -> bool {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .is_ok()
    }
}

static POOL: PerProcess<Pool> = PerProcess::new();

fn pool() -> &'static Pool {
    POOL.get(|| Pool {
        in_use: AtomicU32::new(0),
        freed: Notify::new(),
    })
}

/// One store's right to instantiate; dropping it (after the store) frees the slot.
pub struct Slot {
    pool: Option<&'static Pool>,
}

impl Slot {
    /// Waits for a free slot. Without a pool there is nothing to wait for.
    pub async fn acquire(control: &CallControl) -> Result<Slot, HostError> {
        let capacity = engine::pool_slots().map_err(HostError::Internal)?;
        if capacity == 0 {
            return Ok(Slot { pool: None });
        }
        let pool = pool();
        loop {
            // Registered as a waiter before trying, so a release in between wakes us.
            let mut freed = std::pin::pin!(pool.freed.notified());
            freed.as_mut().enable();
            if pool.try_take(capacity) {
                return Ok(Slot { pool: Some(pool) });
            }
            if control.expired() {
                return Err(HostError::Timeout(format!(
                    "guest exceeded its timeout of {}s waiting for one of {capacity} instance slots \
                     (STATS_TRACKER_POOL_SLOTS)",
                    control.timeout_seconds()
                )));
            }
            // Woken by a release, or by the deadline to report the timeout; the short
            // bound only guards against a lost wake-up.
            let wake_by = control.deadline().min(Instant::now() + RECHECK);
            let _ = tokio::time::timeout_at(wake_by.into(), freed).await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(pool) = self.pool {
            pool.in_use.fetch_sub(1, Ordering::AcqRel);
            pool.freed.notify_one();
        }
    }
}
