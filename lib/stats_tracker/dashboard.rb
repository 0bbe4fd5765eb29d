# frozen_string_literal: true

require_relative "history"
require_relative "dashboard/server"

module StatsTracker
  # The read-only web view of the history store: an index of packages and a page per
  # package, server-rendered (HTML + SVG, no script, no external asset), plus its JSON.
  module Dashboard
  end
end
