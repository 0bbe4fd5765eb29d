//! A WASI command run end to end in the sandbox, with the process-wide engine.

mod common;

use common::{finish, Scratch};
use stats_tracker_host::call::CallControl;
use stats_tracker_host::compile;
use stats_tracker_host::engine;
use stats_tracker_host::errors::HostError;
use stats_tracker_host::wasi_command::{Preopen, RunOutput, RunSpec, WasiCommand};
use wasmtime::Module;

/// Writes "hi\n" to stdout and exits with 3.
const HELLO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const 3))))"#;

const SPIN: &str = r#"(module (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))"#;

/// Asks for 100 more pages (6.4 MiB) and aborts when refused, as a Rust allocator does.
const GROW: &str = r#"(module (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.lt_s (memory.grow (i32.const 100)) (i32.const 0)) (then unreachable))))"#;

fn command(wat: &str) -> Result<WasiCommand, HostError> {
    let engine = engine::engine().map_err(HostError::Internal)?;
    compile::load::<Module>(engine, wat.as_bytes(), None).and_then(WasiCommand::new)
}

fn spec() -> RunSpec {
    RunSpec {
        program: "guest".into(),
        args: vec![],
        stdin: vec![],
        env: vec![],
        dirs: vec![],
        write_limit: 1 << 20,
        file_limit: 10,
        cache_dir: None,
        timeout: 30.0,
        memory_limit: 1 << 20,
        output_limit: 1 << 10,
    }
}

fn run(wat: &str, spec: RunSpec) -> Result<RunOutput, HostError> {
    let command = command(wat)?;
    let control = CallControl::new(spec.timeout);
    finish(command.run(spec, &control), &control)
}

#[test]
fn a_command_runs_and_its_exit_code_and_output_come_back() {
    match run(HELLO, spec()) {
        Ok(out) => {
            assert_eq!(out.exit_code, 3);
            assert_eq!(out.stdout, b"hi\n");
            assert!(out.stderr.is_empty());
        }
        Err(err) => panic!("{err:?}"),
    }
}

#[test]
fn a_module_without_start_is_not_a_command() {
    match command(r#"(module (memory (export "memory") 1))"#) {
        Err(HostError::Compile(message)) => assert!(message.contains("_start"), "{message}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn output_past_output_limit_is_a_resource_limit() {
    let small = RunSpec {
        output_limit: 2,
        ..spec()
    };
    match run(HELLO, small) {
        Err(HostError::ResourceLimit(message)) => {
            assert_eq!(message, "guest output exceeded output_limit of 2 bytes")
        }
        other => panic!("{:?}", other.map(|o| o.exit_code)),
    }
}

#[test]
fn a_guest_spinning_past_its_timeout_is_stopped() {
    let short = RunSpec {
        timeout: 0.2,
        ..spec()
    };
    match run(SPIN, short) {
        Err(HostError::Timeout(message)) => assert!(message.contains("0.2s"), "{message}"),
        other => panic!("{:?}", other.map(|o| o.exit_code)),
    }
}

#[test]
fn growing_memory_past_memory_limit_is_a_resource_limit() {
    match run(GROW, spec()) {
        Err(HostError::ResourceLimit(message)) => {
            assert_eq!(message, "guest exceeded memory_limit of 1048576 bytes")
        }
        other => panic!("{:?}", other.map(|o| o.exit_code)),
    }
    let roomy = RunSpec {
        memory_limit: 16 << 20,
        ..spec()
    };
    assert!(run(GROW, roomy).is_ok_and(|out| out.exit_code == 0));
}

#[test]
fn a_preopen_overlapping_the_module_cache_is_refused() {
    let scratch = Scratch::new("preopen");
    let cache = scratch.path().join("cache");
    let risky = RunSpec {
        dirs: vec![Preopen {
            guest: "/data".into(),
            host: scratch.path().to_string_lossy().into_owned(),
            writable: true,
        }],
        cache_dir: Some(cache),
        ..spec()
    };
    match run(HELLO, risky) {
        Err(HostError::Argument(message)) => {
            assert!(message.contains("module cache"), "{message}")
        }
        other => panic!("{:?}", other.map(|o| o.exit_code)),
    }
}
