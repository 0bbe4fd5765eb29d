# frozen_string_literal: true

require "securerandom"

# A CRD's storage (and its watch cache) is built on the first request after it is Established; until
# the cache's first list completes, lists answer 429 "storage is (re)initializing". apply_yaml is the
# harness's promise that a kind can be used the moment it returns, so it must wait past that too.
RSpec.describe "A freshly applied CRD", kube: true do
  let(:group) { "fresh-#{SecureRandom.hex(4)}.harness.stats-tracker.dev" }

  def crd_yaml(plural)
    <<~YAML
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: #{plural}.#{group}
      spec:
        group: #{group}
        scope: Namespaced
        names: { kind: #{plural.capitalize.chomp("s")}, plural: #{plural}, singular: #{plural.chomp("s")} }
        versions:
          - name: v1
            served: true
            storage: true
            schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
    YAML
  end

  after do
    %w[gadgets gizmos sprockets].each do |plural|
      kube.connection.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/#{plural}.#{group}")
    end
  end

  it "lists its resources as soon as apply_yaml returns, without a 429 to retry" do
    client = kube.client(group: group)
    statuses = %w[gadgets gizmos sprockets].map do |plural|
      kube.apply_yaml(crd_yaml(plural))
      client.get_entities(nil, plural, namespace: namespace, as: :parsed)
      :listed
    rescue Kubeclient::HttpError => e
      e.error_code
    end

    expect(statuses).to eq(%i[listed listed listed])
  end
end
