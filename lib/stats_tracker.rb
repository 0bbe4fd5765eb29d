# frozen_string_literal: true

require_relative "stats_tracker/version"
require_relative "stats_tracker/error"
require_relative "stats_tracker/native"
require_relative "stats_tracker/values"
require_relative "stats_tracker/parser"
require_relative "stats_tracker/wasi"

# Download statistics of GitHub Container Registry packages, read from their web pages
# by a Rust parser that runs sandboxed in wasmtime.
module StatsTracker
  # Loaded on first use: net/http + openssl are a large share of start-up (bench/RESULTS.md),
  # and a program that only parses pages it already has (or a CLI `parse`) never needs them.
  autoload :Fetcher, File.expand_path("stats_tracker/fetcher", __dir__)
  # Likewise the history store: Sequel and a database driver are only for programs that record
  # or show history.
  autoload :History, File.expand_path("stats_tracker/history", __dir__)
end
