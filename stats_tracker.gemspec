# frozen_string_literal: true

require_relative "lib/stats_tracker/version"
require_relative "lib/stats_tracker/self_test"

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
  spec.metadata["rubygems_mfa_required"] = "true"

  # A source gem: the extension is compiled at install time by cargo, while the guest
  # parser ships prebuilt (lib/stats_tracker/wasm/*.wasm, made by `rake wasm`) so installing
  # needs no wasm toolchain. The whole Cargo workspace travels (root Cargo.toml/Cargo.lock
  # and every member's sources) because the extension's crate resolves through it; fuzz
  # targets and any build output stay behind.
  patterns = [
    "lib/**/*.rb", "lib/stats_tracker/wasm/*.wasm", "sig/**/*.rbs", "exe/*",
    "ext/**/*.{rs,rb,toml}", "wasm/**/*.{rs,toml,wit}", "Cargo.toml", "Cargo.lock",
    "operator/**/*.{rb,yaml,yml}", "README.md", "LICENSE*"
  ]
  built = Dir.glob(patterns, base: __dir__).reject do |path|
    path.start_with?("wasm/fuzz/") || path.match?(%r{(\A|/)target/})
  end
  # The pages a replacement parser must parse right before the operator uses it.
  spec.files = (built + StatsTracker::SelfTest.files).uniq.sort
  spec.bindir = "exe"
  spec.executables = ["stats-tracker"]
  # The operator ships in the same gem and loads the ordinary way (`require "stats_tracker/operator"`).
  spec.require_paths = ["lib", "operator/lib"]
  spec.extensions = ["ext/stats_tracker/extconf.rb"]
  spec.requirements << "cargo and rustc >= 1.85, libclang and Ruby headers, to build the native extension"

  # No runtime dependency: kubeclient (with rest-client, http, ffi and their native parts) is
  # needed by the operator only, which says so when it is missing. A parser-only user installs
  # nothing more than the extension's build needs. The operator's image and the Gemfile add it.
  spec.requirements << "kubeclient ~> 4.9 for the Kubernetes operator only (Debian: ruby-kubeclient)"
end
