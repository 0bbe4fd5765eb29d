//! Why a host operation or guest call failed, classified in Rust (without the GVL). Each
//! variant is one Ruby exception class; the extension maps them once the GVL is held again.

use wasmtime::{Trap, WasmBacktrace};

use crate::call::Stopped;
use crate::output::OutputLimitExceeded;

/// How much of a trapped guest's stderr goes into the TrapError message.
const STDERR_TAIL: usize = 4096;

#[derive(Debug, PartialEq, Eq)]
pub enum HostError {
    Compile(String),
    Trap(String),
    Timeout(String),
    ResourceLimit(String),
    Argument(String),
    /// A bug on our side (e.g. a caught panic); never the guest's doing.
    Internal(String),
}

/// What the store saw while the guest ran, beyond the error itself.
pub struct Observed {
    pub memory_limit: usize,
    pub memory_cap_hit: bool,
    pub output_limit: usize,
    pub output_overflowed: bool,
    pub timeout: f64,
}

impl HostError {
    /// Why a guest call failed. The cause the host imposed wins over the trap the
    /// guest turned it into (e.g. a Rust guest aborts with `unreachable` when an
    /// allocation is refused).
    pub fn from_run(err: &wasmtime::Error, seen: &Observed) -> HostError {
        if let Some(Stopped::TimedOut) = err.downcast_ref::<Stopped>() {
            return HostError::Timeout(format!("guest exceeded its timeout of {}s", seen.timeout));
        }
        if seen.output_overflowed || err.is::<OutputLimitExceeded>() {
            return HostError::ResourceLimit(format!(
                "guest output exceeded output_limit of {} bytes",
                seen.output_limit
            ));
        }
        if seen.memory_cap_hit {
            return HostError::ResourceLimit(format!(
                "guest exceeded memory_limit of {} bytes",
                seen.memory_limit
            ));
        }
        HostError::Trap(trap_message(err))
    }

    /// Appends what the guest wrote to stderr before trapping (a panic message, say).
    pub fn with_guest_stderr(self, stderr: &[u8]) -> HostError {
        match self {
            HostError::Trap(message) if !stderr.is_empty() => {
                let tail = stderr.len().saturating_sub(STDERR_TAIL);
                let text = String::from_utf8_lossy(stderr.get(tail..).unwrap_or_default());
                HostError::Trap(format!("{message}\nguest stderr:\n{text}"))
            }
            other => other,
        }
    }
}

/// "wasm trap: <code>" (or the error chain) followed by the guest backtrace.
fn trap_message(err: &wasmtime::Error) -> String {
    let head = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{err:#}"),
    };
    match err.downcast_ref::<WasmBacktrace>() {
        Some(trace) => format!("{head}\n{trace}"),
        None => head,
    }
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-string payload".to_owned())
}
