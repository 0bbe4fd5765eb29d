//! The one process-wide wasmtime `Engine` and the epoch ticker that gives every running
//! guest a chance to notice its deadline or a cancellation.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::{Config, Engine, OptLevel};

/// How often running guests are woken to check their deadline and cancel flag.
/// Bounds timeout precision; the check itself costs a few nanoseconds.
const TICK: Duration = Duration::from_millis(5);

static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

/// The shared engine. Compiled artifacts are only valid for the engine that made them,
/// so one engine per process also lets the disk cache key on a single config hash.
pub fn engine() -> Result<&'static Engine, String> {
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            // Epochs, not fuel: they cost a load + compare per loop header instead of
            // counting every instruction, and let another thread stop a guest.
            config.epoch_interruption(true);
            config.cranelift_opt_level(OptLevel::Speed);
            config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(64));
            config.parallel_compilation(true);
            Engine::new(&config).map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(Clone::clone)
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
    if let Some(Ok(engine)) = ENGINE.get() {
        engine.increment_epoch();
    }
}
