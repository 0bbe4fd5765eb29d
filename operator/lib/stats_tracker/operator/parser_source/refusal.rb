# frozen_string_literal: true

module StatsTracker
  module Operator
    module ParserSource
      # Why a parser artifact was not loaded. The reason is a CamelCase word for Events and
      # metrics; transient ones (the download) are retried, the others wait for a new revision.
      class Refusal < StandardError
        REASONS = %w[DownloadFailed DigestMismatch BadArtifact WrongWorld NotLoadable LoadTrapped SelfTestFailed].freeze
        TRANSIENT = %w[DownloadFailed].freeze

        attr_reader :reason

        def initialize(reason, message)
          raise ArgumentError, "unknown refusal reason #{reason.inspect}" unless REASONS.include?(reason)

          @reason = reason
          super(message)
        end

        def transient? = TRANSIENT.include?(@reason)
      end
    end
  end
end
