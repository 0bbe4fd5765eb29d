# frozen_string_literal: true

module StatsTracker
  module Simulation
    # A named, timed sequence of faults for a scripted scenario: the interleavings random seeds
    # reach too rarely to trust them with (a leader deposed while its reconciles still run).
    # Each step runs once the simulated clock reaches its time, as one step of the world.
    class Script
      Step = Struct.new(:at, :name, :action)

      attr_reader :name

      def initialize(name)
        @name = name
        @steps = []
      end

      # Adds a step at `at` simulated seconds; the block gets the World.
      def at(seconds, name, &action)
        @steps << Step.new(Float(seconds), name, action)
        @steps = @steps.each_with_index.sort_by { |step, i| [step.at, i] }.map(&:first)
        self
      end

      def next_at
        @steps.first&.at
      end

      def run_due(world)
        step = @steps.shift
        world.log("script: #{step.name}")
        step.action.call(world)
      end
    end
  end
end
