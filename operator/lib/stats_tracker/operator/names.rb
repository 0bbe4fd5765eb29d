# frozen_string_literal: true

require "digest"

module StatsTracker
  module Operator
    # Derives Leaf object names from package names. Package names may contain "/", "_", "." and
    # upper case, none of which are valid in an RFC 1123 label; two packages may then map to the
    # same name ("charts/flagger" and "charts-flagger"), so colliding names get a short digest of
    # the original package name. The result depends only on the set of names, never on order.
    module Names
      MAX_LENGTH = 63
      DIGEST_LENGTH = 8

      module_function

      # Returns { package_name => leaf_name } for the packages of one Project.
      def leaf_names(project:, packages:)
        base = packages.uniq.to_h { |pkg| [pkg, sanitize("#{project}-#{pkg}")] }
        counts = base.values.tally
        base.to_h { |pkg, name| [pkg, counts[name] > 1 ? suffixed(name, "#{project}/#{pkg}") : name] }
      end

      # A name already taken by a Leaf another Project controls: derive a distinct, stable one.
      def disambiguate(name, project:, package:)
        suffixed(name, "#{project}/#{package}")
      end

      def sanitize(raw)
        name = raw.downcase.gsub(/[^a-z0-9-]+/, "-").squeeze("-").gsub(/\A-+|-+\z/, "")
        name = "x" if name.empty?
        return name if name.length <= MAX_LENGTH

        suffixed(name, raw)
      end

      def suffixed(name, original)
        digest = Digest::SHA256.hexdigest(original)[0, DIGEST_LENGTH]
        head = name[0, MAX_LENGTH - DIGEST_LENGTH - 1].sub(/-+\z/, "")
        "#{head}-#{digest}"
      end

      # A label value naming the Project: its name when it fits the 63 characters a label value
      # may have, else a stable shortened form (names may be up to 253 characters).
      def label_value(name)
        return name if name.length <= MAX_LENGTH

        digest = Digest::SHA256.hexdigest(name)[0, DIGEST_LENGTH]
        "#{name[0, MAX_LENGTH - DIGEST_LENGTH - 1].sub(/[^A-Za-z0-9]+\z/, '')}-#{digest}"
      end

      def valid?(name)
        name.length <= MAX_LENGTH && /\A[a-z0-9]([-a-z0-9]*[a-z0-9])?\z/.match?(name)
      end
    end
  end
end
