//! Compiling artifacts, through the cache when there is one.

mod common;

use std::sync::atomic::Ordering;

use common::Scratch;
use stats_tracker_host::cache::{Settings, STATS};
use stats_tracker_host::compile::{self, MAX_ARTIFACT_BYTES};
use stats_tracker_host::errors::HostError;
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

const MODULE: &str = r#"(module (func (export "answer") (result i32) i32.const 42))"#;

#[test]
fn an_oversized_artifact_is_refused_before_compiling() {
    let bytes = vec![0u8; MAX_ARTIFACT_BYTES + 1];
    match compile::load::<Module>(&Engine::default(), &bytes, None) {
        Err(HostError::ResourceLimit(message)) => {
            assert!(message.contains("at most 67108864 bytes"), "{message}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn invalid_bytes_are_a_compile_error_saying_what_was_compiled() {
    let bytes = b"\0asm\x01\0\0\0\x01";
    match compile::load::<Module>(&Engine::default(), bytes, None) {
        Err(HostError::Compile(message)) => {
            assert!(
                message.starts_with("cannot compile the module: "),
                "{message}"
            )
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    match compile::load::<Component>(&Engine::default(), bytes, None) {
        Err(HostError::Compile(message)) => {
            assert!(
                message.starts_with("cannot compile the component: "),
                "{message}"
            )
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn a_second_load_of_the_same_bytes_comes_from_the_cache() {
    let scratch = Scratch::new("compile-cache");
    let settings = Settings {
        dir: scratch.path().to_path_buf(),
        max_bytes: 1 << 30,
        trusted: None,
    };
    let engine = Engine::default();
    let hits = STATS.hits.load(Ordering::Relaxed);
    let first = compile::load::<Module>(&engine, MODULE.as_bytes(), Some(&settings));
    assert!(first.is_ok_and(|m| m.get_export("answer").is_some()));
    let files = std::fs::read_dir(scratch.path()).map(|d| d.count());
    assert_eq!(files.ok(), Some(1));
    let second = compile::load::<Module>(&engine, MODULE.as_bytes(), Some(&settings));
    assert!(second.is_ok_and(|m| m.get_export("answer").is_some()));
    assert!(STATS.hits.load(Ordering::Relaxed) > hits);
}

#[test]
fn a_component_compiles_without_a_cache() {
    let component = compile::load::<Component>(&Engine::default(), b"(component)", None);
    assert!(component.is_ok());
}
