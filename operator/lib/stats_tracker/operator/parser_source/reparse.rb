# frozen_string_literal: true

require_relative "../conditions"
require_relative "../controller/object_key"

module StatsTracker
  module Operator
    module ParserSource
      # After a new parser is in use, the Leafs it may now read are those whose last attempt the
      # parser rejected: they are queued at once instead of waiting out their backoff. Every other
      # Leaf uses the new parser at its next interval.
      module Reparse
        REASONS = %w[ParseFailed].freeze

        module_function

        # -> the keys queued.
        def call(leaves:, queue:)
          leaves.select { |leaf| parse_failed?(leaf) }.map do |leaf|
            Controller::ObjectKey.for(:leaf, leaf).tap { |key| queue.add(key) }
          end
        end

        def parse_failed?(leaf)
          ready = Conditions.find(leaf.dig(:status, :conditions), Conditions::READY)
          !ready.nil? && ready[:status] == "False" && REASONS.include?(ready[:reason])
        end
      end
    end
  end
end
