# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # What the work queue holds: which kind of object, and which object. Equal keys are equal
      # values (a Struct), so the queue's sets and schedules work on them as on strings, and no
      # controller parses a "kind:namespace/name" string back apart.
      ObjectKey = Struct.new(:kind, :namespace, :name) do
        def self.for(kind, object)
          meta = object.fetch(:metadata)
          new(kind, meta[:namespace], meta[:name])
        end

        # The informer cache's key for the object.
        def store_key
          namespace ? "#{namespace}/#{name}" : name
        end

        def to_s
          "#{kind}:#{store_key}"
        end
      end
    end
  end
end
