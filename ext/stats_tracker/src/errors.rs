//! The host crate's failures (stats_tracker_host::errors) become the Ruby classes from
//! lib/stats_tracker/error.rb here, once the GVL is held again.

use magnus::value::Lazy;
use magnus::{prelude::*, Error, ExceptionClass, RModule, Ruby};

pub use stats_tracker_host::errors::{panic_message, HostError};

/// The classes error.rb defines, looked up once when the extension loads (`check_classes`
/// refuses to load without them) and kept: a raise never resolves a constant again.
static ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "Error"));
static COMPILE_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "CompileError"));
static TRAP_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "TrapError"));
static TIMEOUT_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "TimeoutError"));
static RESOURCE_LIMIT_ERROR: Lazy<ExceptionClass> =
    Lazy::new(|ruby| defined(ruby, "ResourceLimitError"));

const CLASSES: [(&str, &Lazy<ExceptionClass>); 5] = [
    ("Error", &ERROR),
    ("CompileError", &COMPILE_ERROR),
    ("TrapError", &TRAP_ERROR),
    ("TimeoutError", &TIMEOUT_ERROR),
    ("ResourceLimitError", &RESOURCE_LIMIT_ERROR),
];

fn lookup(ruby: &Ruby, name: &str) -> Result<ExceptionClass, Error> {
    ruby.class_object()
        .const_get::<_, RModule>("StatsTracker")?
        .const_get::<_, ExceptionClass>(name)
}

/// Only reached from `check_classes`, after the same lookup has succeeded.
fn defined(ruby: &Ruby, name: &str) -> ExceptionClass {
    match lookup(ruby, name) {
        Ok(class) => class,
        Err(err) => panic!("StatsTracker::{name} disappeared while the extension loaded: {err}"),
    }
}

/// Finds every class the extension raises, or fails the `require` with a message naming
/// the missing one: raising some other class later would hide the broken load order.
pub fn check_classes(ruby: &Ruby) -> Result<(), Error> {
    for (name, class) in CLASSES {
        lookup(ruby, name).map_err(|_| {
            Error::new(
                ruby.exception_load_error(),
                format!(
                    "StatsTracker::{name} is not defined as an exception class: require \
                     \"stats_tracker\", which loads lib/stats_tracker/error.rb before the extension"
                ),
            )
        })?;
        Lazy::force(class, ruby);
    }
    Ok(())
}

/// The mapping to Ruby, as a trait because HostError belongs to the host crate.
pub trait IntoRuby {
    fn into_ruby(self, ruby: &Ruby) -> Error;
}

impl IntoRuby for HostError {
    fn into_ruby(self, ruby: &Ruby) -> Error {
        let (class, message) = match self {
            HostError::Compile(m) => (&COMPILE_ERROR, m),
            HostError::Trap(m) => (&TRAP_ERROR, m),
            HostError::Timeout(m) => (&TIMEOUT_ERROR, m),
            HostError::ResourceLimit(m) => (&RESOURCE_LIMIT_ERROR, m),
            HostError::Argument(m) => return raise_now(ruby.exception_arg_error(), m),
            HostError::Internal(m) => (&ERROR, format!("internal error in stats_tracker: {m}")),
        };
        raise_now(ruby.get_inner(class), message)
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
