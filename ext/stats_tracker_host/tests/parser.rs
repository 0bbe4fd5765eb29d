//! Linking a component against the ghcr-parser world.

use stats_tracker_host::compile;
use stats_tracker_host::engine;
use stats_tracker_host::errors::HostError;
use stats_tracker_host::parser::ParserComponent;
use wasmtime::component::Component;

#[test]
fn a_component_of_another_world_is_a_compile_error_naming_the_world() {
    let made = engine::engine()
        .map_err(HostError::Internal)
        .and_then(|engine| compile::load::<Component>(engine, b"(component)", None))
        .and_then(ParserComponent::new);
    match made {
        Err(HostError::Compile(message)) => assert!(message.contains("ghcr-parser"), "{message}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}
