# frozen_string_literal: true

require "json"
require_relative "../kube/wait"

module StatsTracker
  module E2E
    class CommandError < StandardError; end

    # kubectl against the node's cluster, raising with stderr on failure, plus the waits the
    # scenarios share.
    class Kubectl
      OPERATOR_SELECTOR = "app.kubernetes.io/name=stats-tracker-operator"

      def initialize(node:)
        @node = node
      end

      def run!(*args, stdin: nil)
        out, err, status = @node.kubectl(*args, stdin: stdin)
        raise CommandError, "kubectl #{args.join(" ")}: #{err.strip}" unless status.success?

        out
      end

      def json(*args) = JSON.parse(run!("get", *args, "-o", "json"))

      def json_or_nil(*args)
        out, _err, status = @node.kubectl("get", *args, "-o", "json")
        status.success? ? JSON.parse(out) : nil
      end

      def condition(object, type)
        object.dig("status", "conditions")&.find { |c| c["type"] == type }
      end

      def ready?(object) = condition(object, "Ready")&.fetch("status", nil) == "True"

      def wait(what, timeout: 300, interval: 1, diagnostics: nil, &block)
        Testing::Kube::Wait.until(what, timeout: timeout, interval: interval, diagnostics: diagnostics, &block)
      end

      def operator_pods
        json("pods", "-n", "stats-tracker-system", "-l", OPERATOR_SELECTOR)
          .fetch("items").reject { |p| p.dig("metadata", "deletionTimestamp") }
      end

      def running_ready_operator_pods
        operator_pods.select { |p| p.dig("status", "phase") == "Running" && ready?(p) }
      end

      def leaves = json("leaves", "-n", "stats-tracker-samples").fetch("items")

      def project = json("project", "fluxcd", "-n", "stats-tracker-samples")

      def lease_holder
        json_or_nil("lease", "stats-tracker-operator", "-n", "stats-tracker-system")&.dig("spec", "holderIdentity")
      end

      # Sets reconcile.fluxcd.io/requestedAt, the documented way to ask a Flux object to reconcile now.
      def request_reconcile(kind, name, namespace: "flux-system")
        stamp = Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%NZ")
        run!("annotate", "--overwrite", "-n", namespace, kind, name, "reconcile.fluxcd.io/requestedAt=#{stamp}")
        stamp
      end
    end
  end
end
