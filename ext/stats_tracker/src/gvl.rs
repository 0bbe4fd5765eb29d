//! Running guest code without Ruby's GVL, interruptibly.
//!
//! `rb_nogvl` is called with `RB_NOGVL_INTR_FAIL`, so Ruby never raises (longjmps)
//! while Rust frames that own resources are on the stack: the pending interrupt
//! (Thread#raise, Thread#kill, Timeout, Ctrl-C) is delivered afterwards by
//! `deliver_pending_interrupts`, under `rb_protect`, and returned as a normal `Err`.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use magnus::Error;

use crate::engine;

struct Job<F, R> {
    work: Option<F>,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F, R>(data: *mut c_void) -> *mut c_void
where
    F: FnOnce() -> R,
{
    // SAFETY: `data` is the `&mut Job<F, R>` passed to rb_nogvl by `without_gvl`, which
    // stays borrowed (and alive) until rb_nogvl returns; only this thread touches it.
    let job = unsafe { &mut *(data as *mut Job<F, R>) };
    if let Some(work) = job.work.take() {
        // A panic must not unwind through Ruby's C frames.
        job.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Ruby calls this from another thread, or straight from its signal handler (we pass
/// `RB_NOGVL_UBF_ASYNC_SAFE`), to stop our call. It only stores to an atomic and bumps
/// the engine epoch (an atomic add on an already-initialised engine): async-signal-safe.
unsafe extern "C" fn unblock(data: *mut c_void) {
    // SAFETY: `data` points at the call's cancel flag, which outlives the rb_nogvl call
    // during which Ruby may invoke this function.
    let flag = unsafe { &*(data as *const AtomicBool) };
    flag.store(true, Ordering::Release);
    engine::bump_epoch();
}

/// Runs `work` with the GVL released. If Ruby had an interrupt pending (even just its
/// timer's time-slice flag) it skips `work` and `work` is handed back as `Err` so the
/// caller can process the interrupt and retry. A panic inside `work` comes back as
/// `Ok(Err(payload))`. Must be called with the GVL held; `work` must not touch Ruby objects.
pub fn without_gvl<F, R>(cancel: &AtomicBool, work: F) -> Result<std::thread::Result<R>, F>
where
    F: FnOnce() -> R + Send,
{
    let mut job = Job {
        work: Some(work),
        result: None,
    };
    // RB_NOGVL_UBF_ASYNC_SAFE: without it, a call on the main thread of a single-threaded
    // process makes Ruby create (and afterwards kill and join) a helper Ruby Thread just
    // to run `unblock` on a signal. That cost a Thread allocation per call, and under
    // GC.stress it never converged: collecting the previous call's dead helper queued a
    // finalizer job, i.e. a pending interrupt, so RB_NOGVL_INTR_FAIL refused to start,
    // `run` delivered the interrupt and retried, creating the next helper, forever.
    // `unblock` is async-signal-safe, so Ruby may call it from its signal handler instead.
    let flags = rb_sys::RB_NOGVL_INTR_FAIL | rb_sys::RB_NOGVL_UBF_ASYNC_SAFE;
    // SAFETY: the trampoline matches F/R; `job` and `cancel` outlive the call; with
    // RB_NOGVL_INTR_FAIL rb_nogvl returns normally instead of raising; `unblock` is
    // async-signal-safe as RB_NOGVL_UBF_ASYNC_SAFE requires (see its comment).
    unsafe {
        rb_sys::rb_nogvl(
            Some(trampoline::<F, R>),
            &mut job as *mut Job<F, R> as *mut c_void,
            Some(unblock),
            cancel as *const AtomicBool as *mut c_void,
            flags as i32,
        );
    }
    match (job.result, job.work) {
        (Some(result), _) => Ok(result),
        (None, Some(work)) => Err(work),
        // Unreachable: the trampoline only takes `work` to produce a result.
        (None, None) => Ok(Err(Box::new("guest call vanished"))),
    }
}

/// Delivers whatever made Ruby call our unblocking function: raises the pending
/// exception (or performs the pending kill) as an `Err`. Ok(()) if nothing was pending.
pub fn deliver_pending_interrupts() -> Result<(), Error> {
    magnus::rb_sys::protect(|| {
        // SAFETY: called with the GVL held; may raise, which `protect` catches.
        unsafe { rb_sys::rb_thread_check_ints() };
        rb_sys::Qnil as rb_sys::VALUE
    })
    .map(|_| ())
}
