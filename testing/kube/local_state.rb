# frozen_string_literal: true

require "fileutils"
require "json"
require_relative "process_group"

module StatsTracker
  module Testing
    module Kube
      # The state file of a cluster started by `bin/kube-local up`, which must be stopped later by a
      # different process (`down`): its process groups, in stop order, and its work dir.
      class LocalState
        attr_reader :dir

        def initialize(dir:)
          @dir = dir
        end

        def path = File.join(dir, "state.json")

        def cluster_dir = File.join(dir, "cluster")

        def save(cluster_state)
          FileUtils.mkdir_p(dir)
          File.write(path, JSON.pretty_generate(cluster_state))
        end

        def load = File.exist?(path) ? JSON.parse(File.read(path)) : nil

        def running?
          state = load
          !state.nil? && state.fetch("process_groups").any? { |g| ProcessGroup.alive?(g) }
        end

        # TERM each group (controller manager, apiserver, etcd), KILL what is left after the grace.
        def stop(grace: 5)
          state = load
          return false unless state

          state.fetch("process_groups").each { |group| ProcessGroup.stop(group, grace: grace) }
          FileUtils.rm_rf(state.fetch("work_dir"))
          FileUtils.rm_f(path)
          true
        end
      end
    end
  end
end
