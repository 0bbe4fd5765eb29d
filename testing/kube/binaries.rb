# frozen_string_literal: true

require_relative "../cache_root"

module StatsTracker
  module Testing
    module Kube
      # Raised instead of skipping: a missing control plane must fail the kube specs loudly,
      # or a green run would silently prove nothing about the operator.
      class MissingBinariesError < StandardError; end

      # Where the self-built etcd, kube-apiserver, kube-controller-manager and kubectl live.
      # The version comes from go.mod next to build.sh, the single place it is pinned.
      class Binaries
        NAMES = %w[etcd kube-apiserver kube-controller-manager kubectl].freeze
        GO_MOD = File.expand_path("go.mod", __dir__)
        BUILD_HINT = "run `bin/setup` or `rake kube:build` (testing/kube/build.sh)"

        def self.pinned_version(go_mod: GO_MOD)
          line = File.foreach(go_mod).find { |l| l =~ %r{\A\s*k8s\.io/kubernetes\s+v\d} && !l.include?("=>") }
          raise MissingBinariesError, "no k8s.io/kubernetes pin in #{go_mod}" unless line

          line.split[1]
        end

        def self.default_dir(version: pinned_version, env: ENV)
          CacheRoot.join("kube", version, env: env)
        end

        # STATS_TRACKER_KUBE_BIN_DIR wins so a person can point at binaries built elsewhere.
        def self.locate(env: ENV)
          dir = env["STATS_TRACKER_KUBE_BIN_DIR"]
          dir = default_dir(env: env) if dir.nil? || dir.empty?
          new(dir: dir).tap(&:verify!)
        end

        attr_reader :dir

        def initialize(dir:)
          @dir = dir
        end

        def path(name)
          raise ArgumentError, "unknown binary #{name}" unless NAMES.include?(name)

          File.join(dir, name)
        end

        def missing
          NAMES.reject { |name| File.executable?(path(name)) }
        end

        def verify!
          absent = missing
          return self if absent.empty?

          raise MissingBinariesError,
                "Kubernetes test binaries missing in #{dir}: #{absent.join(", ")}; #{BUILD_HINT}"
        end
      end
    end
  end
end
