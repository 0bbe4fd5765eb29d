# frozen_string_literal: true

require "fileutils"

module StatsTracker
  module Operator
    # Where the extension keeps compiled parser modules across process starts. It only uses a
    # directory private to the process's user (anything else could be tampered with), but the
    # volume a Pod mounts there is not: the kubelet creates an emptyDir as root:<fsGroup> with mode
    # 2777. So the operator makes a 0700 directory of its own inside the mount and points
    # STATS_TRACKER_CACHE_DIR at it, before the first parser is built. When that is impossible the
    # cache is off for this process, and the log says so and why instead of recompiling silently.
    class ModuleCache
      ENV_KEY = "STATS_TRACKER_CACHE_DIR"
      Outcome = Struct.new(:dir, :off_reason, keyword_init: true)

      def initialize(env:, uid: Process.euid)
        @env = env
        @uid = uid
      end

      # Returns the directory in use (nil when off) and the reason it is off.
      def prepare
        base = @env[ENV_KEY]
        return Outcome.new(dir: nil, off_reason: nil) if base.nil? || base.empty? # the extension's default

        return Outcome.new(dir: base, off_reason: nil) if private_dir?(base)

        own = File.join(base, "uid-#{@uid}")
        FileUtils.mkdir_p(own, mode: 0o700)
        reason = why_not_private(own)
        return Outcome.new(dir: nil, off_reason: reason) if reason

        @env[ENV_KEY] = own
        Outcome.new(dir: own, off_reason: nil)
      rescue SystemCallError => e
        Outcome.new(dir: nil, off_reason: "cannot create a private directory in #{base}: #{e.message}")
      end

      private

      def private_dir?(dir) = why_not_private(dir).nil?

      # The same rule the extension applies: a real directory we own that nobody else may write.
      def why_not_private(dir)
        stat = File.lstat(dir)
        return "#{dir} is not a directory" unless stat.directory?
        return "#{dir} belongs to uid #{stat.uid}, not #{@uid}" unless stat.uid == @uid
        return format("%<dir>s has mode %<mode>04o (group or others may write)", dir: dir, mode: stat.mode & 0o7777) if
          stat.mode.anybits?(0o022)

        nil
      rescue SystemCallError => e
        "#{dir}: #{e.message}"
      end
    end
  end
end
