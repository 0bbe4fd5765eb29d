# frozen_string_literal: true

require "stats_tracker/parser_world"
require "stats_tracker/self_test"
require_relative "refusal"

module StatsTracker
  module Operator
    module ParserSource
      # Turns a downloaded component into a Parser only if it is fit to replace the one in use:
      # the artifact says it implements the WIT world this operator was built for, the component
      # really exports that world (wasmtime links it against the generated bindings), and it
      # parses the shipped corpus exactly as recorded, in the sandbox, without trapping.
      class CandidateCheck
        WORLD_ANNOTATION = "stats-tracker.dev/parser-wit-world"

        def initialize(world: StatsTracker::ParserWorld.name, self_test_dir: StatsTracker::SelfTest::DIR, parser_options: {})
          @world = world
          @self_test_dir = self_test_dir
          @parser_options = parser_options
        end

        # metadata: status.artifact.metadata (the artifact's annotations). -> Parser; raises Refusal.
        def call(bytes, metadata:)
          check_annotation(metadata)
          parser = compile(bytes)
          self_test(parser)
          parser
        end

        private

        def check_annotation(metadata)
          said = (metadata || {}).transform_keys(&:to_s)[WORLD_ANNOTATION]
          return if said == @world

          message = if said
                      "artifact implements WIT world #{said}, this operator needs #{@world}"
                    else
                      "artifact has no #{WORLD_ANNOTATION} annotation (publish it with rake release:parser)"
                    end
          raise Refusal.new("WrongWorld", message)
        end

        def compile(bytes)
          StatsTracker::Parser.new(bytes: bytes, **@parser_options)
        rescue StatsTracker::CompileError => e
          reason = e.message.include?("does not implement world") ? "WrongWorld" : "NotLoadable"
          raise Refusal.new(reason, "component not loadable: #{e.message}")
        end

        def self_test(parser)
          mismatches = StatsTracker::SelfTest.run(parser, dir: @self_test_dir)
          return if mismatches.empty?

          raise Refusal.new("SelfTestFailed", "#{mismatches.size} of #{StatsTracker::SelfTest::PAGES.size} self-test pages wrong; " \
                                              "first: #{mismatches.first}")
        rescue StatsTracker::TrapError, StatsTracker::TimeoutError, StatsTracker::ResourceLimitError => e
          raise Refusal.new("LoadTrapped", "self-test stopped: #{e.class.name.split("::").last}: #{e.message}")
        end
      end
    end
  end
end
