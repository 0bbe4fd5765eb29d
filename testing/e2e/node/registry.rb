# frozen_string_literal: true

require "fileutils"
require "open3"
require_relative "../../kube/components/component"
require_relative "http_probe"
require_relative "network"

module StatsTracker
  module E2E
    module Node
      # Debian's docker-registry (the CNCF distribution registry) on the node IP, plain HTTP, with
      # its storage in the node's work dir: the one place images and Flux artifacts are pushed to
      # and pulled from (containerd for images, source-controller for artifacts).
      class Registry < Testing::Kube::Components::Component
        include HttpProbe

        PORT = 5000

        def initialize(dir:, log_path:)
          super(name: "docker-registry", log_path: log_path, reaper: nil)
          @dir = dir
        end

        def address = "#{Network::NODE_IP}:#{PORT}"

        def start(timeout:)
          FileUtils.mkdir_p(File.join(@dir, "data"))
          File.write(config_path, <<~YAML)
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: #{File.join(@dir, "data")}
              delete:
                enabled: true
            http:
              addr: #{address}
          YAML
          super
        end

        # An OCI layout (path:tag) copied to repository:tag here; returns the pushed manifest digest.
        def push_layout(layout_ref, repository:, tag:)
          digest_file = File.join(@dir, "digest-#{Process.pid}")
          _out, err, status = Open3.capture3("skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                                             "--digestfile", digest_file, "oci:#{layout_ref}",
                                             "docker://#{address}/#{repository}:#{tag}")
          raise "skopeo copy #{layout_ref} -> #{address}/#{repository}:#{tag}: #{err.strip}" unless status.success?

          File.read(digest_file).strip.tap { FileUtils.rm_f(digest_file) }
        end

        private

        def config_path = File.join(@dir, "config.yml")

        def command = ["docker-registry", "serve", config_path]

        def ready? = http_ok?(PORT, "/v2/", host: Network::NODE_IP)
      end
    end
  end
end
