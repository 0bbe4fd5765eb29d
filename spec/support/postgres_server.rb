# frozen_string_literal: true

require "etc"
require "fileutils"
require "tmpdir"

module StatsTracker
  module Testing
    # A throw-away PostgreSQL server from Debian's binaries: initdb into a temporary directory,
    # `postgres` listening only on a unix socket in that directory, run as the `postgres`
    # system user when we are root (the server refuses to run as root). Stopped by the PID we
    # spawned; #restart keeps the data directory, as a server restart in production does.
    class PostgresServer
      BIN_GLOB = "/usr/lib/postgresql/*/bin"
      PORT = 5432 # only names the socket file; nothing listens on TCP
      SERVER_USER = "postgres"

      def self.bin_dir
        Dir[BIN_GLOB].max_by { |dir| File.basename(File.dirname(dir)).to_i } ||
          raise("PostgreSQL server binaries not found under #{BIN_GLOB} (bin/setup installs postgresql)")
      end

      attr_reader :socket_dir, :pid

      def initialize
        @root = Dir.mktmpdir("stats-tracker-pg-")
        @data_dir = File.join(@root, "data")
        @socket_dir = @root
        @log = File.join(@root, "server.log")
        @databases = 0
        @pid = nil
      end

      def start
        initdb unless File.exist?(File.join(@data_dir, "PG_VERSION"))
        @pid = Process.spawn(*as_server_user, File.join(self.class.bin_dir, "postgres"), "-D", @data_dir,
                             "-k", @socket_dir, "-p", PORT.to_s, "-c", "listen_addresses=",
                             "-c", "fsync=off", "-c", "max_connections=50", out: @log, err: @log)
        wait_until_ready
        self
      end

      # Fast shutdown (SIGINT): open sessions are cut, as when a server goes down under load.
      def stop
        return unless @pid

        Process.kill("INT", @pid)
        Process.wait(@pid)
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      ensure
        @pid = nil
      end

      def restart
        stop
        start
      end

      def destroy
        stop
        FileUtils.rm_rf(@root)
      end

      # A fresh, empty database on this server, as a Sequel URL.
      def create_database
        name = "history_#{Process.pid}_#{@databases += 1}"
        psql("CREATE DATABASE #{name}")
        url(name)
      end

      def url(database)
        "postgres:///#{database}?host=#{@socket_dir}&port=#{PORT}&user=#{SERVER_USER}"
      end

      def psql(sql, database: "postgres")
        out = IO.popen([File.join(self.class.bin_dir, "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                        "-h", @socket_dir, "-p", PORT.to_s, "-U", SERVER_USER, "-d", database, "-c", sql],
                       err: %i[child out], &:read)
        raise "psql #{sql.inspect} failed: #{out}" unless $?.success?

        out
      end

      private

      def root?
        Process.uid.zero?
      end

      def as_server_user
        return [] unless root?

        user = Etc.getpwnam(SERVER_USER)
        ["setpriv", "--reuid=#{user.uid}", "--regid=#{user.gid}", "--init-groups", "--"]
      end

      def initdb
        FileUtils.chown_R(SERVER_USER, nil, @root) if root?
        ok = system(*as_server_user, File.join(self.class.bin_dir, "initdb"), "-D", @data_dir, "-U", SERVER_USER,
                    "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C", out: @log, err: @log)
        raise "initdb failed: #{File.read(@log)}" unless ok
      end

      def wait_until_ready
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 60
        until system(File.join(self.class.bin_dir, "pg_isready"), "-q", "-h", @socket_dir, "-p", PORT.to_s)
          raise "postgres exited: #{File.read(@log)}" if Process.wait(@pid, Process::WNOHANG)
          raise "postgres not ready after 60 s: #{File.read(@log)}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

          sleep 0.1
        end
      end
    end
  end
end
