# frozen_string_literal: true

require "tmpdir"
require_relative "postgres_server"

module StatsTracker
  module Testing
    # The two databases every history spec runs against: a SQLite file in a temporary
    # directory, and a fresh database on one PostgreSQL server shared by the run (started on
    # first use, stopped when the run ends).
    module HistoryBackends
      NAMES = %i[sqlite postgres].freeze

      module_function

      def postgres
        @postgres ||= PostgresServer.new.start.tap do |server|
          owner = Process.pid
          # A forked writer inherits this hook; only the process that started the server stops it.
          at_exit { server.destroy if Process.pid == owner }
        end
      end

      def fresh_url(backend, dir)
        case backend
        when :sqlite then "sqlite://#{File.join(dir, 'history.sqlite3')}"
        when :postgres then postgres.create_database
        else raise ArgumentError, "unknown backend #{backend.inspect}"
        end
      end
    end
  end
end
