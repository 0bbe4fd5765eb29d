# frozen_string_literal: true

require "erb"

module StatsTracker
  module Dashboard
    # The dashboard's URLs. Owner and package are each one percent-encoded path segment, so a
    # package named charts/flagger (or anything hostile) cannot reach another route.
    module Paths
      module_function

      def package(owner, name)
        "/packages/#{ERB::Util.url_encode(owner)}/#{ERB::Util.url_encode(name)}"
      end

      def package_json(owner, name)
        "/api#{package(owner, name)}"
      end

      # [owner, name] from a raw (still encoded) request path under prefix, or nil.
      def parse_package(raw_path, prefix:)
        rest = raw_path.delete_prefix(prefix)
        return nil if rest == raw_path

        parts = rest.split("/", -1)
        return nil unless parts.size == 2 && parts.none?(&:empty?)

        names = parts.map { |part| decode(part) }
        names.all?(&:valid_encoding?) ? names : nil
      end

      # Percent-decoding of a path segment ("+" stays "+": it is not a space in a path).
      def decode(segment)
        segment.b.gsub(/%\h\h/) { |escape| escape[1, 2].hex.chr }.force_encoding(Encoding::UTF_8)
      end
    end
  end
end
