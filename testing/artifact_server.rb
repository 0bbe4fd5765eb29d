# frozen_string_literal: true

require "digest"
require "logger"
require "rubygems/package"
require "stringio"
require "webrick"
require "zlib"

module StatsTracker
  module Testing
    # Serves artifacts the way Flux's source-controller does from its storage: plain HTTP GET of
    # /<kind>/<namespace>/<name>/<digest>.tar.gz, a tar+gzip archive of the artifact's files, whose
    # sha256 is what the object's status.artifact.digest says. Specs publish archives here and
    # write the matching status.artifact into an OCIRepository on the real API server.
    class ArtifactServer
      def initialize(bind: "127.0.0.1")
        @bind = bind
        @files = {}
        @lock = Mutex.new
        @requests = Hash.new(0)
      end

      def start
        ready = Queue.new
        @server = WEBrick::HTTPServer.new(BindAddress: @bind, Port: 0, DoNotReverseLookup: true,
                                          Logger: WEBrick::Log.new(File::NULL), AccessLog: [],
                                          StartCallback: -> { ready << true })
        @server.mount_proc("/") { |req, res| serve(req, res) }
        @thread = Thread.new { @server.start }
        ready.pop
        self
      end

      def stop
        @server&.shutdown
        @thread&.join(10)
      end

      def base_url = "http://#{@bind}:#{@server.config.fetch(:Port)}"

      def requests(path) = @lock.synchronize { @requests[path] }

      # files: { "name" => bytes }. Returns the status.artifact fields source-controller would
      # write (without revision and metadata, which come from the OCI manifest).
      def publish(namespace:, name:, files:, kind: "ocirepository")
        archive = self.class.tar_gz(files)
        digest = "sha256:#{Digest::SHA256.hexdigest(archive)}"
        path = "/#{kind}/#{namespace}/#{name}/#{digest.delete_prefix("sha256:")}.tar.gz"
        @lock.synchronize { @files[path] = archive }
        { url: "#{base_url}#{path}", digest: digest, size: archive.bytesize, path: path.delete_prefix("/") }
      end

      # Stores bytes at a path as they are (a file source-controller has not written yet, or a
      # broken one).
      def put(path, bytes)
        @lock.synchronize { @files[path] = bytes }
        "#{base_url}#{path}"
      end

      def self.tar_gz(files)
        tar = StringIO.new(+"", "wb")
        Gem::Package::TarWriter.new(tar) do |writer|
          files.sort.each { |name, bytes| writer.add_file_simple(name, 0o644, bytes.bytesize) { |io| io.write(bytes) } }
        end
        Zlib.gzip(tar.string)
      end

      private

      def serve(req, res)
        body = @lock.synchronize do
          @requests[req.path] += 1
          @files[req.path]
        end
        if body
          res["Content-Type"] = "application/x-gzip"
          res.body = body
        else
          res.status = 404
          res.body = "not found"
        end
      end
    end
  end
end
