//! State that belongs to one process and is made again in a forked child.
//!
//! fork(2) copies memory but only the forking thread. What the parent's other threads
//! were using at that moment (a lock, an instance slot, a runtime's worker threads) stays
//! frozen mid-use in the child, and nothing there will ever release it. So each value
//! kept here is made once per process: the first use in a child makes a fresh one. The
//! parent's copy is leaked in the child, never dropped: dropping it could wait on a lock
//! or a thread that does not exist there, or return slots that calls frozen in the copied
//! memory still count as theirs.
//!
//! The process is told apart by a generation that a `pthread_atfork` child handler
//! bumps, not by getpid(2): that is a system call, several checks run on every guest
//! call, and this is one atomic load. A child made without glibc's
//! fork() (a raw clone) is not seen; posix_spawn and vfork children exec at once.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;

static GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn forked() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Registers the fork handler; idempotent. Without it a child would reuse the parent's
/// frozen state, so failing to register fails loading the extension.
pub fn watch_forks() -> Result<(), String> {
    static REGISTERED: OnceLock<i32> = OnceLock::new();
    // SAFETY: `forked` is a plain extern "C" fn with no arguments that only does one
    // atomic add: it is async-signal-safe, as a child handler of a multi-threaded
    // process must be, and it stays valid for the life of the process (never unloaded).
    let rc = *REGISTERED.get_or_init(|| unsafe { libc::pthread_atfork(None, None, Some(forked)) });
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("pthread_atfork failed with error {rc}"))
    }
}

/// Which process this is: 0 in the one that loaded the extension, bumped by every fork.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

struct Owned<T> {
    generation: u64,
    value: T,
}

/// A lazily made value, one per process.
pub struct PerProcess<T: 'static> {
    current: AtomicPtr<Owned<T>>,
}

// Only ever used as a static (`get` takes `&'static self`), where `new` is what fits.
impl<T: Send + Sync + 'static> Default for PerProcess<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync + 'static> PerProcess<T> {
    pub const fn new() -> Self {
        PerProcess {
            current: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// This process's value, made by `make` on its first use here.
    pub fn get(&'static self, make: impl FnOnce() -> T) -> &'static T {
        let generation = generation();
        let mut seen = self.current.load(Ordering::Acquire);
        // SAFETY: `current` holds null or a pointer from Box::into_raw below that was
        // installed and is never freed afterwards (see the module comment).
        if let Some(owned) = unsafe { seen.as_ref() } {
            if owned.generation == generation {
                return &owned.value;
            }
        }
        let fresh = Box::into_raw(Box::new(Owned {
            generation,
            value: make(),
        }));
        loop {
            match self
                .current
                .compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: just installed, so never freed from now on.
                Ok(_) => return unsafe { &(*fresh).value },
                Err(now) => {
                    // SAFETY: as above for `now`.
                    if let Some(owned) = unsafe { now.as_ref() } {
                        if owned.generation == generation {
                            // Another thread of this process was first. Ours was never
                            // shared, so dropping it is fine.
                            // SAFETY: `fresh` came from Box::into_raw and was not installed.
                            drop(unsafe { Box::from_raw(fresh) });
                            return &owned.value;
                        }
                    }
                    seen = now;
                }
            }
        }
    }

    /// The value made last, in this process or the one it was forked from; for callers
    /// that must not allocate (a signal handler).
    pub fn latest(&self) -> Option<&'static T> {
        // SAFETY: as in `get`.
        unsafe { self.current.load(Ordering::Acquire).as_ref() }.map(|owned| &owned.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_value_is_made_once_per_process() {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        static VALUE: PerProcess<usize> = PerProcess::new();
        let first = VALUE.get(|| MADE.fetch_add(1, Ordering::SeqCst) + 10);
        let again = VALUE.get(|| MADE.fetch_add(1, Ordering::SeqCst) + 10);
        assert_eq!((*first, *again, MADE.load(Ordering::SeqCst)), (10, 10, 1));
        assert_eq!(VALUE.latest(), Some(&10));
    }

    #[test]
    fn the_fork_handler_registers() {
        assert_eq!(watch_forks(), Ok(()));
        assert_eq!(watch_forks(), Ok(()));
    }
}
