# frozen_string_literal: true

require "json"
require_relative "pages"
require_relative "paths"

module StatsTracker
  module Dashboard
    # Answers a request from the store: method and raw path in, [status, content type, body]
    # out. Read-only by construction: it holds a History and calls only its readers.
    class App
      HTML = "text/html; charset=utf-8"
      JSON_TYPE = "application/json"

      def initialize(history:, clock: -> { Time.now })
        @history = history
        @clock = clock
      end

      def call(method, raw_path)
        return [405, "text/plain", "read-only: GET and HEAD only\n"] unless %w[GET HEAD].include?(method)

        route(raw_path.split("?", 2).first)
      rescue History::Error => e
        [503, "text/plain", "#{e.message}\n"]
      end

      private

      def route(path)
        case path
        when "/" then [200, HTML, Pages.index(@history.packages)]
        when "/api/packages" then [200, JSON_TYPE, JSON.generate(@history.packages.map(&:to_h))]
        when %r{\A/api/packages/} then package_json(path)
        when %r{\A/packages/} then package_page(path)
        else [404, HTML, Pages.not_found(path)]
        end
      end

      def package_page(path)
        owner, name = Paths.parse_package(path, prefix: "/packages/")
        summary = owner && known(owner, name)
        return [404, HTML, Pages.not_found("no package #{path}")] unless summary

        [200, HTML, Pages.package(summary, @history.observations(owner: owner, package: name),
                                  @history.versions(owner: owner, package: name))]
      end

      def package_json(path)
        owner, name = Paths.parse_package(path, prefix: "/api/packages/")
        summary = owner && known(owner, name)
        return [404, JSON_TYPE, JSON.generate("error" => "not found")] unless summary

        body = summary.to_h.merge(
          "observations" => @history.observations(owner: owner, package: name).map(&:to_h),
          "versions" => @history.versions(owner: owner, package: name).map(&:to_h)
        )
        [200, JSON_TYPE, JSON.generate(body)]
      end

      def known(owner, name)
        summary = @history.summary(owner: owner, package: name, now: @clock.call)
        summary.total_downloads ? summary : nil
      end
    end
  end
end
