# frozen_string_literal: true

require_relative "wasi/result"
require_relative "wasi/command"

module StatsTracker
  # Running WASI preview-1 command modules in a deny-by-default sandbox.
  module Wasi
  end
end
