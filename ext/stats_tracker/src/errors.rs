//! The host crate's failures (stats_tracker_host::errors) become the Ruby classes from
//! lib/stats_tracker/error.rb here, once the GVL is held again.

use magnus::{prelude::*, Error, ExceptionClass, RModule, Ruby};

pub use stats_tracker_host::errors::{panic_message, HostError};

/// The mapping to Ruby, as a trait because HostError belongs to the host crate.
pub trait IntoRuby {
    fn into_ruby(self, ruby: &Ruby) -> Error;
}

impl IntoRuby for HostError {
    fn into_ruby(self, ruby: &Ruby) -> Error {
        let (class, message) = match self {
            HostError::Compile(m) => ("CompileError", m),
            HostError::Trap(m) => ("TrapError", m),
            HostError::Timeout(m) => ("TimeoutError", m),
            HostError::ResourceLimit(m) => ("ResourceLimitError", m),
            HostError::Argument(m) => return raise_now(ruby.exception_arg_error(), m),
            HostError::Internal(m) => ("Error", format!("internal error in stats_tracker: {m}")),
        };
        raise_now(error_class(ruby, class), message)
    }
}

/// Creates the exception object here instead of leaving it to magnus (`Error::new` is lazy).
/// Creating it runs Ruby code (`initialize`), which delivers pending interrupts; a
/// Thread#kill that arrived after the guest returned (while this thread waited to get the
/// GVL back) then surfaces inside magnus's own creation of the exception, which it treats
/// as unreachable: a panic in an extern "C" frame, aborting the process. Here the kill
/// comes back as an `Err` that magnus resumes as the kill it is.
fn raise_now(class: ExceptionClass, message: String) -> Error {
    match class.new_instance((message,)) {
        Ok(exception) => Error::from(exception),
        Err(interrupted) => interrupted,
    }
}

/// The classes are defined in Ruby before the extension loads (lib/stats_tracker/error.rb);
/// falling back to StandardError keeps a broken load order from becoming a crash.
pub fn error_class(ruby: &Ruby, name: &str) -> ExceptionClass {
    ruby.class_object()
        .const_get::<_, RModule>("StatsTracker")
        .and_then(|module| module.const_get::<_, ExceptionClass>(name))
        .unwrap_or_else(|_| ruby.exception_standard_error())
}
