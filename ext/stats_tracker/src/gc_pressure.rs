//! Tells Ruby's GC about native memory a wrapper keeps alive (compiled code), so
//! wrappers holding megabytes are not treated as free to keep around.

use std::os::raw::c_long;

pub struct GcPressure(c_long);

impl GcPressure {
    /// Must be called with the GVL held.
    pub fn new(bytes: usize) -> Self {
        let bytes = c_long::try_from(bytes).unwrap_or(c_long::MAX);
        // SAFETY: called with the GVL (from a Ruby method); only adjusts a counter.
        unsafe { rb_sys::rb_gc_adjust_memory_usage(bytes as _) };
        GcPressure(bytes)
    }
}

impl Drop for GcPressure {
    fn drop(&mut self) {
        // SAFETY: wrappers are freed by Ruby's GC on a Ruby thread; this only
        // decrements the malloc counter and allocates nothing.
        unsafe { rb_sys::rb_gc_adjust_memory_usage(-self.0 as _) };
    }
}
