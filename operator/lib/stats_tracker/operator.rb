# frozen_string_literal: true

begin
  require "kubeclient"
rescue LoadError => e
  raise LoadError, "the stats_tracker operator needs kubeclient ~> 4.9, which the stats_tracker gem does not " \
                   "install for you: add `gem \"kubeclient\", \"~> 4.9\"` to your Gemfile or install Debian's " \
                   "ruby-kubeclient (#{e.message})"
end

module StatsTracker
  # The Kubernetes operator: Project and Leaf custom resources (group stats-tracker.dev),
  # reconciled with kubeclient 4.9.3 plus the small controller layer under operator/controller.
  module Operator
  end
end

require_relative "operator/runtime"
