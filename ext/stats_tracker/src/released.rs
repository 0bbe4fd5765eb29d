//! The paths by which guest work runs: inputs already copied out of Ruby, GVL
//! released, interrupts delivered afterwards, failures mapped to Ruby exceptions.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use magnus::{Error, Ruby};

use crate::call::CallControl;
use crate::errors::{panic_message, HostError, IntoRuby};
use crate::executor::{self, Step};
use crate::gvl;

/// Runs work that cannot be paused (compiling) with the GVL released. An interrupt
/// that arrives meanwhile is delivered once the work is done.
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
        gvl::deliver_pending_interrupts()?;
    }
    finish(ruby, outcome)
}

/// Runs a guest call with the GVL released. When Ruby interrupts the thread the call
/// is paused, not abandoned: with the GVL back, pending interrupts are processed the
/// way Ruby's own blocking I/O does it. One that raises (Thread#raise, Thread#kill,
/// Timeout, Ctrl-C) ends the call, unwinding the guest; one that does not (a signal
/// whose trap handler returns, Thread#wakeup, a deferred Thread#raise) resumes it.
pub fn run_call<R, F>(ruby: &Ruby, control: &CallControl, call: F) -> Result<R, Error>
where
    F: Future<Output = Result<R, HostError>> + Send,
{
    let mut call = Box::pin(call);
    let outcome = loop {
        let step = gvl::without_gvl(control.cancel_flag(), || {
            executor::drive(call.as_mut(), control)
        });
        match step {
            Ok(Ok(Ok(Step::Done(result)))) => break Ok(result),
            Ok(Ok(Ok(Step::Expired))) => {
                break Ok(Err(HostError::Timeout(format!(
                    "guest exceeded its timeout of {}s",
                    control.timeout_seconds()
                ))))
            }
            Ok(Ok(Ok(Step::Interrupted))) | Err(_) => {
                // Cleared first: an interrupt arriving after the check below makes
                // the next rb_nogvl refuse to start, and we come back here.
                control.cancel_flag().store(false, Ordering::Release);
                if let Err(raised) = gvl::deliver_pending_interrupts() {
                    executor::dispose(call);
                    return Err(raised);
                }
            }
            Ok(Ok(Err(io))) => {
                break Ok(Err(HostError::Internal(format!(
                    "cannot start the guest's executor: {io}"
                ))))
            }
            Ok(Err(panic)) => break Err(panic),
        }
    };
    executor::dispose(call);
    finish(ruby, outcome)
}

fn finish<R>(ruby: &Ruby, outcome: std::thread::Result<Result<R, HostError>>) -> Result<R, Error> {
    match outcome {
        Err(panic) => Err(HostError::Internal(panic_message(panic.as_ref())).into_ruby(ruby)),
        Ok(Err(err)) => Err(err.into_ruby(ruby)),
        Ok(Ok(value)) => Ok(value),
    }
}
