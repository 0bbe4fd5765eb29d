# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # What the informer caches keep of an object, applied to every object before it is cached
      # (list, watch and write responses alike), the way controller-runtime's cache transforms do:
      #
      # - metadata only holds the fields the controllers read; managedFields (the server-side
      #   apply bookkeeping, often larger than the rest of the object), creationTimestamp,
      #   finalizers and kubectl's last-applied-configuration copy of the object are dropped;
      # - every String is interned, so the values thousands of Leafs share (dates of the 30-day
      #   chart, condition reasons, owners, intervals) are held once;
      # - everything is frozen, so readers in other threads never see a half-updated object.
      #
      # The object is changed in place (it is freshly parsed and owned by the caller) and returned.
      module CacheTransform
        METADATA = %i[name namespace uid generation resourceVersion labels annotations ownerReferences
                      deletionTimestamp].freeze
        LAST_APPLIED = :"kubectl.kubernetes.io/last-applied-configuration"

        module_function

        def call(object)
          return clean?(object) ? object : call(Marshal.load(Marshal.dump(object))) if object.frozen?

          meta = object[:metadata]
          trim_metadata(meta) if meta.is_a?(Hash)
          intern(object)
        end

        # An object that is already frozen came through here before, unless a caller froze it.
        def clean?(object)
          meta = object[:metadata]
          !meta.is_a?(Hash) || (meta.keys - METADATA).empty?
        end

        def trim_metadata(meta)
          meta.select! { |key, _| METADATA.include?(key) }
          annotations = meta[:annotations]
          return unless annotations.is_a?(Hash)

          annotations.delete(LAST_APPLIED)
          meta.delete(:annotations) if annotations.empty?
        end

        def intern(value)
          case value
          when Hash then value.transform_values! { |v| intern(v) }.freeze
          when Array then value.map! { |v| intern(v) }.freeze
          when String then -value
          else value
          end
        end
      end
    end
  end
end
