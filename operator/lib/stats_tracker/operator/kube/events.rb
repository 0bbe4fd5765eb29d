# frozen_string_literal: true

require "securerandom"
require "time"
require_relative "errors"

module StatsTracker
  module Operator
    module Kube
      # Records events.k8s.io/v1 Events about our objects. Names are unique (object name + random
      # suffix), identical events within `dedupe_window` are not repeated (a Leaf retrying every
      # few seconds must not flood etcd), and a failure to record never fails a reconcile.
      class Events
        def initialize(api:, controller:, instance:, logger:, dedupe_window: 300,
                       clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          @api = api
          @controller = controller
          @instance = instance
          @logger = logger
          @dedupe_window = dedupe_window
          @clock = clock
          @recent = {}
          @lock = Mutex.new
        end

        def record(object, type:, reason:, note:, action: "Reconcile")
          meta = object.fetch(:metadata)
          return if duplicate?([meta[:uid], type, reason, note])

          @api.create(event_body(object, meta, type, reason, note, action))
        rescue StandardError => e
          @logger.warn("event not recorded", reason: reason, error: Errors.describe(e))
        end

        private

        def duplicate?(signature)
          now = @clock.call
          @lock.synchronize do
            @recent.delete_if { |_, at| now - at > @dedupe_window }
            return true if @recent.key?(signature)

            @recent[signature] = now
            false
          end
        end

        def event_body(object, meta, type, reason, note, action)
          {
            metadata: { name: "#{meta[:name]}.#{SecureRandom.hex(8)}", namespace: meta[:namespace] },
            eventTime: Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ"),
            reportingController: @controller, reportingInstance: @instance[0, 128],
            action: action, reason: reason, note: note.to_s[0, 1024], type: type,
            regarding: { apiVersion: object[:apiVersion], kind: object[:kind], name: meta[:name],
                         namespace: meta[:namespace], uid: meta[:uid], resourceVersion: meta[:resourceVersion] }
          }
        end
      end
    end
  end
end
