# frozen_string_literal: true

require_relative "stats_tracker/version"
require_relative "stats_tracker/error"
require_relative "stats_tracker/native"
require_relative "stats_tracker/values"
require_relative "stats_tracker/parser"
require_relative "stats_tracker/wasi"
require_relative "stats_tracker/fetcher"

# Download statistics of GitHub Container Registry packages, read from their web pages
# by a Rust parser that runs sandboxed in wasmtime.
module StatsTracker
end
