//! What one guest call may allocate, counted across its whole store, and remembering
//! being hit so a refused allocation is reported as a resource limit rather than as
//! whatever trap the guest's allocator turns it into (Rust guests abort with
//! `unreachable` when an allocation fails).

use wasmtime::{ResourceLimiter, Result};

/// Table growth is not user-configurable; this bound only stops a hostile guest
/// from exhausting host memory through huge tables.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// What one call may create: the bundled parser component has one memory and a
/// handful of core instances and tables (the main module plus wit-component's shims);
/// a WASI command is one instance with one memory and one table. The pooling
/// allocator reserves the same per slot.
pub const MAX_INSTANCES: usize = 16;
pub const MAX_MEMORIES: usize = 2;
pub const MAX_TABLES: usize = 16;

pub struct MemoryCap {
    limit: usize,
    /// Bytes of linear memory granted so far, over every memory of the store.
    granted: usize,
    hit: bool,
}

impl MemoryCap {
    pub fn new(limit: usize) -> Self {
        MemoryCap {
            limit,
            granted: 0,
            hit: false,
        }
    }

    pub fn was_hit(&self) -> bool {
        self.hit
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        let total = self.granted.saturating_add(desired.saturating_sub(current));
        if total > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.granted = total;
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

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn the_limit_is_the_total_over_every_memory() {
        let mut cap = MemoryCap::new(64 * MIB);
        assert!(matches!(cap.memory_growing(0, 40 * MIB, None), Ok(true)));
        assert!(matches!(cap.memory_growing(0, 40 * MIB, None), Ok(false)));
        assert!(cap.was_hit());
    }

    #[test]
    fn growth_counts_only_the_new_bytes() {
        let mut cap = MemoryCap::new(64 * MIB);
        assert!(matches!(cap.memory_growing(0, 32 * MIB, None), Ok(true)));
        assert!(matches!(
            cap.memory_growing(32 * MIB, 64 * MIB, None),
            Ok(true)
        ));
        assert!(!cap.was_hit());
        assert!(matches!(
            cap.memory_growing(64 * MIB, 65 * MIB, None),
            Ok(false)
        ));
        assert!(cap.was_hit());
    }

    #[test]
    fn huge_tables_are_refused() {
        let mut cap = MemoryCap::new(MIB);
        assert!(matches!(cap.table_growing(0, 10, None), Ok(true)));
        assert!(matches!(
            cap.table_growing(0, MAX_TABLE_ELEMENTS + 1, None),
            Ok(false)
        ));
        assert!(cap.was_hit());
    }
}
