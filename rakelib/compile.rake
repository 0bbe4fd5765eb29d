# frozen_string_literal: true

# `rake compile`: the native extension, built by ext/stats_tracker/extconf.rb's Makefile
# (the same path `gem install` takes) and installed into lib/ for use from a checkout.
# Incremental: cargo skips unchanged crates, the Makefile copies only a changed .so.
EXT_DIR = File.expand_path("../ext/stats_tracker", __dir__)
EXT_LIB_DIR = File.expand_path("../lib", __dir__)

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
  desc "cargo fmt --check and clippy -D warnings for the extension crate"
  task :lint do
    manifest = File.join(EXT_DIR, "Cargo.toml")
    sh "cargo", "fmt", "--check", "--manifest-path", manifest
    sh({ "RUBY" => RbConfig.ruby }, "cargo", "clippy", "--release", "--manifest-path", manifest,
       "-p", "stats_tracker", "--", "-D", "warnings")
  end

  # The host logic's unit tests (cache pruning, write quota, limits, executor). Release, like
  # `rake compile`, so wasmtime is not built a second time in another profile.
  desc "cargo test for the extension crate's host logic"
  task :test do
    sh({ "RUBY" => RbConfig.ruby }, "cargo", "test", "--release", "--manifest-path", File.join(EXT_DIR, "Cargo.toml"),
       "-p", "stats_tracker", "--lib")
  end
end
