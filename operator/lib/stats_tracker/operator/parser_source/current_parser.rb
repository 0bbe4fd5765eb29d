# frozen_string_literal: true

module StatsTracker
  module Operator
    module ParserSource
      # The parser the reconcilers use, swappable while they run: each call reads the current
      # parser once, so a call in flight finishes on the parser it started with while new calls
      # get the new one. Reading and replacing one instance variable is atomic in Ruby, so no lock
      # is taken on the parse path.
      class CurrentParser
        # What is loaded: where it came from (builtin, file, ocirepository/NS/NAME), its revision
        # and component digest, and when it was loaded.
        Loaded = Struct.new(:parser, :source, :revision, :digest, :loaded_at, keyword_init: true)

        # The parser the operator starts with: the file it was given (STATS_TRACKER_PARSER_COMPONENT)
        # or the one built into the gem.
        def self.initial(parser, component: nil)
          path = component || StatsTracker::Parser::BUNDLED_COMPONENT
          digest = "sha256:#{StatsTracker::Native.sha256_hex(File.binread(path))}"
          if component
            new(parser, source: "file", revision: component, digest: digest)
          else
            new(parser, source: "builtin", revision: "stats_tracker #{StatsTracker::VERSION}", digest: digest)
          end
        end

        def initialize(parser, source:, revision:, digest:, clock: -> { Time.now })
          @clock = clock
          @loaded = Loaded.new(parser: parser, source: source, revision: revision, digest: digest, loaded_at: clock.call).freeze
        end

        attr_reader :loaded

        # Returns what was loaded before.
        def swap(parser, source:, revision:, digest:)
          previous = @loaded
          @loaded = Loaded.new(parser: parser, source: source, revision: revision, digest: digest,
                               loaded_at: @clock.call).freeze
          previous
        end

        def package(html) = @loaded.parser.package(html)

        def versions(html) = @loaded.parser.versions(html)

        def listing(html) = @loaded.parser.listing(html)
      end
    end
  end
end
