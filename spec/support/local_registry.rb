# frozen_string_literal: true

require "fileutils"
require "json"
require "net/http"
require "socket"
require "tmpdir"
require "yaml"

module StatsTracker
  module Testing
    # Debian's docker-registry on a loopback port, plain HTTP, storing under a temporary
    # directory: the real registry the publish specs push to and read back from.
    class LocalRegistry
      attr_reader :address

      def start
        raise "docker-registry is not installed: run bin/setup (apt-get install docker-registry)" unless
          system("command -v docker-registry >/dev/null 2>&1")

        @dir = Dir.mktmpdir("registry-")
        port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
        @address = "127.0.0.1:#{port}"
        config = { "version" => 0.1, "log" => { "level" => "warn" },
                   "storage" => { "filesystem" => { "rootdirectory" => File.join(@dir, "data") } },
                   "http" => { "addr" => @address } }
        File.write(File.join(@dir, "config.yml"), YAML.dump(config))
        @pid = Process.spawn("docker-registry", "serve", File.join(@dir, "config.yml"), out: File::NULL, err: File::NULL)
        wait_up
        self
      end

      def stop
        if @pid
          Process.kill("TERM", @pid)
          Process.wait(@pid)
          @pid = nil
        end
        FileUtils.rm_rf(@dir) if @dir
      end

      def get(path, accept: nil)
        res = Net::HTTP.get_response(URI("http://#{@address}#{path}"), accept ? { "Accept" => accept } : {})
        raise "GET #{path}: #{res.code} #{res.body}" unless res.code == "200"

        res.body
      end

      def manifest(repository, tag)
        JSON.parse(get("/v2/#{repository}/manifests/#{tag}", accept: "application/vnd.oci.image.manifest.v1+json"))
      end

      private

      def wait_up
        deadline = Time.now + 30
        loop do
          return if (Net::HTTP.get_response(URI("http://#{@address}/v2/")).code == "200" rescue false) # rubocop:disable Style/RescueModifier
          raise "docker-registry did not start on #{@address}" if Time.now > deadline

          sleep 0.1
        end
      end
    end
  end
end
