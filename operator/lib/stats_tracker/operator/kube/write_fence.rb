# frozen_string_literal: true

module StatsTracker
  module Operator
    module Kube
      # Asked before every write a replica sends: with leader election, a replica that may no
      # longer be leader writes nothing. One class, so the simulation fences its writes exactly
      # as ResourceApi does.
      class WriteFence
        WRITES = %i[create update delete apply apply_status].freeze

        # A write refused by the fence.
        class NotPermitted < StandardError; end

        # permitted: asked at each write; true while this replica may write.
        def initialize(permitted)
          @permitted = permitted
        end

        def check!(verb, plural)
          return if !WRITES.include?(verb) || @permitted.call

          raise NotPermitted, "#{verb} #{plural} refused: not the leader"
        end
      end
    end
  end
end
