//! Memory caps that remember being hit, so a failed allocation is reported as a
//! resource limit rather than as whatever trap the guest's allocator turns it into
//! (Rust guests abort with `unreachable` when an allocation fails).

use wasmtime::{ResourceLimiter, Result};

/// Table growth is not user-configurable; this bound only stops a hostile guest
/// from exhausting host memory through huge tables.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

pub struct MemoryCap {
    limit: usize,
    hit: bool,
}

impl MemoryCap {
    pub fn new(limit: usize) -> Self {
        MemoryCap { limit, hit: false }
    }

    pub fn was_hit(&self) -> bool {
        self.hit
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        if desired > self.limit {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }
}
