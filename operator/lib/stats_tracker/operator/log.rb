# frozen_string_literal: true

require "json"
require "time"

module StatsTracker
  module Operator
    # Structured logger: key=value text by default, one JSON object per line with LOG_FORMAT=json.
    class Log
      LEVELS = { debug: 0, info: 1, warn: 2, error: 3 }.freeze

      def initialize(io: $stderr, format: :text, level: :info, fields: {})
        @io = io
        @format = format.to_sym
        @level = LEVELS.fetch(level.to_sym, 1)
        @fields = fields
        @lock = Mutex.new
      end

      LEVELS.each_key do |name|
        define_method(name) { |message, **fields| write(name, message, fields) }
      end

      def with(**fields)
        self.class.new(io: @io, format: @format, level: LEVELS.key(@level), fields: @fields.merge(fields))
      end

      private

      def write(level, message, fields)
        return if LEVELS[level] < @level

        record = { ts: Time.now.utc.iso8601(3), level: level, msg: message }.merge(@fields).merge(fields)
        line = @format == :json ? JSON.generate(record) : text(record)
        @lock.synchronize { @io.puts(line) }
      rescue IOError
        nil
      end

      def text(record)
        record.map { |k, v| "#{k}=#{v.is_a?(String) && v.match?(/\s|=|"/) ? v.inspect : v}" }.join(" ")
      end
    end
  end
end
