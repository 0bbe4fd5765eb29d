# frozen_string_literal: true

require "securerandom"
require_relative "support/installation"
require_relative "support/identity"

# The RBAC of operator/deploy/base, exercised with the operator ServiceAccount's own bound token
# (TokenRequest API) against the real API server: each thing the operator does works, and
# things it must not do are refused by the authorizer (403), not merely unused.
RSpec.describe "operator RBAC under its ServiceAccount", kube: true do
  installation = StatsTracker::Testing::DeployInstallation
  group = "/apis/stats-tracker.dev/v1alpha1"
  samples = "stats-tracker-samples"
  system = "stats-tracker-system"

  before(:context) do
    cluster = StatsTracker::Testing::KubeCluster.shared
    installation.uninstall(cluster)
    installation.install(cluster, "base", "samples")
  end
  after(:context) { installation.uninstall(StatsTracker::Testing::KubeCluster.shared) }

  let(:operator) do
    StatsTracker::Testing::ServiceAccountIdentity.new(kube: kube, service_account: "stats-tracker-operator",
                                                      namespace: system)
  end

  def leaf(name, namespace)
    { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf",
      metadata: { name: name, namespace: namespace },
      spec: { owner: "fluxcd", package: "flux-cli", interval: "1h" } }
  end

  describe "what the operator does" do
    it "lists and watches Projects and Leafs in every namespace (its informers)" do
      expect(operator.get("#{group}/projects").status).to eq(200)
      expect(operator.get("#{group}/leaves").status).to eq(200)
      expect(operator.get("#{group}/namespaces/#{samples}/projects?limit=1").status).to eq(200)
      %w[projects leaves].each do |resource|
        expect(operator.can?("watch", resource, group: "stats-tracker.dev")).to be(true)
      end
    end

    it "writes a Project's status by server-side apply, and nothing else of it" do
      path = "#{group}/namespaces/#{samples}/projects/fluxcd"
      status = { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Project",
                 metadata: { name: "fluxcd", namespace: samples },
                 status: { packageCount: 0, totalDownloads: 0, observedGeneration: 1 } }
      applied = operator.apply("#{path}/status", status)
      expect(applied.status).to eq(200)
      expect(applied.json.dig("status", "packageCount")).to eq(0)
      expect(operator.merge_patch(path, { metadata: { labels: { "x" => "y" } } }).forbidden?).to be(true)
    end

    it "creates a Leaf by server-side apply, writes its status, deletes it" do
      path = "#{group}/namespaces/#{samples}/leaves/flux-cli"
      expect(operator.apply(path, leaf("flux-cli", samples)).status).to eq(201)
      status = { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf",
                 metadata: { name: "flux-cli", namespace: samples },
                 status: { downloadCount: 42, observedGeneration: 1 } }
      applied = operator.apply("#{path}/status", status)
      expect(applied.status).to eq(200)
      expect(applied.json.dig("status", "downloadCount")).to eq(42)
      uid = applied.json.dig("metadata", "uid")
      # Deletes carry a UID precondition, as the operator's do.
      expect(operator.request_delete(path, preconditions: { uid: uid }).status).to eq(200)
    end

    it "records events.k8s.io Events on its objects, and may not rewrite them" do
      event = { apiVersion: "events.k8s.io/v1", kind: "Event",
                metadata: { name: "fluxcd.#{SecureRandom.hex(8)}", namespace: samples },
                regarding: { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Project", name: "fluxcd",
                             namespace: samples },
                reason: "RateLimited", note: "GitHub answered 429", type: "Warning", action: "Reconcile",
                reportingController: "stats-tracker.dev/operator", reportingInstance: "pod-a",
                eventTime: Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ") }
      created = operator.post("/apis/events.k8s.io/v1/namespaces/#{samples}/events", event)
      expect(created.status).to eq(201), created.body
      name = created.json.dig("metadata", "name")
      expect(operator.merge_patch("/apis/events.k8s.io/v1/namespaces/#{samples}/events/#{name}", { note: "x" })
        .forbidden?).to be(true)
    end

    it "creates, renews and releases its Lease in its own namespace" do
      path = "/apis/coordination.k8s.io/v1/namespaces/#{system}/leases"
      lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease",
                metadata: { name: "stats-tracker-operator-rbac-spec", namespace: system },
                spec: { holderIdentity: "pod-a", leaseDurationSeconds: 15 } }
      created = operator.post(path, lease)
      expect(created.status).to eq(201)
      renewed = created.json
      renewed["spec"]["renewTime"] = Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ")
      expect(operator.put("#{path}/stats-tracker-operator-rbac-spec", renewed).status).to eq(200)
      current = operator.get("#{path}/stats-tracker-operator-rbac-spec")
      expect(current.status).to eq(200)
      released = current.json.merge("spec" => current.json["spec"].merge("holderIdentity" => nil))
      expect(operator.put("#{path}/stats-tracker-operator-rbac-spec", released).status).to eq(200)
      expect(operator.delete("#{path}/stats-tracker-operator-rbac-spec").forbidden?).to be(true)
      expect(operator.can?("list", "leases", group: "coordination.k8s.io", namespace: system)).to be(false)
    end

    it "gets, lists and watches OCIRepositories in its own namespace (the parser's source), and only that" do
      flux = "source.toolkit.fluxcd.io"
      %w[get list watch].each do |verb|
        expect(operator.can?(verb, "ocirepositories", group: flux, namespace: system)).to be(true), verb
      end
      %w[create update patch delete deletecollection].each do |verb|
        expect(operator.can?(verb, "ocirepositories", group: flux, namespace: system)).to be(false), verb
      end
      expect(operator.can?("patch", "ocirepositories", group: flux, namespace: system, subresource: "status")).to be(false)
      expect(operator.can?("list", "ocirepositories", group: flux, namespace: "flux-system")).to be(false)
      expect(operator.can?("get", "gitrepositories", group: flux, namespace: system)).to be(false)
    end

    it "gets a Secret by name in a namespace that bound the secret-reader role" do
      # 404, not 403: the authorizer let the request through; the Secret just does not exist.
      expect(operator.get("/api/v1/namespaces/#{samples}/secrets/github-token").status).to eq(404)
    end
  end

  describe "what the operator must not do" do
    it "cannot list or watch Secrets anywhere" do
      expect(operator.get("/api/v1/secrets").forbidden?).to be(true)
      expect(operator.get("/api/v1/namespaces/#{samples}/secrets").forbidden?).to be(true)
      expect(operator.can?("watch", "secrets")).to be(false)
    end

    it "cannot read a Secret in a namespace that did not bind the secret-reader role" do
      expect(operator.get("/api/v1/namespaces/#{namespace}/secrets/github-token").forbidden?).to be(true)
      expect(operator.get("/api/v1/namespaces/#{system}/secrets/github-token").forbidden?).to be(true)
    end

    it "cannot create, replace or delete Projects: users own them" do
      project = { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Project",
                  metadata: { name: "intruder", namespace: samples }, spec: { owner: "fluxcd" } }
      expect(operator.post("#{group}/namespaces/#{samples}/projects", project).forbidden?).to be(true)
      expect(operator.delete("#{group}/namespaces/#{samples}/projects/fluxcd").forbidden?).to be(true)
      current = operator.get("#{group}/namespaces/#{samples}/projects/fluxcd").json
      expect(operator.put("#{group}/namespaces/#{samples}/projects/fluxcd", current).forbidden?).to be(true)
    end

    it "cannot take Leases outside its own namespace" do
      lease = { apiVersion: "coordination.k8s.io/v1", kind: "Lease",
                metadata: { name: "stats-tracker-operator", namespace: namespace }, spec: { holderIdentity: "x" } }
      expect(operator.post("/apis/coordination.k8s.io/v1/namespaces/#{namespace}/leases", lease).forbidden?).to be(true)
      expect(operator.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager")
        .forbidden?).to be(true)
    end

    it "cannot touch workloads, RBAC or other kinds it has no rule for" do
      expect(operator.get("/api/v1/pods").forbidden?).to be(true)
      expect(operator.get("/apis/apps/v1/namespaces/#{system}/deployments").forbidden?).to be(true)
      expect(operator.can?("escalate", "clusterroles", group: "rbac.authorization.k8s.io")).to be(false)
      expect(operator.can?("deletecollection", "leaves", group: "stats-tracker.dev", namespace: samples)).to be(false)
      expect(operator.can?("update", "leaves", group: "stats-tracker.dev", namespace: samples)).to be(false)
      expect(operator.can?("patch", "projects", group: "stats-tracker.dev", namespace: samples)).to be(false)
      expect(operator.can?("update", "leaves", group: "stats-tracker.dev", namespace: samples,
                                               subresource: "status")).to be(false)
    end
  end
end
