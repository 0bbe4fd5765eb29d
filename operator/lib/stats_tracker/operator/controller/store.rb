# frozen_string_literal: true

require_relative "cache_transform"

module StatsTracker
  module Operator
    module Controller
      # The informer's in-memory copy of one kind, keyed "namespace/name". Every object goes
      # through a transform first (CacheTransform: only what the controllers read, interned and
      # frozen), whichever writer brings it.
      #
      # Two writers race here: the watch, and the responses to our own writes. Either can carry
      # the older view (a response that was slow to come back, a watch that lags), so an object
      # never replaces one with a newer resourceVersion. The API server's resourceVersions are
      # decimal etcd revisions, and Kubernetes 1.35 made comparing them a guarantee; one that is not
      # a decimal number cannot be ordered and simply replaces.
      class Store
        DECIMAL = /\A[1-9][0-9]*\z/

        def self.key_for(object)
          meta = object.fetch(:metadata)
          meta[:namespace] ? "#{meta[:namespace]}/#{meta[:name]}" : meta[:name]
        end

        # True when version a is known to be older than version b.
        def self.older?(a, b)
          return false unless a.is_a?(String) && b.is_a?(String) && a.match?(DECIMAL) && b.match?(DECIMAL)

          a.length == b.length ? a < b : a.length < b.length
        end

        def initialize(transform: CacheTransform)
          @transform = transform
          @objects = {}
          @lock = Mutex.new
        end

        # Returns false (and keeps the cached object) when object is older than it.
        def put(object)
          frozen = @transform.call(object)
          key = self.class.key_for(frozen)
          @lock.synchronize do
            next false if newer?(@objects[key], frozen)

            @objects[key] = frozen
            true
          end
        end

        # Removes the cached object `object` names, unless the cache holds another object of that
        # name (another uid) or a version newer than the deletion: what a re-read or a write
        # response brought in before the watch told of the deletion of its predecessor. Returns
        # whether it removed anything.
        def remove(object)
          key = self.class.key_for(object)
          @lock.synchronize do
            cached = @objects[key]
            next false if cached.nil? || other?(cached, object) || newer?(cached, object)

            @objects.delete(key)
            true
          end
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

        # Replaces the content with a fresh list made at resourceVersion `version`; returns
        # [added_or_changed, removed] for events. What the cache holds newer than the list (from
        # a write response that arrived meanwhile) stays.
        def replace(objects, version: nil)
          fresh = objects.to_h { |o| [self.class.key_for(o), @transform.call(o)] }
          @lock.synchronize do
            @objects.each do |key, old|
              # The same resourceVersion is the same object: keeping the cached one lets the
              # list's copy go at once instead of replacing every object on each relist.
              kept = if fresh.key?(key)
                       newer?(old, fresh[key]) || rv(old) == rv(fresh[key])
                     else
                       version && self.class.older?(version, rv(old))
                     end
              fresh[key] = old if kept
            end
            changed = fresh.values.reject { |o| @objects[self.class.key_for(o)].equal?(o) || same_version?(o) }
            removed = @objects.reject { |key, _| fresh.key?(key) }.values
            @objects = fresh
            [changed, removed]
          end
        end

        private

        def newer?(cached, incoming)
          !cached.nil? && self.class.older?(rv(incoming), rv(cached))
        end

        def other?(cached, object)
          uid = object.dig(:metadata, :uid)
          !uid.nil? && !cached.dig(:metadata, :uid).nil? && cached.dig(:metadata, :uid) != uid
        end

        def same_version?(object)
          old = @objects[self.class.key_for(object)]
          old && rv(old) == rv(object)
        end

        def rv(object)
          object.dig(:metadata, :resourceVersion)
        end
      end
    end
  end
end
