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
    #
    # The extension also refuses a cache below a directory that others may write (without a sticky
    # bit), which the mount is. TRUSTED_KEY names the one such directory it may trust: the Deployment
    # sets it to the mount, an emptyDir that only this Pod's containers, all running under the Pod's
    # securityContext, can reach.
    class ModuleCache
      ENV_KEY = "STATS_TRACKER_CACHE_DIR"
      TRUSTED_KEY = "STATS_TRACKER_CACHE_TRUSTED_DIR"
      Outcome = Struct.new(:dir, :off_reason, :trusted_dir, keyword_init: true)

      def initialize(env:, uid: Process.euid)
        @env = env
        @uid = uid
      end

      # Returns the directory in use (nil when off) and the reason it is off.
      def prepare
        base = @env[ENV_KEY]
        trusted = @env[TRUSTED_KEY]
        trusted = nil if trusted&.empty?
        return Outcome.new(dir: nil, off_reason: nil, trusted_dir: trusted) if base.nil? || base.empty? # the extension's default

        return Outcome.new(dir: base, off_reason: nil, trusted_dir: trusted) if private_dir?(base)

        own = File.join(base, "uid-#{@uid}")
        FileUtils.mkdir_p(own, mode: 0o700)
        reason = why_not_private(own)
        return Outcome.new(dir: nil, off_reason: reason, trusted_dir: trusted) if reason

        @env[ENV_KEY] = own
        Outcome.new(dir: own, off_reason: nil, trusted_dir: trusted)
      rescue SystemCallError => e
        Outcome.new(dir: nil, off_reason: "cannot create a private directory in #{base}: #{e.message}", trusted_dir: trusted)
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
