//! A compiled artifact held by a Ruby object. It is valid only for the engine of the
//! process that loaded it, and a forked child has an engine of its own
//! (see per_process.rs), so the artifact keeps the bytes it came from: the first use in
//! a child loads it again for the child's engine (from the disk cache when it has it).
//!
//! Every method is called with the GVL held and never releases it while the lock is
//! taken. Ruby forks with the GVL held, so the lock is never held at a fork, and no
//! two threads take it at once.

use std::sync::{Arc, Mutex};

use crate::per_process;

struct Loaded<T> {
    generation: u64,
    value: Arc<T>,
}

impl<T> Loaded<T> {
    fn new(value: Arc<T>) -> Self {
        Loaded {
            generation: per_process::generation(),
            value,
        }
    }

    /// Drops what this process loaded; leaks what a parent loaded (its code belongs to
    /// an engine whose locks may be frozen in this process).
    fn release(self) {
        if self.generation != per_process::generation() {
            std::mem::forget(self.value);
        }
    }
}

pub struct Reloadable<T> {
    source: Vec<u8>,
    loaded: Mutex<Option<Loaded<T>>>,
}

impl<T> Reloadable<T> {
    pub fn new(source: Vec<u8>, value: T) -> Self {
        Reloadable {
            source,
            loaded: Mutex::new(Some(Loaded::new(Arc::new(value)))),
        }
    }

    /// The bytes the artifact was loaded from.
    pub fn source(&self) -> &[u8] {
        &self.source
    }

    /// The artifact for this process; None when it was loaded before a fork and must be
    /// loaded again here.
    pub fn current(&self) -> Option<Arc<T>> {
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        loaded
            .as_ref()
            .filter(|l| l.generation == per_process::generation())
            .map(|l| Arc::clone(&l.value))
    }

    /// Keeps `value`, loaded in this process, in place of what was there.
    pub fn replace(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        let previous = self
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(Loaded::new(Arc::clone(&value)));
        if let Some(previous) = previous {
            previous.release();
        }
        value
    }
}

impl<T> Drop for Reloadable<T> {
    fn drop(&mut self) {
        let loaded = self.loaded.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(loaded) = loaded.take() {
            loaded.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_loaded_in_this_process_is_current() {
        let held = Reloadable::new(b"src".to_vec(), 7);
        assert_eq!(held.current().as_deref(), Some(&7));
        assert_eq!(held.source(), b"src");
        assert_eq!(*held.replace(8), 8);
        assert_eq!(held.current().as_deref(), Some(&8));
    }
}
