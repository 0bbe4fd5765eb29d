# frozen_string_literal: true

require "json"
require "net/http"
require "yaml"
require_relative "../../testing/parser_variant"
require_relative "../fixtures/guests/build"

module StatsTracker
  module E2E
    # The parser delivered apart from the operator (mixed into Run, which provides @kubectl, @node,
    # @pages, @packages, @checks): published with `rake release:parser`, fetched by the real
    # source-controller from the local registry, followed by the operator Pods.
    module ParserScenarios
      PARSER_NS = "stats-tracker-system"
      PARSER_SOURCE = "stats-tracker-parser"
      # Semver tags: the OCIRepository's range picks the highest one published.
      PARSER_TAGS = { builtin: "v0.1.0", fixed: "v0.1.1", unsigned: "v0.1.2", broken: "v0.1.3" }.freeze

      # signed: with the e2e key pair (SIGN_KEY), as every release is; false for the refusal check.
      def publish_parser(tag:, wasm: nil, signed: true)
        out_file = File.join(@node.dir, "parser-#{tag}.json")
        env = { "REGISTRY" => @node.registry.address, "INSECURE" => "1", "TAG" => tag, "RELEASE_OUT" => out_file,
                "SIGN_KEY" => nil }
        env.merge!(@signing.env) if signed
        env["PARSER_WASM"] = wasm if wasm
        log = File.join(@node.log_dir, "publish-parser-#{tag}.log")
        ok = system(env, "bundle", "exec", "rake", "release:parser", chdir: @root, out: log, err: log)
        raise "rake release:parser failed:\n#{File.read(log).lines.last(30).join}" unless ok

        JSON.parse(File.read(out_file))
      end

      # The test overlay's patch of the parser's OCIRepository, as a fleet repository would write it:
      # where the parser is published, which releases to follow, and whose signature they must carry.
      def parser_source_patch(ref: { "semver" => ">=0.1.0" })
        ops = [{ "op" => "add", "path" => "/spec/url", "value" => "oci://#{@node.registry.address}/stats-tracker-parser" },
               { "op" => "replace", "path" => "/spec/ref", "value" => ref },
               { "op" => "add", "path" => "/spec/insecure", "value" => true },
               { "op" => "add", "path" => "/spec/verify", "value" => verify_spec }]
        { "patch" => YAML.dump(ops), "target" => { "kind" => "OCIRepository", "name" => PARSER_SOURCE } }
      end

      def parser_source_ready
        @kubectl.wait("Kustomization stats-tracker-parser Ready", timeout: 300, interval: 2,
                                                                  diagnostics: -> { parser_diagnostics }) do
          k = @kubectl.json_or_nil("kustomization", "stats-tracker-parser", "-n", "flux-system")
          k && @kubectl.ready?(k)
        end
        verified = @kubectl.condition(@kubectl.json("ocirepository", PARSER_SOURCE, "-n", PARSER_NS), "SourceVerified")
        raise "#{PARSER_SOURCE} SourceVerified: #{verified.to_json}" unless verified&.fetch("status", nil) == "True"

        revision = wait_pods_on_parser(PARSER_TAGS[:builtin])
        "#{PARSER_SOURCE} SourceVerified=True; every operator Pod follows it: #{revision}"
      end

      def parser_recovery
        before = pod_identities
        fixed = fixed_parser_wasm
        # GitHub changes its markup, and the counts move on.
        @packages = @packages.keys.each_with_index.to_h do |name, i|
          html = StatsTracker::Testing::ParserVariant.markup_change(Testing::PageServer.package_html(total: 9000 + i))
          @pages.serve_package(owner: "fluxcd", package: name, html: html)
          [name, 9000 + i]
        end
        annotate_leaves
        @kubectl.wait("every Leaf ParseFailed under the built-in parser", timeout: 300, interval: 1,
                                                                          diagnostics: -> { operator_logs_tail }) do
          @kubectl.leaves.all? { |l| @kubectl.condition(l, "Ready")&.values_at("status", "reason") == %w[False ParseFailed] }
        end

        release = publish_parser(tag: PARSER_TAGS[:fixed], wasm: fixed)
        published = monotonic
        @parser_releases[:fixed] = release
        request_parser_source
        first = nil
        @kubectl.wait("every Leaf Ready with the new counts", timeout: 300, interval: 0.5,
                                                              diagnostics: -> { parser_diagnostics }) do
          corrected = @kubectl.leaves.select { |l| @kubectl.ready?(l) && l.dig("status", "downloadCount") == @packages[l.dig("spec", "package")] }
          first ||= monotonic - published unless corrected.empty?
          corrected.size == @packages.size
        end
        all = monotonic - published
        after = pod_identities
        raise "operator Pods restarted or replaced: #{before} -> #{after}" unless after == before
        raise format("Leafs took %.1f s after the publish, more than a minute", all) if all > 60

        revision = wait_pods_on_parser(PARSER_TAGS[:fixed])
        format("publish -> first corrected Leaf %<first>.1f s, all %<n>d Leafs %<all>.1f s; same Pods, no restart; %<rev>s",
               first: first, n: @packages.size, all: all, rev: revision)
      end

      def parser_rollback
        pin_parser_source("tag" => PARSER_TAGS[:builtin])
        back = wait_pods_on_parser(PARSER_TAGS[:builtin])
        pin_parser_source("semver" => ">=0.1.0")
        forward = wait_pods_on_parser(PARSER_TAGS[:fixed])
        "pinned #{PARSER_TAGS[:builtin]}: Pods swapped back to #{back}; range again: #{forward}"
      end

      def broken_parser_refused
        release = publish_parser(tag: PARSER_TAGS[:broken], wasm: GuestBuild.component("hostile_component"))
        request_parser_source
        revision = nil
        @kubectl.wait("#{PARSER_SOURCE} fetched #{PARSER_TAGS[:broken]}", timeout: 180, interval: 1) do
          revision = @kubectl.json_or_nil("ocirepository", PARSER_SOURCE, "-n", PARSER_NS)&.dig("status", "artifact", "revision")
          revision.to_s.start_with?("#{PARSER_TAGS[:broken]}@")
        end
        event = nil
        @kubectl.wait("a ParserRefused Event naming #{revision}", timeout: 180, interval: 1, diagnostics: -> { operator_logs_tail }) do
          event = parser_events.find { |e| e["reason"] == "ParserRefused" && e["note"].to_s.include?(revision) }
        end
        pods = @kubectl.running_ready_operator_pods
        refusals = pods.map { |p| metric_lines(p, "stats_tracker_parser_refusals_total").grep(/revision="#{Regexp.escape(revision)}"/) }
        raise "no refusal metric naming #{revision} on #{pods.map { |p| name_of(p) }}: #{refusals}" unless refusals.all?(&:any?)

        in_use = wait_pods_on_parser(PARSER_TAGS[:fixed])
        not_ready = @kubectl.leaves.reject { |l| @kubectl.ready?(l) }
        raise "Leafs not Ready after the refusal: #{not_ready.map { |l| name_of(l) }.first(5)}" unless not_ready.empty?

        "#{release["tag"]} refused: Event #{event["reason"]} \"#{event["note"][0, 120]}…\"; " \
          "#{refusals.first.first.strip}; still #{in_use}"
      end

      private

      # The parser that reads the changed markup: the release that fixes it.
      def fixed_parser_wasm
        StatsTracker::Testing::ParserVariant.new(name: "pulls", changes: StatsTracker::Testing::ParserVariant::PULLS_LABEL).path
      end

      def pod_identities
        @kubectl.running_ready_operator_pods.to_h do |p|
          [name_of(p), [p.dig("metadata", "uid"), p.dig("status", "containerStatuses", 0, "restartCount")]]
        end
      end

      def annotate_leaves
        stamp = Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%NZ")
        @kubectl.run!("annotate", "--overwrite", "-n", Scenarios::SAMPLES, "leaves", "--all", "reconcile.fluxcd.io/requestedAt=#{stamp}")
      end

      # `flux reconcile source oci`: what a maintainer does rather than wait for the interval.
      def request_parser_source
        stamp = Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%NZ")
        @kubectl.run!("annotate", "--overwrite", "-n", PARSER_NS, "ocirepository", PARSER_SOURCE,
                      "reconcile.fluxcd.io/requestedAt=#{stamp}")
      end

      # Pinning goes through the Flux Kustomization that owns the OCIRepository, as an edit in the
      # fleet repository would; a hand edit of the OCIRepository would be reverted.
      def pin_parser_source(ref)
        patch = [{ "op" => "replace", "path" => "/spec/patches", "value" => [parser_source_patch(ref: ref)] }]
        @kubectl.run!("patch", "kustomization", "stats-tracker-parser", "-n", "flux-system", "--type=json", "-p", patch.to_json)
        stamp = @kubectl.request_reconcile("kustomization", "stats-tracker-parser")
        @kubectl.wait("stats-tracker-parser applied the pin #{ref}", timeout: 180, interval: 1) do
          k = @kubectl.json_or_nil("kustomization", "stats-tracker-parser", "-n", "flux-system")
          k&.dig("status", "lastHandledReconcileAt") == stamp &&
            @kubectl.json_or_nil("ocirepository", PARSER_SOURCE, "-n", PARSER_NS)&.dig("spec", "ref") == ref
        end
        request_parser_source
      end

      # Waits until every running operator Pod reports, in stats_tracker_parser_info, a revision
      # of the OCIRepository published under `tag`; returns that revision.
      def wait_pods_on_parser(tag)
        revisions = nil
        @kubectl.wait("every operator Pod on parser #{tag}", timeout: 180, interval: 1, diagnostics: -> { parser_diagnostics }) do
          pods = @kubectl.running_ready_operator_pods
          revisions = pods.map do |p|
            metric_lines(p, "stats_tracker_parser_info").filter_map do |l|
              l[/revision="([^"]+)"/, 1] if l.include?('source="ocirepository/')
            end
          end
          pods.size == 2 && revisions.all? { |r| r.size == 1 && r.first.start_with?("#{tag}@") }
        end
        revisions.first.first
      end

      def metric_lines(pod, name)
        body = Net::HTTP.get(URI("http://#{pod.dig("status", "podIP")}:8080/metrics"))
        body.lines.select { |l| l.start_with?("#{name}{") }
      rescue SystemCallError, IOError, Net::OpenTimeout, Net::ReadTimeout
        []
      end

      def parser_events
        @kubectl.json("events.events.k8s.io", "-n", PARSER_NS).fetch("items")
                .select { |e| e.dig("regarding", "kind") == "OCIRepository" && e.dig("regarding", "name") == PARSER_SOURCE }
      end

      def parser_diagnostics
        source = @kubectl.json_or_nil("ocirepository", PARSER_SOURCE, "-n", PARSER_NS)
        k = @kubectl.json_or_nil("kustomization", "stats-tracker-parser", "-n", "flux-system")
        "Kustomization: #{k&.dig("status", "conditions").to_json}\nOCIRepository: #{source&.dig("status").to_json}\n" \
          "#{operator_logs_tail}"
      end
    end
  end
end
