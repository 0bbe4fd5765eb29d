//! Ruby classes under StatsTracker::Native. Thin: copy arguments out of Ruby objects,
//! hand them to the Rust side through `released`, build plain Ruby values from
//! the result. The value objects (lib/stats_tracker/values.rb) are made in Ruby.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use magnus::{
    function, method, prelude::*, Error, IntoValue, RArray, RHash, RModule, RString, Ruby, Value,
};

use crate::cache;
use crate::call::CallControl;
use crate::compile;
use crate::engine;
use crate::errors::{HostError, IntoRuby};
use crate::gc_pressure::GcPressure;
use crate::parser::{CallLimits, ParserComponent, RejectReason};
use crate::released;
use crate::reloadable::Reloadable;
use crate::wasi_command::{Preopen, RunSpec, WasiCommand};

/// Copies a Ruby String's bytes so no Ruby memory is touched once the GVL is released.
fn copy_bytes(string: RString) -> Vec<u8> {
    // SAFETY: the GVL is held and no Ruby code runs between borrowing the slice and
    // copying it, so the string can be neither mutated nor moved by GC meanwhile.
    unsafe { string.as_slice() }.to_vec()
}

/// Compiles `bytes` (or loads them from the module cache) with the GVL released, and
/// links the result with `link`: one path for the parser component and WASI modules.
fn compile_with<A, T>(
    ruby: &Ruby,
    bytes: &[u8],
    link: impl FnOnce(A) -> Result<T, HostError> + Send,
) -> Result<T, Error>
where
    A: compile::Artifact,
{
    let cache = cache::Settings::from_env();
    let cancel = AtomicBool::new(false);
    released::run(ruby, &cancel, || {
        let engine = engine::engine().map_err(HostError::Internal)?;
        compile::load::<A>(engine, bytes, cache.as_ref()).and_then(link)
    })
}

#[magnus::wrap(
    class = "StatsTracker::Native::ParserComponent",
    free_immediately,
    size
)]
pub struct RbParserComponent {
    inner: Reloadable<ParserComponent>,
    _pressure: GcPressure,
}

impl RbParserComponent {
    fn compile(ruby: &Ruby, bytes: RString) -> Result<Self, Error> {
        let bytes = copy_bytes(bytes);
        let inner = Self::load(ruby, &bytes)?;
        Ok(RbParserComponent {
            _pressure: GcPressure::new(inner.image_size() + bytes.len()),
            inner: Reloadable::new(bytes, inner),
        })
    }

    /// Compiles (or loads from the disk cache) for this process's engine.
    fn load(ruby: &Ruby, bytes: &[u8]) -> Result<ParserComponent, Error> {
        compile_with(ruby, bytes, ParserComponent::new)
    }

    /// The parser for this process: one made before a fork is loaded again on first use.
    fn current(ruby: &Ruby, rb_self: &Self) -> Result<Arc<ParserComponent>, Error> {
        match rb_self.inner.current() {
            Some(parser) => Ok(parser),
            None => Ok(rb_self
                .inner
                .replace(Self::load(ruby, rb_self.inner.source())?)),
        }
    }

    /// What every typed parse shares: copy the page out of Ruby, run the guest with the GVL
    /// released under this call's limits, then build Ruby values once the GVL is held again.
    /// A reject becomes its reason Symbol (the Ruby side raises ParseError from it).
    fn parse_with<T, Fut>(
        ruby: &Ruby,
        rb_self: &Self,
        html: RString,
        (timeout, memory_limit): (f64, usize),
        call: impl FnOnce(Arc<ParserComponent>, Vec<u8>, CallLimits, CallControl) -> Fut,
        to_ruby: impl FnOnce(T) -> Value,
    ) -> Result<Value, Error>
    where
        Fut: Future<Output = Result<Result<T, RejectReason>, HostError>> + Send,
    {
        let limits = CallLimits {
            timeout,
            memory_limit,
        };
        let html = copy_bytes(html);
        let control = CallControl::new(limits.timeout);
        let parser = Self::current(ruby, rb_self)?;
        let outcome =
            released::run_call(ruby, &control, call(parser, html, limits, control.clone()))?;
        Ok(match outcome {
            Err(reason) => reason_symbol(ruby, reason),
            Ok(value) => to_ruby(value),
        })
    }

