//! The one process-wide wasmtime `Engine` and the epoch ticker that gives every running
//! guest a chance to notice its deadline or a cancellation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::Thread;
use std::time::Duration;

use crate::limits;
use crate::per_process::{self, PerProcess};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// How often running guests are woken to check their deadline and cancel flag.
/// Bounds timeout precision; the check itself costs a few nanoseconds.
const TICK: Duration = Duration::from_millis(5);

/// Instance slots of the pooling allocator when STATS_TRACKER_POOL_SLOTS is unset: far
/// more guest calls than cores can run at once anyway; calls beyond it wait for a slot.
const DEFAULT_POOL_SLOTS: u32 = 64;
/// Upper bound for STATS_TRACKER_POOL_SLOTS: each slot reserves about 8 GiB of address space.
const MAX_POOL_SLOTS: u32 = 1024;
/// What one slot must hold: what the limiter lets one call create (see limits.rs).
/// A component needing more fails to instantiate with a message saying which limit
/// it crossed.
const CORE_INSTANCES_PER_SLOT: u32 = limits::MAX_INSTANCES as u32;
const MEMORIES_PER_SLOT: u32 = limits::MAX_MEMORIES as u32;
const TABLES_PER_SLOT: u32 = limits::MAX_TABLES as u32;
/// Bytes of each linear memory (and table) reset with memset instead of madvise when a slot
/// is reused: the pages a small parse touches stay mapped, sparing a page fault each
/// (bench/RESULTS.md has the sizes tried).
const KEEP_RESIDENT: usize = 64 * 1024;
/// How deep guest recursion may go, and the fiber stack it runs on.
const MAX_WASM_STACK: usize = 512 * 1024;
const ASYNC_STACK: usize = 2 * 1024 * 1024;
/// wasm32 memories cannot exceed 4 GiB, so this is the largest memory_limit that means
/// anything; a pool slot must be able to grow that far.
pub const MAX_MEMORY_BYTES: usize = 1 << 32;

struct Shared {
    engine: Engine,
    /// Instance slots of the pooling allocator; 0 when instances are mmapped per call.
    pool_slots: u32,
}

/// One engine per process. A forked child gets its own: the parent's instance pool was
/// copied with the slots of the parent's running calls in use, and nothing in the child
/// can return them (see per_process.rs for why the parent's is leaked there).
static ENGINE: PerProcess<Result<Shared, String>> = PerProcess::new();

fn base_config() -> Config {
    let mut config = Config::new();
    // Epochs, not fuel: they cost a load + compare per loop header instead of
    // counting every instruction, and let another thread stop a guest.
    config.epoch_interruption(true);
    config.cranelift_opt_level(OptLevel::Speed);
    config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(64));
    // Cranelift's worker pool (rayon's global pool) belongs to the process that started
    // it: in a forked child its threads do not exist and a parallel compile would wait
    // for them forever. So a child compiles on the calling thread. Not part of the
    // engine's compatibility hash: the child still shares the parent's disk cache.
    config.parallel_compilation(per_process::generation() == 0);
    // Guests run on wasmtime's fiber stacks (async calls), never on the caller's: a Ruby
    // Fiber or a small-stack thread leaves less native stack than a guest may use, and
    // overflowing that would hit the caller's guard page instead of wasmtime's check.
    // The stack's size minus max_wasm_stack is what host calls get.
    config.max_wasm_stack(MAX_WASM_STACK);
    config.async_stack_size(ASYNC_STACK);
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
        // One fiber stack per running call: guests run on stacks wasmtime owns.
        .total_stacks(slots)
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
    ENGINE.get(make_engine).as_ref().map_err(Clone::clone)
}

/// This process's engine. Compiled artifacts are only valid for the engine that made
/// them, so one engine per process also lets the disk cache key on a single config hash.
pub fn engine() -> Result<&'static Engine, String> {
    shared().map(|shared| &shared.engine)
}

/// Instance slots of the pooling allocator (0: none, instances are allocated per call).
pub fn pool_slots() -> Result<u32, String> {
    shared().map(|shared| shared.pool_slots)
}

/// The epoch ticker of one process: counts calls currently running guests, and its
/// thread only ticks while that count is non-zero, so an idle process has no timer
/// wake-ups. A forked child gets a fresh one (the parent's thread does not exist there,
/// and the parent's running calls never end there).
struct Ticker {
    active: AtomicUsize,
    thread: Mutex<Option<Thread>>,
}

static TICKER: PerProcess<Ticker> = PerProcess::new();

fn ticker() -> &'static Ticker {
    TICKER.get(|| Ticker {
        active: AtomicUsize::new(0),
        thread: Mutex::new(None),
    })
}

impl Ticker {
    /// The ticking thread, started on first use. Without it no deadline could ever
    /// fire, so failing to start it fails the call.
    fn thread(&'static self) -> Result<Thread, String> {
        let mut thread = self
            .thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(running) = thread.as_ref() {
            return Ok(running.clone());
        }
        let spawned = std::thread::Builder::new()
            .name("stats_tracker-epoch".into())
            .spawn(move || self.tick_loop())
            .map_err(|e| format!("cannot start the epoch ticker thread: {e}"))?;
        let handle = spawned.thread().clone();
        *thread = Some(handle.clone());
        Ok(handle)
    }

    fn tick_loop(&self) {
        let Ok(engine) = engine() else { return };
        loop {
            if self.active.load(Ordering::Acquire) == 0 {
                // An unpark between the load and here makes park return at once.
                std::thread::park();
                continue;
            }
            std::thread::sleep(TICK);
            engine.increment_epoch();
        }
    }
}

/// Registration of one running call with the ticker; dropping it unregisters.
pub struct TickGuard(&'static Ticker);

impl TickGuard {
    pub fn start() -> Result<Self, String> {
        let ticker = ticker();
        let thread = ticker.thread()?;
        if ticker.active.fetch_add(1, Ordering::AcqRel) == 0 {
            thread.unpark();
        }
        Ok(TickGuard(ticker))
    }
}

impl Drop for TickGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Wakes every running guest at once; each checks its own flag, so only the
/// cancelled call stops. Safe to call from an unblocking function: it is one atomic add.
pub fn bump_epoch() {
    if let Some(Ok(shared)) = ENGINE.latest() {
        shared.engine.increment_epoch();
    }
}
