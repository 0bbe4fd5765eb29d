//! The typed parser: the bundled WASI p2 component, called through bindings generated
//! from wasm/wit/ghcr-parser.wit, one fresh Store per call.

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::Store;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::call::CallControl;
use crate::engine::{self, TickGuard};
use crate::errors::{HostError, Observed};
use crate::limits::MemoryCap;
use crate::output::CappedOutput;
use crate::slots::Slot;

wasmtime::component::bindgen!({
    world: "ghcr-parser",
    path: "../../wasm/wit",
    exports: { default: async },
});

pub use stats_tracker::ghcr::types::{Listing, PackageStats, RejectReason, VersionDownloads};

/// A guest panic message is worth keeping for the TrapError; more is noise.
const STDERR_CAP: usize = 16 * 1024;

pub struct ComponentState {
    ctx: WasiCtx,
    table: ResourceTable,
    cap: MemoryCap,
}

impl WasiView for ComponentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

pub struct ParserComponent {
    pre: GhcrParserPre<ComponentState>,
    image_size: usize,
}

pub struct CallLimits {
    pub timeout: f64,
    pub memory_limit: usize,
}

impl ParserComponent {
    pub fn new(component: Component) -> Result<Self, HostError> {
        let engine = engine::engine().map_err(HostError::Internal)?;
        let mut linker: Linker<ComponentState> = Linker::new(engine);
        // Rust's std on wasip2 imports wasi:cli/io/clocks/... even if unused; they are
        // backed by an empty context (no env, args, dirs, sockets; stdout discarded).
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| HostError::Internal(format!("{e:#}")))?;
        let range = component.image_range();
        let image_size = (range.end as usize).saturating_sub(range.start as usize);
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| HostError::Compile(format!("cannot link component: {e:#}")))?;
        let pre = GhcrParserPre::new(instance_pre).map_err(|e| {
            HostError::Compile(format!(
                "component does not implement world ghcr-parser: {e:#}"
            ))
        })?;
        Ok(ParserComponent { pre, image_size })
    }

    pub fn image_size(&self) -> usize {
        self.image_size
    }

    /// Instantiates into a fresh store, runs `f`, and classifies any failure.
    pub async fn call<R, F>(
        &self,
        limits: &CallLimits,
        control: &CallControl,
        f: F,
    ) -> Result<R, HostError>
    where
        F: AsyncFnOnce(&GhcrParser, &mut Store<ComponentState>) -> wasmtime::Result<R>,
    {
        // Held until the store is dropped, which returns the instance to the pool.
        let _slot = Slot::acquire(control).await?;
        let stderr = CappedOutput::new(STDERR_CAP);
        let ctx = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let mut store = Store::new(
            self.pre.engine(),
            ComponentState {
                ctx,
                table: ResourceTable::new(),
                cap: MemoryCap::new(limits.memory_limit),
            },
        );
        store.limiter(|state| &mut state.cap);
        control.arm(&mut store);
        let outcome = {
            let _ticking = TickGuard::start().map_err(HostError::Internal)?;
            match self.pre.instantiate_async(&mut store).await {
                Ok(parser) => f(&parser, &mut store).await,
                Err(err) => Err(err),
            }
        };
        let memory_cap_hit = store.data().cap.was_hit();
        drop(store);
        outcome.map_err(|err| {
            let observed = Observed {
                memory_limit: limits.memory_limit,
                memory_cap_hit,
                output_limit: STDERR_CAP,
                output_overflowed: false,
                timeout: limits.timeout,
            };
            HostError::from_run(&err, &observed).with_guest_stderr(&stderr.take())
        })
    }

    pub async fn package(
        &self,
        html: &[u8],
        limits: &CallLimits,
        control: &CallControl,
    ) -> Result<Result<PackageStats, RejectReason>, HostError> {
        self.call(limits, control, async |parser, store| {
            parser
                .stats_tracker_ghcr_parse()
                .call_package(store, html)
                .await
        })
        .await
    }

    pub async fn versions(
        &self,
        html: &[u8],
        limits: &CallLimits,
        control: &CallControl,
    ) -> Result<Result<Vec<VersionDownloads>, RejectReason>, HostError> {
        self.call(limits, control, async |parser, store| {
            parser
                .stats_tracker_ghcr_parse()
                .call_versions(store, html)
                .await
        })
        .await
    }

    pub async fn listing(
        &self,
        html: &[u8],
        limits: &CallLimits,
        control: &CallControl,
    ) -> Result<Result<Listing, RejectReason>, HostError> {
        self.call(limits, control, async |parser, store| {
            parser
                .stats_tracker_ghcr_parse()
                .call_listing(store, html)
                .await
        })
        .await
    }

    pub async fn max_input_bytes(
        &self,
        limits: &CallLimits,
        control: &CallControl,
    ) -> Result<u64, HostError> {
        self.call(limits, control, async |parser, store| {
            parser
                .stats_tracker_ghcr_parse()
                .call_max_input_bytes(store)
                .await
        })
        .await
    }
}