    fn package(
        ruby: &Ruby,
        rb_self: &Self,
        html: RString,
        timeout: f64,
        memory_limit: usize,
    ) -> Result<Value, Error> {
        Self::parse_with(
            ruby,
            rb_self,
            html,
            (timeout, memory_limit),
            |parser, html, limits, control| async move {
                parser.package(&html, &limits, &control).await
            },
            |stats| {
                let days = stats
                    .last_thirty_days
                    .map(|days| ruby.ary_from_iter(days.into_iter().map(|d| (d.date, d.count))));
                (stats.total_downloads, days, stats.last_published).into_value_with(ruby)
            },
        )
    }

    fn versions(
        ruby: &Ruby,
        rb_self: &Self,
        html: RString,
        timeout: f64,
        memory_limit: usize,
    ) -> Result<Value, Error> {
        Self::parse_with(
            ruby,
            rb_self,
            html,
            (timeout, memory_limit),
            |parser, html, limits, control| async move {
                parser.versions(&html, &limits, &control).await
            },
            |rows| {
                ruby.ary_from_iter(rows.into_iter().map(|v| (v.tag, v.downloads)))
                    .into_value_with(ruby)
            },
        )
    }

    fn listing(
        ruby: &Ruby,
        rb_self: &Self,
        html: RString,
        timeout: f64,
        memory_limit: usize,
    ) -> Result<Value, Error> {
        Self::parse_with(
            ruby,
            rb_self,
            html,
            (timeout, memory_limit),
            |parser, html, limits, control| async move {
                parser.listing(&html, &limits, &control).await
            },
            |listing| {
                let packages: RArray = ruby
                    .ary_from_iter(listing.packages.into_iter().map(|p| (p.name, p.repository)));
                (packages, listing.next_page).into_value_with(ruby)
            },
        )
    }

    fn max_input_bytes(
        ruby: &Ruby,
        rb_self: &Self,
        timeout: f64,
        memory_limit: usize,
    ) -> Result<u64, Error> {
        let (limits, control) = (
            CallLimits {
                timeout,
                memory_limit,
            },
            CallControl::new(timeout),
        );
        let parser = Self::current(ruby, rb_self)?;
        released::run_call(ruby, &control, async {
            parser.max_input_bytes(&limits, &control).await
        })
    }
}

fn reason_symbol(ruby: &Ruby, reason: RejectReason) -> Value {
    ruby.to_symbol(reason_name(reason)).into_value_with(ruby)
}

/// The Symbol name used by StatsTracker::ParseError#reason.
fn reason_name(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::Empty => "empty",
        RejectReason::NotHtml => "not_html",
        RejectReason::TooLarge => "too_large",
        RejectReason::Truncated => "truncated",
        RejectReason::TooDeep => "too_deep",
        RejectReason::NotFound => "not_found",
        RejectReason::RateLimited => "rate_limited",
        RejectReason::LoginRequired => "login_required",
        RejectReason::MalformedCount => "malformed_count",
        RejectReason::Ambiguous => "ambiguous",
        RejectReason::NoStatistics => "no_statistics",
    }
}

#[magnus::wrap(class = "StatsTracker::Native::WasiModule", free_immediately, size)]
pub struct RbWasiModule {
    inner: Reloadable<WasiCommand>,
    _pressure: GcPressure,
}

impl RbWasiModule {
    fn compile(ruby: &Ruby, bytes: RString) -> Result<Self, Error> {
        let bytes = copy_bytes(bytes);
        let inner = Self::load(ruby, &bytes)?;
        Ok(RbWasiModule {
            _pressure: GcPressure::new(inner.image_size() + bytes.len()),
            inner: Reloadable::new(bytes, inner),
        })
    }

    /// Compiles (or loads from the disk cache) for this process's engine.
    fn load(ruby: &Ruby, bytes: &[u8]) -> Result<WasiCommand, Error> {
        compile_with(ruby, bytes, WasiCommand::new)
    }

    /// The command for this process: one made before a fork is loaded again on first use.
    fn current(ruby: &Ruby, rb_self: &Self) -> Result<Arc<WasiCommand>, Error> {
        match rb_self.inner.current() {
            Some(command) => Ok(command),
            None => Ok(rb_self
                .inner
                .replace(Self::load(ruby, rb_self.inner.source())?)),
        }
    }

