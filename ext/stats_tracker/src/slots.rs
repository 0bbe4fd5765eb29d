//! Admission to the pooling allocator: at most `engine::pool_slots()` stores hold an
//! instance at once, so instantiation never fails with wasmtime's pool-exhausted error;
//! a call beyond that waits here (without the GVL) for a slot, and the wait counts
//! against its timeout and ends on Thread#raise / Thread#kill / Timeout like the guest.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::call::CallControl;
use crate::engine;
use crate::errors::HostError;

/// How often a waiting call re-checks its cancel flag and deadline: the unblocking
/// function must stay async-signal-safe, so it cannot notify this condvar.
const POLL: Duration = Duration::from_millis(5);

struct Slots {
    in_use: Mutex<u32>,
    freed: Condvar,
}

static SLOTS: Slots = Slots {
    in_use: Mutex::new(0),
    freed: Condvar::new(),
};

/// One store's right to instantiate; dropping it (after the store) frees the slot.
pub struct Slot {
    counted: bool,
}

impl Slot {
    /// Waits for a free slot. Without a pool there is nothing to wait for.
    pub fn acquire(control: &CallControl, timeout: f64) -> Result<Slot, HostError> {
        let capacity = engine::pool_slots().map_err(HostError::Internal)?;
        if capacity == 0 {
            return Ok(Slot { counted: false });
        }
        let mut in_use = SLOTS
            .in_use
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while *in_use >= capacity {
            if control.was_cancelled() {
                return Err(HostError::Cancelled);
            }
            if control.expired() {
                return Err(HostError::Timeout(format!(
                    "guest exceeded its timeout of {timeout}s waiting for one of {capacity} instance slots \
                     (STATS_TRACKER_POOL_SLOTS)"
                )));
            }
            in_use = SLOTS
                .freed
                .wait_timeout(in_use, POLL)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        *in_use += 1;
        Ok(Slot { counted: true })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut in_use = SLOTS
            .in_use
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *in_use = in_use.saturating_sub(1);
        SLOTS.freed.notify_one();
    }
}
