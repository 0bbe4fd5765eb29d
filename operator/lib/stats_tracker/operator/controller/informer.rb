# frozen_string_literal: true

require_relative "store"
require_relative "watch_stream"
require "stats_tracker/backoff"
require_relative "../kube/errors"

module StatsTracker
  module Operator
    module Controller
      # List+watch for one kind in one namespace (nil = all): fills a Store and calls
      # `handler.call(type, object, previous)` with :upsert or :delete (previous = the cached
      # version a watch event replaced, nil after a list). Lists at start, then only after
      # 410 Gone, as client-go's reflector does: every watch that ends, whether the server's
      # timeout closed it or it failed and was retried with backoff, resumes from the last
      # resourceVersion (bookmarks keep it fresh). A timed relist would cost the API server a
      # full list and this process a second copy of the listed page for nothing: no handler
      # needs an unchanged object re-delivered (a list tells them only what changed).
      # `watch_stream` opens each watch (->(url:, connection:, read_timeout:) { #each, #finish }):
      # a WatchStream unless a spec puts a hand between the informer and the API server.
      class Informer
        # A list older than what this informer has already seen, from an API server that lags
        # (a stale watch cache, a lagging replica). Taking it would bring back objects deleted
        # since, so it is refused and the list retried, as client-go's reflector asks for "not
        # older than" the version it last saw.
        class StaleList < StandardError; end

        attr_reader :store, :name, :namespace, :thread

        def plural
          @api.plural
        end

        def initialize(api:, handler:, logger:, stop:, namespace: nil, watch_timeout: 300,
                       read_timeout: 90, backoff: StatsTracker::Backoff.new(base: 0.5, cap: 30), on_watch_event: nil,
                       label_selector: nil, field_selector: nil, watch_stream: WatchStream.method(:new))
          @api = api
          @handler = handler
          @namespace = namespace
          @label_selector = label_selector
          @field_selector = field_selector
          @logger = logger
          @stop = stop
          @watch_timeout = watch_timeout
          @read_timeout = read_timeout
          @backoff = backoff
          @on_watch_event = on_watch_event || ->(_kind) {}
          @watch_stream = watch_stream
          @store = Store.new
          @name = [api.plural, namespace || "*"].join("@")
          @resource_version = nil
          @seen_version = nil # kept across 410 Gone, which only forgets where to resume
          @synced = false
          @lists = 0
          @failures = 0
          @stream = nil
          @lock = Mutex.new
        end

        def synced?
          @synced
        end

        # How many full lists were made (1 at start; one more after each 410 Gone).
        attr_reader :lists

        def start
          @thread = Thread.new do
            Thread.current.name = "informer #{@name}"
            run
          end
          self
        end

        def stop
          @lock.synchronize { @stream&.finish }
        end

        def join(timeout = nil)
          @thread&.join(timeout)
        end

        # Replaces the cache with a full list and tells the handler what changed. The thread's
        # loop calls it after each list; a simulation calls it directly, without threads.
        def load(items, version)
          if Store.older?(version, @seen_version)
            raise StaleList, "list at resourceVersion #{version} is older than #{@seen_version}, already seen"
          end

          changed, removed = @store.replace(items, version: version)
          @resource_version = @seen_version = @listed_version = version
          removed.each { |o| @handler.call(:delete, o, nil) }
          changed.each { |o| @handler.call(:upsert, @store.get(Store.key_for(o)), nil) }
          @synced = true
          @lists += 1
          @logger.debug("listed", informer: @name, count: items.size, resource_version: version)
        end

        # Applies one watch notice to the cache and tells the handler.
        # A watch started from a list only sends what changed after it, so a notice no newer than
        # the last list is left over from a watch before it, and would bring back an object the
        # list no longer has.
        def dispatch(notice)
          object = notice[:object]
          version = object&.dig(:metadata, :resourceVersion)
          return if version && (version == @listed_version || Store.older?(version, @listed_version))

          @on_watch_event.call(notice[:type])
          case notice[:type]
          when "ADDED", "MODIFIED"
            key = Store.key_for(object)
            old = @store.get(key)
            @store.put(object)
            @handler.call(:upsert, @store.get(key), old)
          when "DELETED"
            @store.remove(object)
            @handler.call(:delete, object, nil)
          end
          @resource_version = version if version
          @seen_version = version if version && !Store.older?(version, @seen_version)
        end

        private

        def run
          until @stop.stopped?
            begin
              relist if @resource_version.nil?
              watch
              @failures = 0
            rescue WatchStream::Gone => e
              @logger.info("watch expired, relisting", informer: @name, detail: e.message)
              @resource_version = nil
            rescue StandardError => e
              break if @stop.stopped? # the error is the stop itself (socket closed under the reader)

              delay = @backoff.delay(@failures)
              @failures += 1
              @logger.warn("watch failed, retrying", informer: @name, error: Kube::Errors.describe(e),
                                                     retry_in: delay.round(2))
              @stop.wait(delay)
            end
          end
        end

        def relist
          items, version = @api.list(namespace: @namespace, label_selector: @label_selector, field_selector: @field_selector,
                                     transform: method(:cached_or_new))
          load(items, version)
        end

        # A listed object the cache already holds at the same resourceVersion is that object:
        # reusing it means a relist of thousands of unchanged objects builds no second copy.
        def cached_or_new(item)
          cached = @store.get(Store.key_for(item))
          version = item.dig(:metadata, :resourceVersion)
          cached && version && cached.dig(:metadata, :resourceVersion) == version ? cached : CacheTransform.call(item)
        end

        def watch
          url = @api.watch_url(namespace: @namespace, resource_version: @resource_version,
                               timeout_seconds: @watch_timeout, label_selector: @label_selector,
                               field_selector: @field_selector)
          stream = @watch_stream.call(url: url, connection: @api.connection, read_timeout: @read_timeout)
          @lock.synchronize { @stream = stream }
          return if @stop.stopped?

          stream.each { |notice| dispatch(notice) }
        ensure
          @lock.synchronize { @stream = nil }
        end
      end
    end
  end
end
