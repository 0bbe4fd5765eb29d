# frozen_string_literal: true

RSpec.describe StatsTracker::Testing::KubeCluster, kube: true do
  it "serves the pinned Kubernetes version with the admin identity in system:masters" do
    version = JSON.parse(kube.connection.get("/version").body)
    expect(version["gitVersion"]).to eq(StatsTracker::Testing::Kube::Binaries.pinned_version)

    review = kube.connection.post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                  { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" })
    user = review.json.dig("status", "userInfo")
    expect(user["username"]).to eq("stats-tracker-admin")
    expect(user["groups"]).to include("system:masters")
  end

  it "writes a kubeconfig that kubectl and Kubeclient::Config both accept" do
    out, status = kube.kubectl("get", "namespace", namespace, "-o", "jsonpath={.status.phase}")
    expect(status).to be_success, kube.last_kubectl_stderr
    expect(out).to eq("Active")

    context = Kubeclient::Config.read(kube.kubeconfig_path).context
    client = Kubeclient::Client.new("#{context.api_endpoint}/api", "v1",
                                    ssl_options: context.ssl_options, auth_options: context.auth_options)
    expect(client.get_namespace(namespace).metadata.name).to eq(namespace)
  end

  it "gives each example its own namespace" do
    expect(namespace).to match(/\A[a-z0-9-]+-[0-9a-f]{6}\z/)
    expect(kube.client.get_namespace(namespace).status.phase).to eq("Active")
  end

  it "issues ServiceAccount tokens that authenticate, and RBAC still applies to them" do
    token = kube.token_for(service_account: "operator", namespace: namespace)

    review = kube.connection(bearer_token: token).post(
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }
    )
    expect(review.json.dig("status", "userInfo", "username")).to eq("system:serviceaccount:#{namespace}:operator")

    as_sa = Kubeclient::Client.new("#{kube.api_url}/api", "v1",
                                   ssl_options: { ca_file: kube.ssl_options[:ca_file] },
                                   auth_options: { bearer_token: token })
    expect { as_sa.get_secrets(namespace: namespace) }
      .to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(403) }
  end

  it "empties and removes a deleted namespace (the namespace controller runs)" do
    kube.client.create_config_map(
      Kubeclient::Resource.new(metadata: { name: "leftover", namespace: namespace }, data: { "a" => "b" })
    )
    kube.delete_namespace(namespace, wait: true)

    expect { kube.client.get_namespace(namespace) }.to raise_error(Kubeclient::ResourceNotFoundError)
  end
end
