# frozen_string_literal: true

module StatsTracker
  module Testing
    # Where slow build outputs live, outside the checkout. The one Ruby form of the rule; the shell
    # form is testing/cache_root.sh, and spec/testing/cache_root_spec.rb keeps the two in step.
    module CacheRoot
      module_function

      # Like the shell's ${XDG_CACHE_HOME:-$HOME/.cache}: an empty variable counts as unset.
      def path(env: ENV)
        base = env["XDG_CACHE_HOME"].to_s
        base = File.join(env["HOME"].to_s.empty? ? Dir.home : env["HOME"], ".cache") if base.empty?
        File.join(base, "stats_tracker")
      end

      def join(*parts, env: ENV) = File.join(path(env: env), *parts)
    end
  end
end
