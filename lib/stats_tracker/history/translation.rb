# frozen_string_literal: true

require_relative "errors"
require_relative "location"

module StatsTracker
  class History
    # Turns Sequel's and the drivers' exceptions into the store's three typed errors, each with
    # a one-line message. Driver classes are matched by name so neither sqlite3 nor pg has to
    # be loaded for the other database.
    module Translation
      READ_ONLY = %w[SQLite3::ReadOnlyException PG::ReadOnlySqlTransaction].freeze
      UNAVAILABLE = %w[SQLite3::CantOpenException SQLite3::IOException SQLite3::FullException
                       SQLite3::BusyException PG::ConnectionBad PG::UnableToSend PG::AdminShutdown].freeze

      module_function

      def guard(url)
        yield
      rescue History::Error
        raise
      rescue Sequel::AdapterNotFound, LoadError => e
        raise ConfigurationError, "no database driver for #{Location.redact(url)}: #{first_line(e)}"
      rescue Sequel::DatabaseConnectionError, Sequel::DatabaseDisconnectError, Sequel::PoolTimeout => e
        raise UnavailableError, "history database #{Location.redact(url)} unavailable: #{first_line(e)}"
      rescue Sequel::DatabaseError => e
        raise classify(e, url)
      rescue Sequel::Error, ArgumentError, URI::Error => e
        raise ConfigurationError, "history database #{Location.redact(url)}: #{first_line(e)}"
      end

      def classify(error, url)
        name = error.respond_to?(:wrapped_exception) ? error.wrapped_exception&.class&.name : nil
        where = Location.redact(url)
        return ReadOnlyError.new("history database #{where} is read-only: #{first_line(error)}") if READ_ONLY.include?(name)
        return UnavailableError.new("history database #{where} unavailable: #{first_line(error)}") if UNAVAILABLE.include?(name)

        History::Error.new("history database #{where}: #{first_line(error)}")
      end

      def first_line(error)
        error.message.to_s.lines.first.to_s.strip
      end
    end
  end
end
