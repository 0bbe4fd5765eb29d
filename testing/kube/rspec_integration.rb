# frozen_string_literal: true

module StatsTracker
  module Testing
    # Helpers for examples tagged `kube: true`: `kube` is the shared cluster (started by the first
    # such example), `namespace` a fresh namespace created on first use and deleted after the example.
    module KubeExampleHelpers
      def kube = KubeCluster.shared

      def namespace
        @kube_namespace ||= kube.create_namespace(kube_namespace_prefix)
      end

      private

      # Named after the outermost group so a leftover namespace says which spec made it.
      def kube_namespace_prefix
        self.class.top_level_description.to_s.split(/::|\s+/).last(2).join("-")
      end
    end
  end
end

if defined?(RSpec) && RSpec.respond_to?(:configure)
  RSpec.configure do |config|
    config.include StatsTracker::Testing::KubeExampleHelpers, kube: true
    # Start (or fail to start) before the example body, so a missing binary is reported as such.
    config.before(:each, kube: true) { kube }
    config.after(:each, kube: true) do
      kube.delete_namespace(@kube_namespace) if @kube_namespace && StatsTracker::Testing::KubeCluster.shared_started?
    end
  end
end
