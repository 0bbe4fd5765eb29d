# frozen_string_literal: true

module StatsTracker
  # The Kubernetes operator: Project and Leaf custom resources (group stats-tracker.dev),
  # reconciled with kubeclient 4.9.3 plus the small controller layer under operator/controller.
  module Operator
  end
end

require_relative "operator/runtime"
