//! The one process-wide wasmtime `Engine` and the epoch ticker that gives every running
//! guest a chance to notice its deadline or a cancellation.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// How often running guests are woken to check their deadline and cancel flag.
/// Bounds timeout precision; the check itself costs a few nanoseconds.
const TICK: Duration = Duration::from_millis(5);

/// Instance slots of the pooling allocator when STATS_TRACKER_POOL_SLOTS is unset: far
/// more guest calls than cores can run at once anyway; calls beyond it wait for a slot.
const DEFAULT_POOL_SLOTS: u32 = 64;
/// Upper bound for STATS_TRACKER_POOL_SLOTS: each slot reserves about 8 GiB of address space.
const MAX_POOL_SLOTS: u32 = 1024;
/// What one slot must hold: the bundled parser component has 1 memory and a handful of core
/// instances and tables (the main module plus wit-component's shims); a WASI command is
/// one instance with one memory and one table. A component needing more fails to
/// instantiate with a message saying which limit it crossed.
const CORE_INSTANCES_PER_SLOT: u32 = 16;
const MEMORIES_PER_SLOT: u32 = 2;
const TABLES_PER_SLOT: u32 = 16;
/// Bytes of each linear memory (and table) reset with memset instead of madvise when a slot
/// is reused: the pages a small parse touches stay mapped, sparing a page fault each.
/// Measured on the tiny page: 64 KiB 43 µs, none 50 µs, 256 KiB 48 µs, 1 MiB 62 µs.
const KEEP_RESIDENT: usize = 64 * 1024;
/// wasm32 memories cannot exceed 4 GiB, so this is the largest memory_limit that means
/// anything; a pool slot must be able to grow that far.
pub const MAX_MEMORY_BYTES: usize = 1 << 32;

struct Shared {
    engine: Engine,
    /// Instance slots of the pooling allocator; 0 when instances are mmapped per call.
    pool_slots: u32,
}

static ENGINE: OnceLock<Result<Shared, String>> = OnceLock::new();

fn base_config() -> Config {
    let mut config = Config::new();
    // Epochs, not fuel: they cost a load + compare per loop header instead of
    // counting every instruction, and let another thread stop a guest.
    config.epoch_interruption(true);
    config.cranelift_opt_level(OptLevel::Speed);
    config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(64));
    config.parallel_compilation(true);
    // Already wasmtime's default; stated because the per-call cost depends on it: a
    // memory's initial image is mapped copy-on-write instead of copied.
    config.memory_init_cow(true);
    config
}

/// STATS_TRACKER_POOL_SLOTS: how many guest calls may hold an instance at once (0 turns
/// the pool off). Read once, when the engine is made.
fn pool_slots_setting() -> u32 {
    std::env::var("STATS_TRACKER_POOL_SLOTS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .map_or(DEFAULT_POOL_SLOTS, |n| n.min(MAX_POOL_SLOTS))
}

/// A fresh Store per call would otherwise mmap and munmap its linear memory (about 4 GiB
/// of reservation plus guard) and its tables on every call; the pool reserves them once
/// and resets a slot on reuse.
fn pooling_config(slots: u32) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_SLOT))
        .total_memories(slots.saturating_mul(MEMORIES_PER_SLOT))
        .total_tables(slots.saturating_mul(TABLES_PER_SLOT))
        .max_core_instances_per_component(CORE_INSTANCES_PER_SLOT)
        .max_memories_per_component(MEMORIES_PER_SLOT)
        .max_tables_per_component(TABLES_PER_SLOT)
        // memory_limit is enforced per call by our ResourceLimiter; the pool only has to
        // allow any limit a wasm32 memory can reach.
        .max_memory_size(MAX_MEMORY_BYTES)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    pool
}

fn make_engine() -> Result<Shared, String> {
    let slots = pool_slots_setting();
    if slots > 0 {
        let mut config = base_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(slots)));
        // Reserving the pool's address space can fail (ulimit -v, a small address space):
        // then fall back to allocating per call rather than not working at all.
        if let Ok(engine) = Engine::new(&config) {
            return Ok(Shared {
                engine,
                pool_slots: slots,
            });
        }
    }
    let engine = Engine::new(&base_config()).map_err(|e| format!("{e:#}"))?;
    Ok(Shared {
        engine,
        pool_slots: 0,
    })
}

fn shared() -> Result<&'static Shared, String> {
    ENGINE
        .get_or_init(make_engine)
        .as_ref()
        .map_err(Clone::clone)
}

/// The shared engine. Compiled artifacts are only valid for the engine that made them,
/// so one engine per process also lets the disk cache key on a single config hash.
pub fn engine() -> Result<&'static Engine, String> {
    shared().map(|shared| &shared.engine)
}

/// Instance slots of the pooling allocator (0: none, instances are allocated per call).
pub fn pool_slots() -> Result<u32, String> {
    shared().map(|shared| shared.pool_slots)
}

/// Counts calls currently executing wasm; the ticker only runs while it is non-zero so
/// an idle process has no timer wake-ups.
struct Ticker {
    active: Mutex<TickerState>,
    wake: Condvar,
}

struct TickerState {
    active: usize,
    /// Process that spawned the ticker thread: a forked child has no such thread.
    owner_pid: Option<u32>,
}

static TICKER: Ticker = Ticker {
    active: Mutex::new(TickerState {
        active: 0,
        owner_pid: None,
    }),
    wake: Condvar::new(),
};

/// Registration of one running call with the ticker; dropping it unregisters.
pub struct TickGuard(());

impl TickGuard {
    pub fn start() -> Self {
        let mut state = TICKER
            .active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pid = std::process::id();
        if state.owner_pid != Some(pid) {
            // After fork() the parent's ticker thread does not exist in the child.
            if std::thread::Builder::new()
                .name("stats_tracker-epoch".into())
                .spawn(tick_loop)
                .is_ok()
            {
                state.owner_pid = Some(pid);
            }
        }
        state.active += 1;
        TICKER.wake.notify_all();
        TickGuard(())
    }
}

impl Drop for TickGuard {
    fn drop(&mut self) {
        let mut state = TICKER
            .active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.active = state.active.saturating_sub(1);
    }
}

fn tick_loop() {
    let Ok(engine) = engine() else { return };
    loop {
        {
            let mut state = TICKER
                .active
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            while state.active == 0 {
                state = TICKER
                    .wake
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
        std::thread::sleep(TICK);
        engine.increment_epoch();
    }
}

/// Wakes every running guest at once; each checks its own flag, so only the
/// cancelled call stops. Safe to call from an unblocking function: it is one atomic add.
pub fn bump_epoch() {
    if let Some(Ok(shared)) = ENGINE.get() {
        shared.engine.increment_epoch();
    }
}
