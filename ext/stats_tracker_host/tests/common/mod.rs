//! What the host crate's tests share: a scratch directory and a way to run a guest call.
#![allow(dead_code)] // each test binary uses part of it

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use stats_tracker_host::call::CallControl;
use stats_tracker_host::executor::{self, Step};

/// A fresh directory under the system temp dir, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("st-host-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        assert!(std::fs::create_dir_all(&path).is_ok());
        Scratch(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Drives `future` on this thread to completion, as the extension does (no interrupts here).
pub fn finish<F: Future>(future: F, control: &CallControl) -> F::Output {
    let mut future = std::pin::pin!(future);
    match executor::drive(future.as_mut(), control) {
        Ok(Step::Done(value)) => value,
        Ok(Step::Expired) => panic!("the call passed its deadline while waiting in the host"),
        Ok(Step::Interrupted) => panic!("the call was interrupted"),
        Err(err) => panic!("no executor: {err}"),
    }
}
