# frozen_string_literal: true

require "stats_tracker/operator"

module StatsTracker
  module Testing
    # A hand between the operator's informers and the real API server, through the Informer's
    # watch_stream seam: it opens real WatchStreams, and on request ends them (a dropped watch),
    # makes the next one start from an ancient resourceVersion (the API server answers a real
    # 410 Gone, as after compaction), or holds new ones empty until resumed (a watch lagging
    # behind the API server, as across a restart).
    class WatchControl
      # A watch that delivers nothing until resumed or finished, then ends: the informer
      # reconnects from its last resourceVersion and gets what it missed.
      class Lagging
        def initialize
          @done = Queue.new
        end

        def each
          @done.pop
        end

        def finish
          @done << true
        end
      end

      def initialize
        @streams = Hash.new { |h, plural| h[plural] = [] }
        @expire = {}
        @paused = {}
        @lock = Mutex.new
      end

      # The factory the Informer calls for each watch.
      def call(url:, connection:, read_timeout:)
        plural = url.path.split("/").last
        @lock.synchronize do
          url = ancient(url) if @expire.delete(plural)
          stream = if @paused[plural]
                     Lagging.new
                   else
                     Operator::Controller::WatchStream.new(url: url, connection: connection, read_timeout: read_timeout)
                   end
          @streams[plural] = @streams[plural].last(4) << stream
          stream
        end
      end

      # Ends the live watches of `plural`; the informer resumes from its last resourceVersion.
      def drop(plural)
        streams = @lock.synchronize { @streams[plural].dup }
        streams.each(&:finish)
      end

      # The next watch of `plural` starts from resourceVersion 1, long compacted: 410 Gone, relist.
      def expire(plural)
        @lock.synchronize { @expire[plural] = true }
        drop(plural)
      end

      def pause(plural)
        @lock.synchronize { @paused[plural] = true }
        drop(plural)
      end

      def resume(plural)
        @lock.synchronize { @paused.delete(plural) }
        drop(plural)
      end

      private

      def ancient(url)
        query = URI.decode_www_form(url.query.to_s).to_h.merge("resourceVersion" => "1")
        url.dup.tap { |u| u.query = URI.encode_www_form(query) }
      end
    end
  end
end
