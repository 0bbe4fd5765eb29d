# frozen_string_literal: true

module StatsTracker
  module Operator
    module Kube
      # Bound service-account tokens are rotated by the kubelet (about hourly); kubeclient 4.9.3 reads
      # the file once. This re-reads it when its mtime changes or at least every `max_age` seconds.
      class TokenSource
        def initialize(path:, max_age: 60, clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          @path = path
          @max_age = max_age
          @clock = clock
          @lock = Mutex.new
          @token = nil
          @read_at = nil
          @mtime = nil
        end

        def token
          @lock.synchronize do
            reload if stale?
            @token
          end
        end

        def authorization
          "Bearer #{token}"
        end

        private

        def stale?
          return true if @token.nil?
          return true if @clock.call - @read_at >= @max_age

          File.mtime(@path) != @mtime
        rescue SystemCallError
          false
        end

        def reload
          @mtime = File.mtime(@path)
          @token = File.read(@path).strip
          @read_at = @clock.call
        end
      end
    end
  end
end