    /// dirs: [guest path, host path, writable]; limits: timeout, memory_limit,
    /// output_limit, write_limit, file_limit. Ruby's method arity sets the count.
    #[allow(clippy::too_many_arguments)]
    fn run(
        ruby: &Ruby,
        rb_self: &Self,
        program: String,
        args: Vec<String>,
        stdin: RString,
        env: Vec<(String, String)>,
        dirs: Vec<(String, String, bool)>,
        limits: (f64, usize, usize, u64, u64),
    ) -> Result<RArray, Error> {
        let (timeout, memory_limit, output_limit, write_limit, file_limit) = limits;
        let spec = RunSpec {
            program,
            args,
            stdin: copy_bytes(stdin),
            env,
            dirs: dirs
                .into_iter()
                .map(|(guest, host, writable)| Preopen {
                    guest,
                    host,
                    writable,
                })
                .collect(),
            write_limit,
            file_limit,
            cache_dir: cache::Settings::from_env().map(|s| s.dir),
            timeout,
            memory_limit,
            output_limit,
        };
        let control = CallControl::new(timeout);
        let command = Self::current(ruby, rb_self)?;
        let output =
            released::run_call(ruby, &control, async { command.run(spec, &control).await })?;
        let result = ruby.ary_new_capa(3);
        result.push(output.exit_code)?;
        result.push(ruby.str_from_slice(&output.stdout))?;
        result.push(ruby.str_from_slice(&output.stderr))?;
        Ok(result)
    }
}

fn wasmtime_version() -> &'static str {
    cache::wasmtime_version()
}

fn cache_stats(ruby: &Ruby) -> Result<RHash, Error> {
    let stats = &cache::STATS;
    let hash = ruby.hash_new();
    for (key, counter) in [
        ("hits", &stats.hits),
        ("misses", &stats.misses),
        ("rejected", &stats.rejected),
        ("writes", &stats.writes),
        ("write_errors", &stats.write_errors),
        ("pruned", &stats.pruned),
    ] {
        hash.aset(ruby.to_symbol(key), counter.load(Ordering::Relaxed))?;
    }
    Ok(hash)
}

/// Instance slots of the pooling allocator (0: instances are allocated per call).
fn pool_slots(ruby: &Ruby) -> Result<u32, Error> {
    engine::pool_slots().map_err(|m| HostError::Internal(m).into_ruby(ruby))
}

/// Hex SHA-256 of a String's bytes, for checking artifacts on every Parser.new: sha2 uses
/// the CPU's SHA instructions when present, which Ruby's Digest::SHA256 does not
/// (bench/RESULTS.md has the figures).
fn sha256_hex(bytes: RString) -> String {
    // SAFETY: the GVL is held and no Ruby code runs while the slice is borrowed, so the
    // string can be neither mutated nor moved by GC meanwhile.
    cache::hex(&cache::sha256(unsafe { bytes.as_slice() }))
}

fn cache_dir() -> Option<String> {
    cache::Settings::from_env().map(|s| s.dir.to_string_lossy().into_owned())
}

/// Why the module cache is not in use, once a compile has tried it (nil: in use).
fn cache_off_reason() -> Option<String> {
    cache::off_reason()
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let root: RModule = ruby.define_module("StatsTracker")?;
    let native = root.define_module("Native")?;
    native.define_singleton_method("wasmtime_version", function!(wasmtime_version, 0))?;
    native.define_singleton_method("cache_stats", function!(cache_stats, 0))?;
    native.define_singleton_method("cache_dir", function!(cache_dir, 0))?;
    native.define_singleton_method("cache_off_reason", function!(cache_off_reason, 0))?;
    native.define_singleton_method("pool_slots", function!(pool_slots, 0))?;
    native.define_singleton_method("sha256_hex", function!(sha256_hex, 1))?;

    let parser = native.define_class("ParserComponent", ruby.class_object())?;
    parser.undef_default_alloc_func();
    parser.define_singleton_method("compile", function!(RbParserComponent::compile, 1))?;
    parser.define_method("package", method!(RbParserComponent::package, 3))?;
    parser.define_method("versions", method!(RbParserComponent::versions, 3))?;
    parser.define_method("listing", method!(RbParserComponent::listing, 3))?;
    parser.define_method(
        "max_input_bytes",
        method!(RbParserComponent::max_input_bytes, 2),
    )?;

    let module = native.define_class("WasiModule", ruby.class_object())?;
    module.undef_default_alloc_func();
    module.define_singleton_method("compile", function!(RbWasiModule::compile, 1))?;
    module.define_method("run", method!(RbWasiModule::run, 6))?;
    Ok(())
}
