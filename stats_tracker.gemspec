# frozen_string_literal: true

require_relative "lib/stats_tracker/version"

Gem::Specification.new do |spec|
  spec.name = "stats_tracker"
  spec.version = StatsTracker::VERSION
  spec.authors = ["stats_tracker developers"]
  spec.summary = "GHCR package download counts, parsed by a sandboxed WebAssembly parser"
  spec.description = <<~DESC
    Reads the download statistics GitHub shows only on Container Registry package pages,
    with a Rust HTML parser compiled to WebAssembly and run in wasmtime from a native
    extension, and ships a Kubernetes operator that records them as custom resources.
  DESC
  spec.license = "Apache-2.0"
  spec.required_ruby_version = ">= 3.1"

  spec.files = Dir[
    "lib/**/*.rb", "lib/stats_tracker/wasm/*.wasm", "sig/**/*.rbs", "exe/*",
    "ext/**/*.{rs,rb,toml}", "wasm/**/*.{rs,toml,wit}", "Cargo.toml", "Cargo.lock",
    "operator/**/*.{rb,yaml,yml}", "README.md"
  ].reject { |f| f.start_with?("wasm/fuzz/") }
  spec.bindir = "exe"
  spec.executables = ["stats-tracker"]
  spec.require_paths = ["lib"]
  spec.extensions = ["ext/stats_tracker/extconf.rb"]

  spec.add_dependency "kubeclient", "~> 4.9"
end
