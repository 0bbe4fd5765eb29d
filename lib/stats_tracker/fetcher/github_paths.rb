# frozen_string_literal: true

require "erb"

module StatsTracker
  class Fetcher
    # GitHub's URL layout for container packages. Org- and user-owned packages live under
    # different prefixes, and a package name may contain "/" (charts/flagger), which GitHub
    # expects percent-encoded as one path segment.
    module GithubPaths
      OWNER_TYPES = %i[org user].freeze

      module_function

      def package(owner:, package:, owner_type: :org)
        "#{owner_prefix(owner, owner_type)}/packages/container/package/#{segment(package)}"
      end

      def versions(owner:, package:, owner_type: :org, page: 1)
        "#{owner_prefix(owner, owner_type)}/packages/container/#{segment(package)}/versions" \
          "?filters%5Bversion_type%5D=tagged&page=#{Integer(page)}"
      end

      def listing(owner:, owner_type: :org, page: 1)
        case check_owner_type(owner_type)
        when :org then "/orgs/#{segment(owner)}/packages?page=#{Integer(page)}"
        else "/#{segment(owner)}?tab=packages&page=#{Integer(page)}"
        end
      end

      def owner_prefix(owner, owner_type)
        case check_owner_type(owner_type)
        when :org then "/orgs/#{segment(owner)}"
        else "/users/#{segment(owner)}"
        end
      end

      # ERB::Util.url_encode escapes everything but unreserved characters, so "/" becomes
      # %2F and a hostile name cannot climb out of its path segment.
      def segment(name)
        text = name.to_s
        raise ArgumentError, "empty path segment" if text.empty?

        ERB::Util.url_encode(text)
      end

      def check_owner_type(owner_type)
        type = owner_type.to_sym
        raise ArgumentError, "owner_type must be one of #{OWNER_TYPES.inspect}, got #{owner_type.inspect}" unless OWNER_TYPES.include?(type)

        type
      end
    end
  end
end
