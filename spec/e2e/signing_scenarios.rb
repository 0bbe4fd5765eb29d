# frozen_string_literal: true

module StatsTracker
  module E2E
    # Both OCIRepositories, the operator's manifests and the parser's, verify cosign signatures:
    # the test overlay gives each `spec.verify` with the e2e key pair's public half, in a Secret of
    # the same name in each one's namespace. Mixed into Run, which provides @kubectl, @release,
    # @signing, publish and the parser helpers.
    module SigningScenarios
      SOURCE = %w[ocirepository stats-tracker -n flux-system].freeze
      VERIFY_SECRET = "stats-tracker-cosign"

      def verify_spec = { "provider" => "cosign", "secretRef" => { "name" => VERIFY_SECRET } }

      # The Secret with the public key and the patch that makes the manifests' OCIRepository check it.
      def verify_resources
        secret = { "apiVersion" => "v1", "kind" => "Secret",
                   "metadata" => { "name" => VERIFY_SECRET, "namespace" => "flux-system" },
                   "stringData" => { "cosign.pub" => File.read(@signing.public_key) } }
        patch = { "target" => { "kind" => "OCIRepository", "name" => "stats-tracker" },
                  "patch" => YAML.dump([{ "op" => "add", "path" => "/spec/verify", "value" => verify_spec }]) }
        [secret, patch]
      end

      # The parser's OCIRepository lives in the operator's namespace, which the operator's
      # Kustomization creates: the key goes in once that exists, as a user would with
      # `kubectl create secret`, before the parser's Kustomization (which waits for the operator)
      # applies the OCIRepository.
      def parser_verify_secret
        @kubectl.wait("namespace #{ParserScenarios::PARSER_NS} created by Flux", timeout: 600, interval: 1) do
          @kubectl.json_or_nil("namespace", ParserScenarios::PARSER_NS)
        end
        @kubectl.run!("create", "secret", "generic", VERIFY_SECRET, "-n", ParserScenarios::PARSER_NS,
                      "--from-file=cosign.pub=#{@signing.public_key}")
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
        refusal = wait_refusal(SOURCE, unsigned["manifests_digest"])
        source = @kubectl.json(*SOURCE)
        after = source.dig("status", "artifact", "revision")
        raise "the served revision moved from #{before} to #{after}" unless after == before

        images = @kubectl.operator_pods.map { |p| p.dig("spec", "containers", 0, "image") }.uniq
        raise "operator Pods run #{images}, not the signed #{@release["image"]}" unless images == [@release["image"]]

        "refused: SourceVerified=False #{refusal["reason"]}: #{refusal["message"]}; still serving #{after}, Pods on the signed image"
      end

      # A working parser (the fixed one again) under a new tag in range, but unsigned: only the
      # signature is missing, so a parser source without spec.verify would serve it and the
      # operator would load it.
      def unsigned_parser_refused
        parser_source = ["ocirepository", ParserScenarios::PARSER_SOURCE, "-n", ParserScenarios::PARSER_NS]
        before = @kubectl.json(*parser_source).dig("status", "artifact", "revision")
        in_use = wait_pods_on_parser(ParserScenarios::PARSER_TAGS[:fixed])
        tag = ParserScenarios::PARSER_TAGS[:unsigned]
        unsigned = publish_parser(tag: tag, wasm: fixed_parser_wasm, signed: false)
        raise "release:parser without SIGN_KEY signed #{unsigned["signed"]}" unless unsigned["signed"].empty?

        request_parser_source
        refusal = wait_refusal(parser_source, unsigned["digest"])
        after = @kubectl.json(*parser_source).dig("status", "artifact", "revision")
        raise "#{ParserScenarios::PARSER_SOURCE} moved from #{before} to #{after}" unless after == before

        still = wait_pods_on_parser(ParserScenarios::PARSER_TAGS[:fixed])
        raise "operator Pods moved from parser #{in_use} to #{still}" unless still == in_use

        seen = parser_events.select { |e| e["note"].to_s.include?("#{tag}@") }
        raise "the operator was handed #{tag}: #{seen.map { |e| e["note"] }}" unless seen.empty?

        not_ready = @kubectl.leaves.reject { |l| @kubectl.ready?(l) }
        raise "Leafs not Ready after the refusal: #{not_ready.map { |l| name_of(l) }.first(5)}" unless not_ready.empty?

        "#{tag} refused: SourceVerified=False #{refusal["reason"]}: #{refusal["message"][0, 160]}; " \
          "still serving #{after}; every Pod still on #{still}, no Event for #{tag}"
      end

      private

      def wait_refusal(source, digest)
        refusal = nil
        @kubectl.wait("source-controller refuses #{digest}", timeout: 300, interval: 2) do
          refusal = @kubectl.condition(@kubectl.json(*source), "SourceVerified")
          refusal && refusal["status"] == "False" && refusal["message"].to_s.include?(digest)
        end
        refusal
      end
    end
  end
end
