# frozen_string_literal: true

require_relative "manifests"
require_relative "kubectl"

module StatsTracker
  module Testing
    # Installs the built manifests on the test cluster for real, the way `kubectl apply -k` would,
    # and removes what only these specs own. The CRDs stay: other specs of the same process use them.
    module DeployInstallation
      NAMESPACES = %w[stats-tracker-system stats-tracker-samples].freeze
      CLUSTER_SCOPED = [%w[clusterrole stats-tracker-operator], %w[clusterrole stats-tracker-secret-reader],
                        %w[clusterrolebinding stats-tracker-operator]].freeze

      module_function

      def install(kube, *dirs)
        kubectl = DeployKubectl.new(kube)
        dirs.each do |dir|
          kubectl.apply!(Manifests.build(dir).yaml)
          wait_for_crds(kube) if dir == "base"
        end
        kubectl
      end

      # Established and discoverable is not yet listable: a new CRD's watch cache answers
      # 429 "storage is (re)initializing" (Retry-After: 1) for a moment. Clients retry that;
      # the RBAC specs want a 200-or-403 answer, so wait it out here.
      def wait_for_crds(kube)
        %w[projects leaves].each do |plural|
          kube.wait_for_crd("#{plural}.stats-tracker.dev")
          Kube::Wait.until("#{plural} to be listable", timeout: 30) do
            kube.connection.get("/apis/stats-tracker.dev/v1alpha1/#{plural}?limit=1").status == 200
          end
        end
      end

      # Waits until the namespaces are gone: the next install would otherwise hit
      # "namespace is being terminated".
      def uninstall(kube)
        kubectl = DeployKubectl.new(kube)
        CLUSTER_SCOPED.each { |kind, name| kubectl.delete(kind, name) }
        NAMESPACES.each { |ns| kube.delete_namespace(ns, wait: true, timeout: 120) }
      end
    end
  end
end
