//! The one path by which guest work runs: inputs already copied out of Ruby, GVL
//! released, interrupts delivered afterwards, failures mapped to Ruby exceptions.

use std::sync::atomic::{AtomicBool, Ordering};

use magnus::{Error, Ruby};

use crate::errors::{panic_message, HostError};
use crate::gvl;

pub fn run<R, F>(ruby: &Ruby, cancel: &AtomicBool, work: F) -> Result<R, Error>
where
    F: FnOnce() -> Result<R, HostError> + Send,
{
    let mut work = work;
    let outcome = loop {
        match gvl::without_gvl(cancel, work) {
            Ok(outcome) => break outcome,
            Err(unstarted) => {
                // Something was pending before we started: run it (raises if it is an
                // exception or a kill) and try again.
                gvl::deliver_pending_interrupts()?;
                work = unstarted;
            }
        }
    };
    if cancel.load(Ordering::Acquire) {
        // Thread#raise / Thread#kill / Timeout / signal: let Ruby deliver it now that
        // no guest frames are on the stack. Its exception replaces ours.
        gvl::deliver_pending_interrupts()?;
    }
    match outcome {
        Err(panic) => Err(HostError::Internal(panic_message(panic.as_ref())).into_ruby(ruby)),
        Ok(Err(err)) => Err(err.into_ruby(ruby)),
        Ok(Ok(value)) => Ok(value),
    }
}
