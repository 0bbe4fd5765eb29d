# frozen_string_literal: true

require "open3"

module StatsTracker
  module E2E
    module Node
      # The node's pod network: a host bridge whose address is the node IP, the gateway of the pod
      # subnet, and the host address pods reach the API server, the registry and the page server on.
      # The CNI bridge plugin attaches pods to it; deleting it removes the pods' host-side veths too.
      module Network
        BRIDGE = "st-e2e0"
        NODE_IP = "10.244.0.1"
        POD_SUBNET = "10.244.0.0/24"
        SERVICE_SUBNET = "10.0.0.0/24"
        NAME = "stats-tracker-e2e"

        module_function

        def up
          return if exists?

          run!("ip", "link", "add", BRIDGE, "type", "bridge")
          run!("ip", "addr", "add", "#{NODE_IP}/24", "dev", BRIDGE)
          run!("ip", "link", "set", BRIDGE, "up")
        end

        def down
          run!("ip", "link", "delete", BRIDGE) if exists?
        end

        def exists? = system("ip", "link", "show", BRIDGE, out: File::NULL, err: File::NULL)

        # The CNI network: pods get addresses from host-local in the node's own data dir, routes via
        # the bridge (containerd sets up each pod's loopback itself); no masquerade and no port mapping, so the plugins add no packet-filter rules.
        def conflist(ipam_dir:)
          { "cniVersion" => "1.0.0", "name" => NAME,
            "plugins" => [
              { "type" => "bridge", "bridge" => BRIDGE, "isGateway" => true, "ipMasq" => false, "hairpinMode" => true,
                "ipam" => { "type" => "host-local", "dataDir" => ipam_dir,
                            "ranges" => [[{ "subnet" => POD_SUBNET, "gateway" => NODE_IP }]],
                            "routes" => [{ "dst" => "0.0.0.0/0" }] } }
            ] }
        end

        def run!(*cmd)
          _out, err, status = Open3.capture3(*cmd)
          raise "#{cmd.join(" ")}: #{err.strip}" unless status.success?
        end
      end
    end
  end
end
