# frozen_string_literal: true

module StatsTracker
  module E2E
    # The OCIRepository of the operator's manifests verifies cosign signatures (the test overlay
    # gives it `spec.verify` with the e2e key pair's public half). Mixed into Run, which provides
    # @kubectl, @release, @signing and publish.
    module SigningScenarios
      SOURCE = %w[ocirepository stats-tracker -n flux-system].freeze
      VERIFY_SECRET = "stats-tracker-cosign"

      # The Secret with the public key and the patch that makes the OCIRepository check it.
      def verify_resources
        secret = { "apiVersion" => "v1", "kind" => "Secret",
                   "metadata" => { "name" => VERIFY_SECRET, "namespace" => "flux-system" },
                   "stringData" => { "cosign.pub" => File.read(@signing.public_key) } }
        patch = { "target" => { "kind" => "OCIRepository", "name" => "stats-tracker" },
                  "patch" => YAML.dump([{ "op" => "add", "path" => "/spec/verify",
                                          "value" => { "provider" => "cosign", "secretRef" => { "name" => VERIFY_SECRET } } }]) }
        [secret, patch]
      end

      def signed_artifact_verified
        source = @kubectl.json(*SOURCE)
        verified = @kubectl.condition(source, "SourceVerified")
        raise "SourceVerified: #{verified.to_json}" unless verified && verified["status"] == "True"

        revision = source.dig("status", "artifact", "revision").to_s
        raise "serving #{revision}, not the signed #{@release["manifests_digest"]}" unless revision.end_with?(@release["manifests_digest"])

        "SourceVerified=True (#{verified["message"]}); signed with the e2e key: #{@release["signed"].size} references"
      end

      # The same tag re-pushed without a signature (rake release:publish without SIGN_KEY).
      def unsigned_artifact_refused
        before = @kubectl.json(*SOURCE).dig("status", "artifact", "revision")
        unsigned = publish(revision: "e2e-unsigned", signed: false)
        raise "publish without SIGN_KEY signed #{unsigned["signed"]}" unless unsigned["signed"].empty?

        @kubectl.request_reconcile("ocirepository", "stats-tracker")
        refusal = nil
        @kubectl.wait("source-controller refuses #{unsigned["manifests_digest"]}", timeout: 300, interval: 2) do
          refusal = @kubectl.condition(@kubectl.json(*SOURCE), "SourceVerified")
          refusal && refusal["status"] == "False" && refusal["message"].to_s.include?(unsigned["manifests_digest"])
        end
        source = @kubectl.json(*SOURCE)
        after = source.dig("status", "artifact", "revision")
        raise "the served revision moved from #{before} to #{after}" unless after == before

        images = @kubectl.operator_pods.map { |p| p.dig("spec", "containers", 0, "image") }.uniq
        raise "operator Pods run #{images}, not the signed #{@release["image"]}" unless images == [@release["image"]]

        "refused: SourceVerified=False #{refusal["reason"]}: #{refusal["message"]}; still serving #{after}, Pods on the signed image"
      end
    end
  end
end
