# frozen_string_literal: true

module StatsTracker
  module Wasi
    # What a command run produced. A non-zero exit_code is data, not an exception.
    # stdout/stderr are binary (ASCII-8BIT) Strings, frozen.
    Result = Struct.new(:exit_code, :stdout, :stderr, keyword_init: true) do
      def initialize(exit_code:, stdout:, stderr:)
        super(exit_code: exit_code, stdout: stdout.freeze, stderr: stderr.freeze)
        freeze
      end

      def success?
        exit_code.zero?
      end
    end
  end
end
