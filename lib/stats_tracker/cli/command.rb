# frozen_string_literal: true

require "optparse"

module StatsTracker
  class CLI
    # What every subcommand shares: the console, `help`, and an option parser headed by the
    # command's BANNER and ABOUT text. A command adds its own switches in #define_options.
    class Command
      def initialize(console)
        @console = console
      end

      def help
        options.help
      end

      private

      def options
        @options ||= OptionParser.new do |opts|
          opts.banner = self.class::BANNER
          opts.separator ""
          self.class::ABOUT.each_line(chomp: true) { |line| opts.separator(line) }
          opts.separator ""
          define_options(opts)
        end
      end

      def define_options(_opts) = nil
    end
  end
end
