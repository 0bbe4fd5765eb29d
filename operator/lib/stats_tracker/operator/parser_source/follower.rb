# frozen_string_literal: true

require "stats_tracker/backoff"
require_relative "refusal"
require_relative "../controller/informer"
require_relative "../controller/stop_signal"

module StatsTracker
  module Operator
    module ParserSource
      # Follows one Flux OCIRepository the way Flux's own consumers do: it watches that object
      # (read-only), and each time status.artifact names a new digest it downloads the artifact
      # from source-controller, verifies it (ArtifactDownload, CandidateCheck) and only then swaps
      # the parser. A refused artifact leaves the parser in use, and is reported as a Warning Event
      # on the OCIRepository, a log line and stats_tracker_parser_refusals_total{revision,reason}.
      # Loads run on one thread of their own, newest revision first, never inside the watch.
      class Follower
        API_VERSION = "source.toolkit.fluxcd.io/v1"
        KIND = "OCIRepository"
        INFO = "stats_tracker_parser_info"
        LOADED_AT = "stats_tracker_parser_loaded_timestamp_seconds"
        LOAD_SECONDS = "stats_tracker_parser_load_duration_seconds"
        REFUSALS = "stats_tracker_parser_refusals_total"

        def self.register_metrics(metrics)
          metrics.gauge(INFO, "1 for the parser in use, labelled with its source, revision and component digest")
          metrics.gauge(LOADED_AT, "Unix time the parser in use was loaded")
          metrics.gauge(LOAD_SECONDS, "Seconds the last parser load took: download, checks, compile and self-test")
          metrics.counter(REFUSALS, "Parser artifacts refused, by artifact revision and reason")
        end

        # Publishes what `current` holds now (at start: the built-in or file parser).
        def self.report(metrics, loaded, previous: nil)
          metrics.remove(INFO, info_labels(previous)) if previous
          metrics.set(INFO, info_labels(loaded), 1)
          metrics.set(LOADED_AT, {}, loaded.loaded_at.to_f)
        end

        def self.info_labels(loaded) = { source: loaded.source, revision: loaded.revision, digest: loaded.digest }

        # "NAME" or "NAMESPACE/NAME" -> [namespace or default_namespace, name]
        def self.locate(reference, default_namespace:)
          namespace, _, name = reference.to_s.rpartition("/")
          raise ArgumentError, "PARSER_OCIREPOSITORY must be NAME or NAMESPACE/NAME, got #{reference.inspect}" if
            name.empty? || name.include?(" ")

          [namespace.empty? ? default_namespace : namespace, name]
        end

        # api: ResourceApi for ocirepositories; current: CurrentParser; check: CandidateCheck;
        # download: ArtifactDownload; events: Kube::Events; on_swap: called after each swap.
        def initialize(api:, namespace:, name:, current:, check:, download:, events:, metrics:, logger:,
                       on_swap: -> {}, backoff: StatsTracker::Backoff.new(base: 2.0, cap: 300.0),
                       clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          @api = api
          @namespace = namespace
          @name = name
          @current = current
          @check = check
          @download = download
          @events = events
          @metrics = metrics
          @logger = logger
          @on_swap = on_swap
          @backoff = backoff
          @clock = clock
          @stop = Controller::StopSignal.new
          @lock = Mutex.new
          @wake = ConditionVariable.new
          @wanted = nil # the newest OCIRepository seen whose artifact is not yet handled
          @handled = current.loaded.digest
          @informer = Controller::Informer.new(api: api, handler: method(:on_event), namespace: namespace, logger: logger,
                                               stop: @stop, field_selector: "metadata.name=#{name}")
        end

        def source = "ocirepository/#{@namespace}/#{@name}"

        def start
          @informer.start
          @thread = Thread.new do
            Thread.current.name = "parser follower"
            run
          end
          self
        end

        def stop
          @stop.stop!
          @informer.stop
          @lock.synchronize { @wake.broadcast }
          @thread&.join(10)
          @informer.join(10)
        end

        # Informer callback: remember the newest object; the loader thread does the work.
        def on_event(type, object, _previous)
          return unless type == :upsert && object.dig(:status, :artifact, :digest)

          @lock.synchronize do
            @wanted = object
            @wake.broadcast
          end
        end

        # Loads the object's artifact now, on the caller's thread. -> :swapped, :unchanged or a Refusal.
        def load(object)
          artifact = object.dig(:status, :artifact)
          return :unchanged if artifact[:digest] == @current.loaded.digest

          started = @clock.call
          bytes = @download.fetch(url: artifact[:url], digest: artifact[:digest])
          parser = @check.call(bytes, metadata: artifact[:metadata])
          swap(object, artifact, parser, @clock.call - started)
          :swapped
        rescue Refusal => e
          refused(object, artifact, e)
          e
        end

        private

        def run
          failures = 0
          until @stop.stopped?
            object = next_wanted or next
            outcome = load(object)
            if outcome.is_a?(Refusal) && outcome.transient?
              failures += 1
              @stop.wait(@backoff.delay(failures - 1))
              requeue(object)
            else
              failures = 0
              @lock.synchronize { @handled = object.dig(:status, :artifact, :digest) }
            end
          end
        end

        # Blocks until there is an artifact not yet handled (or the follower stops).
        def next_wanted
          @lock.synchronize do
            loop do
              return nil if @stop.stopped?

              wanted = @wanted
              @wanted = nil
              return wanted if wanted && wanted.dig(:status, :artifact, :digest) != @handled

              @wake.wait(@lock, 1.0)
            end
          end
        end

        # A transient failure is tried again unless a newer object arrived meanwhile.
        def requeue(object)
          @lock.synchronize { @wanted ||= object }
        end

        def swap(object, artifact, parser, seconds)
          previous = @current.swap(parser, source: source, revision: artifact[:revision], digest: artifact[:digest])
          loaded = @current.loaded
          self.class.report(@metrics, loaded, previous: previous)
          @metrics.set(LOAD_SECONDS, {}, seconds)
          @logger.info("parser swapped", source: source, revision: loaded.revision, digest: loaded.digest,
                                         load_seconds: seconds.round(3), previous_revision: previous.revision)
          @events.record(regarding(object), type: "Normal", reason: "ParserLoaded", action: "LoadParser",
                                            note: "parser revision #{loaded.revision} in use (was #{previous.revision})")
          @on_swap.call
        end

        def refused(object, artifact, error)
          revision = artifact[:revision].to_s
          @metrics.increment(REFUSALS, revision: revision, reason: error.reason)
          @logger.warn("parser refused", source: source, revision: revision, digest: artifact[:digest],
                                         reason: error.reason, error: error.message,
                                         in_use: @current.loaded.revision)
          @events.record(regarding(object), type: "Warning", reason: "ParserRefused", action: "LoadParser",
                                            note: "parser revision #{revision} refused (#{error.reason}): #{error.message}; " \
                                                  "still using #{@current.loaded.revision}")
        end

        # List items come without apiVersion and kind; an Event's `regarding` needs both.
        def regarding(object) = object.merge(apiVersion: API_VERSION, kind: KIND)
      end
    end
  end
end
