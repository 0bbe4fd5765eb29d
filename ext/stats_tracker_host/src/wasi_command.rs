//! Running a WASI preview-1 command (`_start`) in a deny-by-default sandbox: no host
//! env, stdio or network; only the directories the caller preopens; output kept in
//! memory under a cap.

use std::path::PathBuf;

use wasmtime::{InstancePre, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::call::CallControl;
use crate::engine::{self, TickGuard};
use crate::errors::{HostError, Observed};
use crate::fs_guard::{self, WriteQuota};
use crate::limits::MemoryCap;
use crate::output::CappedOutput;
use crate::slots::Slot;

pub struct P1State {
    wasi: WasiP1Ctx,
    cap: MemoryCap,
    quota: WriteQuota,
}

impl P1State {
    pub fn wasi_and_quota(&mut self) -> (&mut WasiP1Ctx, &mut WriteQuota) {
        (&mut self.wasi, &mut self.quota)
    }
}

/// Everything one run needs, copied out of Ruby objects before the GVL is released.
pub struct RunSpec {
    pub program: String,
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<Preopen>,
    /// Bytes and new directory entries the guest may write into its preopens.
    pub write_limit: u64,
    pub file_limit: u64,
    /// The module cache's directory (read under the GVL): no preopen may overlap it.
    pub cache_dir: Option<PathBuf>,
    pub timeout: f64,
    pub memory_limit: usize,
    pub output_limit: usize,
}

pub struct Preopen {
    pub guest: String,
    pub host: String,
    pub writable: bool,
}

pub struct RunOutput {
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A compiled command, pre-linked against WASI p1 once; each run only instantiates.
pub struct WasiCommand {
    pre: InstancePre<P1State>,
    image_size: usize,
}

impl WasiCommand {
    pub fn new(module: Module) -> Result<Self, HostError> {
        let engine = engine::engine().map_err(HostError::Internal)?;
        if !matches!(
            module.get_export("_start"),
            Some(wasmtime::ExternType::Func(_))
        ) {
            return Err(HostError::Compile(
                "module exports no `_start` function: not a WASI command".into(),
            ));
        }
        let mut linker: Linker<P1State> = Linker::new(engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state| &mut state.wasi)
            .and_then(|()| fs_guard::add_to_linker(&mut linker))
            .map_err(|e| HostError::Internal(format!("{e:#}")))?;
        let range = module.image_range();
        let image_size = (range.end as usize).saturating_sub(range.start as usize);
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| HostError::Compile(format!("cannot link module: {e:#}")))?;
        Ok(WasiCommand { pre, image_size })
    }

    pub fn image_size(&self) -> usize {
        self.image_size
    }

    pub async fn run(&self, spec: RunSpec, control: &CallControl) -> Result<RunOutput, HostError> {
        let stdout = CappedOutput::new(spec.output_limit);
        let stderr = CappedOutput::new(spec.output_limit);
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdin(MemoryInputPipe::new(spec.stdin))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .arg(&spec.program)
            .args(&spec.args)
            // The builder allows TCP/UDP sockets (with every address denied); turn the
            // APIs off entirely so a guest cannot even create a socket.
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for (key, value) in &spec.env {
            builder.env(key, value);
        }
        for dir in &spec.dirs {
            if let Some(cache) = &spec.cache_dir {
                if crate::cache::overlaps(std::path::Path::new(&dir.host), cache) {
                    return Err(HostError::Argument(format!(
                        "cannot preopen {:?}: it is, contains or lies inside the module cache {:?}",
                        dir.host, cache
                    )));
                }
            }
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            builder
                .preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| {
                    HostError::Argument(format!("cannot preopen {:?}: {e:#}", dir.host))
                })?;
        }
        // Held until the store is dropped, which returns the instance to the pool.
        let _slot = Slot::acquire(control).await?;
        let engine = self.pre.module().engine();
        let mut store = Store::new(
            engine,
            P1State {
                wasi: builder.build_p1(),
                cap: MemoryCap::new(spec.memory_limit),
                quota: WriteQuota::new(spec.write_limit, spec.file_limit),
            },
        );
        store.limiter(|state| &mut state.cap);
        control.arm(&mut store);

        let outcome = {
            let _ticking = TickGuard::start().map_err(HostError::Internal)?;
            match self.pre.instantiate_async(&mut store).await {
                Ok(instance) => match instance.get_typed_func::<(), ()>(&mut store, "_start") {
                    Ok(start) => start.call_async(&mut store, ()).await,
                    Err(err) => Err(err),
                },
                Err(err) => Err(err),
            }
        };
        let observed = Observed {
            memory_limit: spec.memory_limit,
            memory_cap_hit: store.data().cap.was_hit(),
            output_limit: spec.output_limit,
            output_overflowed: stdout.overflowed() || stderr.overflowed(),
            timeout: spec.timeout,
        };
        let quota_exceeded = store.data().quota.exceeded();
        // Free the guest's memory now rather than when Ruby gets round to it.
        drop(store);
        let exit_code = match outcome {
            Ok(()) => 0,
            Err(err) => match err.downcast_ref::<I32Exit>() {
                Some(exit) => exit.0,
                None => {
                    return Err(
                        HostError::from_run(&err, &observed).with_guest_stderr(&stderr.take())
                    )
                }
            },
        };
        if let Some(message) = quota_exceeded {
            // The guest was refused a write; whatever it left behind is incomplete.
            return Err(HostError::ResourceLimit(message));
        }
        if observed.output_overflowed {
            // The guest carried on after a failed write: its output is incomplete.
            return Err(HostError::ResourceLimit(format!(
                "guest output exceeded output_limit of {} bytes",
                spec.output_limit
            )));
        }
        Ok(RunOutput {
            exit_code,
            stdout: stdout.take(),
            stderr: stderr.take(),
        })
    }
}
