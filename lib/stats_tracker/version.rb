# frozen_string_literal: true

module StatsTracker
  VERSION = "0.1.0"
end
