# frozen_string_literal: true

# `rake compile`: the native extension, built by ext/stats_tracker/extconf.rb's Makefile
# (the same path `gem install` takes) and installed into lib/ for use from a checkout.
# Incremental: cargo skips unchanged crates, the Makefile copies only a changed .so.
EXT_DIR = File.expand_path("../ext/stats_tracker", __dir__)
EXT_LIB_DIR = File.expand_path("../lib", __dir__)
# The Ruby bindings and the Ruby-free host crate they call into, as cargo -p arguments.
EXT_PACKAGES = %w[stats_tracker stats_tracker_host].flat_map { |crate| ["-p", crate] }.freeze

desc "Build the native extension into lib/stats_tracker/stats_tracker.so (after rake wasm)"
task compile: %i[wasm compile:ext]

namespace :compile do
  desc "Build only the native extension (no wasm artifacts)"
  task :ext do
    Dir.chdir(EXT_DIR) do
      ruby "extconf.rb" unless uptodate?("Makefile", ["extconf.rb"])
      # cc's build scripts (wasmtime's among them) rerun when SOURCE_DATE_EPOCH changes, which
      # `release:reproducible` and gem builds set: without it here, a publish would rebuild wasmtime.
      sh({ "SOURCE_DATE_EPOCH" => nil }, "make", "install", "sitearchdir=#{EXT_LIB_DIR}")
    end
  end
end

namespace :ext do
  desc "cargo fmt --check and clippy -D warnings (tests included) for the extension's crates"
  task :lint do
    manifest = File.join(EXT_DIR, "Cargo.toml")
    sh "cargo", "fmt", "--check", "--manifest-path", manifest, *EXT_PACKAGES
    sh({ "RUBY" => RbConfig.ruby }, "cargo", "clippy", "--release", "--manifest-path", manifest,
       *EXT_PACKAGES, "--all-targets", "--", "-D", "warnings")
  end

  # The host crate's unit and integration tests (cache verification, call control, slots, output cap, limits,
  # write quota, executor, error classification) and any in the bindings. Release, like
  # `rake compile`, so wasmtime is not built a second time in another profile.
  desc "cargo test for the extension's crates"
  task :test do
    sh({ "RUBY" => RbConfig.ruby }, "cargo", "test", "--release", "--manifest-path", File.join(EXT_DIR, "Cargo.toml"),
       *EXT_PACKAGES, "--lib", "--tests")
  end
end
