# frozen_string_literal: true

module StatsTracker
  class CLI
    # Turns the parser's value objects into the JSON objects of the corpus' expected.json,
    # in its key order. The value objects already give JSON-ready #to_h; this only adds the
    # "kind" envelope and normalises keys to strings.
    module JsonShape
      module_function

      def package(stats)
        fields = plain(stats)
        { "kind" => "package", "total_downloads" => fields["total_downloads"],
          "last_30_days" => fields["last_30_days"], "last_published" => fields["last_published"] }
      end

      def versions(versions)
        { "kind" => "versions", "versions" => versions.map { |version| version_entry(version) } }
      end

      def listing(packages, next_page)
        { "kind" => "listing", "packages" => packages.map { |package| package_entry(package) },
          "next_page" => next_page }
      end

      def error(reason, page_kind)
        { "kind" => "error", "reason" => reason.to_s, "page" => page_kind.to_s }
      end

      def version_entry(version)
        fields = plain(version)
        { "tag" => fields["tag"], "downloads" => fields["downloads"] }
      end

      def package_entry(package)
        fields = plain(package)
        { "name" => fields["name"], "repository" => fields["repository"] }
      end

      # Deep #to_h with string keys, whatever key type the value object uses.
      def plain(value)
        case value
        when Hash then value.to_h { |key, item| [key.to_s, plain(item)] }
        when Array then value.map { |item| plain(item) }
        when String, Integer, Float, true, false, nil then value
        else value.respond_to?(:to_h) ? plain(value.to_h) : value.to_s
        end
      end
    end
  end
end
