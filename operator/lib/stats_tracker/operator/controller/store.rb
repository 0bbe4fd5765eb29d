# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # The informer's in-memory copy of one kind, keyed "namespace/name". Objects are frozen
      # Hashes, so readers in other threads never see a half-updated object.
      class Store
        def self.key_for(object)
          meta = object.fetch(:metadata)
          meta[:namespace] ? "#{meta[:namespace]}/#{meta[:name]}" : meta[:name]
        end

        def initialize
          @objects = {}
          @lock = Mutex.new
        end

        def put(object)
          frozen = deep_freeze(object)
          @lock.synchronize { @objects[self.class.key_for(frozen)] = frozen }
        end

        def delete(key)
          @lock.synchronize { @objects.delete(key) }
        end

        def get(key)
          @lock.synchronize { @objects[key] }
        end

        def all
          @lock.synchronize { @objects.values }
        end

        def keys
          @lock.synchronize { @objects.keys }
        end

        def size
          @lock.synchronize { @objects.size }
        end

        # Replaces the content with a fresh list; returns [added_or_changed, removed] for events.
        def replace(objects)
          fresh = objects.to_h { |o| [self.class.key_for(o), deep_freeze(o)] }
          @lock.synchronize do
            changed = fresh.values.reject do |o|
              old = @objects[self.class.key_for(o)]
              old && old.dig(:metadata, :resourceVersion) == o.dig(:metadata, :resourceVersion)
            end
            removed = @objects.reject { |key, _| fresh.key?(key) }.values
            @objects = fresh
            [changed, removed]
          end
        end

        private

        def deep_freeze(value)
          case value
          when Hash then value.each_value { |v| deep_freeze(v) }.freeze
          when Array then value.each { |v| deep_freeze(v) }.freeze
          when String then value.frozen? ? value : value.freeze
          else value
          end
        end
      end
    end
  end
end
