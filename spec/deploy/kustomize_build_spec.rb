# frozen_string_literal: true

require_relative "support/manifests"

# What a user gets from `kustomize build` / `kubectl apply -k` of each directory, checked
# without a cluster. The cluster specs (apply_spec, rbac_spec, flux_spec) then send the same
# output to a real API server.
RSpec.describe "operator/deploy kustomizations" do
  manifests = StatsTracker::Testing::Manifests

  it "finds every kustomization that ships" do
    expect(manifests.kustomization_dirs).to include(
      "base", "crds", "overlays/dev", "overlays/production", "samples",
      "flux/git", "flux/oci", "flux/kustomizations"
    )
  end

  manifests.kustomization_dirs.each do |dir|
    it "builds #{dir} into named, well-formed objects" do
      docs = manifests.build(dir).documents
      expect(docs).not_to be_empty
      docs.each do |doc|
        expect(doc).to include("apiVersion", "kind")
        expect(doc.dig("metadata", "name")).to match(/\A[a-z0-9]([-a-z0-9.]*[a-z0-9])?\z/)
      end
    end
  end

  describe "base" do
    let(:build) { manifests.build("base") }
    let(:deployment) { build.find("Deployment", "stats-tracker-operator") }
    let(:pod) { deployment.dig("spec", "template", "spec") }
    let(:container) { pod["containers"].first }

    it "holds the CRDs, the namespace, the identity, RBAC and the workload" do
      expect(build.kinds).to include("CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole",
                                     "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service")
      expect(build.of_kind("CustomResourceDefinition").map { |d| d.dig("metadata", "name") })
        .to contain_exactly("projects.stats-tracker.dev", "leaves.stats-tracker.dev")
    end

    it "runs two replicas as a non-root, read-only, capability-free, seccomp-confined pod" do
      expect(deployment.dig("spec", "replicas")).to eq(2)
      expect(pod["securityContext"]).to include("runAsNonRoot" => true, "runAsUser" => 65_532,
                                                "seccompProfile" => { "type" => "RuntimeDefault" })
      expect(container["securityContext"]).to include(
        "readOnlyRootFilesystem" => true, "allowPrivilegeEscalation" => false,
        "capabilities" => { "drop" => ["ALL"] }
      )
    end

    it "probes the health endpoints on the metrics port the Service exposes" do
      port = container["ports"].find { |p| p["name"] == "http-metrics" }
      expect(port["containerPort"]).to eq(8080)
      expect(container.dig("livenessProbe", "httpGet")).to include("path" => "/healthz", "port" => "http-metrics")
      expect(container.dig("readinessProbe", "httpGet")).to include("path" => "/readyz", "port" => "http-metrics")
      service = build.find("Service", "stats-tracker-operator-metrics")
      expect(service.dig("spec", "selector")).to eq(deployment.dig("spec", "selector", "matchLabels"))
      expect(service.dig("spec", "ports", 0, "targetPort")).to eq("http-metrics")
    end

    it "puts every writable path the operator uses on a volume" do
      env = container["env"].to_h { |e| [e["name"], e["value"]] }
      mounts = container["volumeMounts"].map { |m| m["mountPath"] }
      expect(mounts).to include(env.fetch("STATS_TRACKER_CACHE_DIR"), env.fetch("TMPDIR"))
      volumes = pod["volumes"].to_h { |v| [v["name"], v] }
      container["volumeMounts"].each { |m| expect(volumes.fetch(m["name"])).to have_key("emptyDir") }
    end

    # The extension refuses a cache below a directory others may write; the one it may trust is
    # the Pod's own emptyDir at the cache path, and nothing else.
    it "trusts exactly the module cache's emptyDir as a shared ancestor" do
      env = container["env"].to_h { |e| [e["name"], e["value"]] }
      trusted = env.fetch("STATS_TRACKER_CACHE_TRUSTED_DIR")
      expect(trusted).to eq(env.fetch("STATS_TRACKER_CACHE_DIR"))
      mount = container["volumeMounts"].find { |m| m["mountPath"] == trusted }
      volume = pod["volumes"].find { |v| v["name"] == mount["name"] }
      expect(volume).to have_key("emptyDir")
    end

    it "passes the settings the operator reads, the token only from an optional Secret" do
      names = container["env"].map { |e| e["name"] }
      expect(names).to include("WATCH_NAMESPACE", "GITHUB_BASE_URL", "GITHUB_TOKEN", "METRICS_ADDR", "LOG_FORMAT",
                               "LEADER_ELECT", "LEASE_NAMESPACE", "LEASE_NAME", "CONCURRENCY",
                               "STATS_TRACKER_CACHE_DIR")
      token = container["env"].find { |e| e["name"] == "GITHUB_TOKEN" }
      expect(token).not_to have_key("value")
      expect(token.dig("valueFrom", "secretKeyRef", "optional")).to be(true)
    end

    it "grants no wildcard and never list/watch on Secrets" do
      roles = build.of_kind("ClusterRole") + build.of_kind("Role")
      rules = roles.flat_map { |r| r["rules"] }
      rules.each do |rule|
        expect(rule["verbs"] + rule["resources"] + rule["apiGroups"]).not_to include("*")
      end
      secret_rules = rules.select { |r| r["resources"].include?("secrets") }
      expect(secret_rules.flat_map { |r| r["verbs"] }).to eq(["get"])
    end

    it "binds the Secret reader nowhere cluster-wide" do
      bindings = build.of_kind("ClusterRoleBinding").map { |b| b.dig("roleRef", "name") }
      expect(bindings).not_to include("stats-tracker-secret-reader")
    end

    it "justifies every RBAC rule with a comment in the source" do
      %w[cluster_role.yaml leader_election_role.yaml secret_reader_cluster_role.yaml parser_source_role.yaml].each do |file|
        lines = File.readlines(File.join(manifests::DEPLOY_DIR, "base", file))
        lines.each_with_index.select { |l, _| l.start_with?("  - apiGroups:") }.each do |_, i|
          expect(lines[i - 1]).to match(/\A\s*#/), "#{file}:#{i + 1} has no comment saying why"
        end
      end
    end
  end

  describe "overlays" do
    it "runs one replica of the locally built image in dev" do
      deployment = manifests.build("overlays/dev").find("Deployment", "stats-tracker-operator")
      expect(deployment.dig("spec", "replicas")).to eq(1)
      expect(deployment.dig("spec", "template", "spec", "containers", 0, "image"))
        .to eq("localhost/stats-tracker-operator:dev")
    end

    it "runs two spread replicas of the released image with a disruption budget in production" do
      build = manifests.build("overlays/production")
      deployment = build.find("Deployment", "stats-tracker-operator")
      expect(deployment.dig("spec", "replicas")).to eq(2)
      expect(deployment.dig("spec", "template", "spec", "containers", 0, "image"))
        .to eq("ghcr.io/stats-tracker/stats-tracker-operator:v0.1.0")
      expect(deployment.dig("spec", "template", "spec", "topologySpreadConstraints")).not_to be_empty
      expect(build.find("PodDisruptionBudget", "stats-tracker-operator").dig("spec", "minAvailable")).to eq(1)
    end
  end

  describe "flux" do
    let(:kustomizations) { manifests.build("flux/git").of_kind("Kustomization") }

    it "orders CRDs before the operator before the samples and the parser's source" do
      by_name = kustomizations.to_h { |k| [k.dig("metadata", "name"), k] }
      expect(by_name.keys).to contain_exactly("stats-tracker-crds", "stats-tracker-operator", "stats-tracker-samples",
                                              "stats-tracker-parser")
      expect(by_name["stats-tracker-crds"]["spec"]).not_to have_key("dependsOn")
      expect(by_name["stats-tracker-operator"].dig("spec", "dependsOn")).to eq([{ "name" => "stats-tracker-crds" }])
      expect(by_name["stats-tracker-samples"].dig("spec", "dependsOn")).to eq([{ "name" => "stats-tracker-operator" }])
      expect(by_name["stats-tracker-parser"].dig("spec", "dependsOn")).to eq([{ "name" => "stats-tracker-operator" }])
    end

    it "waits for health, retries and times out on every step, and never prunes the CRDs" do
      kustomizations.each do |k|
        expect(k["spec"]).to include("wait" => true, "interval" => a_kind_of(String),
                                     "retryInterval" => a_kind_of(String), "timeout" => a_kind_of(String))
        expect(k["spec"]["prune"]).to eq(k.dig("metadata", "name") != "stats-tracker-crds")
      end
    end

    it "points every step at a path that builds" do
      kustomizations.each do |k|
        path = k.dig("spec", "path").delete_prefix("./operator/deploy/")
        expect(manifests.build(path).documents).not_to be_empty
      end
    end

    it "leaves the CRDs to the CRDs step, and points the operator at the parser's OCIRepository, nothing else" do
      operator = kustomizations.find { |k| k.dig("metadata", "name") == "stats-tracker-operator" }
      path = operator.dig("spec", "path").delete_prefix("./operator/deploy/")
      plain = manifests.build(path)
      patched = manifests.build_with(path, patches: operator.dig("spec", "patches"))
      expect(plain.kinds).to include("CustomResourceDefinition")
      expect(patched.kinds).not_to include("CustomResourceDefinition")
      deployment = ->(docs) { docs.find { |d| d["kind"] == "Deployment" } }
      env = deployment.call(patched.documents).dig("spec", "template", "spec", "containers", 0, "env")
      parser_source = manifests.build("flux/parser").find("OCIRepository", "stats-tracker-parser")
      expect(env).to include("name" => "PARSER_OCIREPOSITORY", "value" => parser_source.dig("metadata", "name"))
      expect(parser_source.dig("metadata", "namespace")).to eq(deployment.call(plain.documents).dig("metadata", "namespace"))
      without_env = patched.documents.map do |d|
        next d unless d["kind"] == "Deployment"

        Marshal.load(Marshal.dump(d)).tap do |copy|
          copy.dig("spec", "template", "spec", "containers", 0, "env").reject! { |e| e["name"] == "PARSER_OCIREPOSITORY" }
        end
      end
      expect(without_env).to eq(plain.documents.reject { |d| d["kind"] == "CustomResourceDefinition" })
    end

    it "pins the parser's source by semver, reading the layer rake release:parser writes" do
      spec = manifests.build("flux/parser").find("OCIRepository", "stats-tracker-parser")["spec"]
      expect(spec["ref"]).to eq("semver" => ">=0.1.0")
      expect(spec).not_to have_key("url") # the registry is the publisher's, patched in
      expect(spec["layerSelector"]).to eq("mediaType" => "application/vnd.cncf.flux.content.v1.tar+gzip", "operation" => "extract")
    end

    it "offers the same steps from an OCIRepository" do
      build = manifests.build("flux/oci")
      expect(build.of_kind("OCIRepository").size).to eq(1)
      expect(build.of_kind("GitRepository")).to be_empty
      build.of_kind("Kustomization").each do |k|
        expect(k.dig("spec", "sourceRef")).to eq("kind" => "OCIRepository", "name" => "stats-tracker")
      end
    end
  end
end
