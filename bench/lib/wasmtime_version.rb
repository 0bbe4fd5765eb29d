# frozen_string_literal: true

module Bench
  # The wasmtime the extension embeds, read where Cargo resolved it (Cargo.lock), so a
  # bump in ext/stats_tracker_host/Cargo.toml moves the benchmark's CLI contender with it.
  def self.wasmtime_version(root = File.expand_path("../..", __dir__))
    lock = File.read(File.join(root, "Cargo.lock"))
    lock[/^name = "wasmtime"\nversion = "([^"]+)"/, 1] || raise("no wasmtime package in #{root}/Cargo.lock")
  end
end
