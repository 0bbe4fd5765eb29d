# frozen_string_literal: true

require "base64"
require_relative "support/operator_harness"

# Which GitHub token a Project or Leaf spends, read from real Secrets on the API server.
RSpec.describe StatsTracker::Operator::GithubTokens, kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:now) { [0.0] }
  let(:built) { [] }
  let(:secrets_api) { StatsTracker::Operator::Kube::ResourceApi.new(connection: connection, kind: "Secret", plural: "secrets") }
  let(:tokens) do
    described_class.new(secrets_api: secrets_api, default_token: "default-token", ttl: 60, clock: -> { now[0] },
                        logger: StatsTracker::Operator::Log.new(io: StringIO.new),
                        build_fetcher: ->(token) { { token: token }.tap { |f| built << f } })
  end

  def object(secret_name = nil)
    { metadata: { name: "leaf", namespace: namespace }, spec: secret_name ? { secretRef: { name: secret_name } } : {} }
  end

  def write_secret(name, data)
    body = { apiVersion: "v1", kind: "Secret", metadata: { name: name, namespace: namespace },
             data: data.transform_values { |v| Base64.strict_encode64(v) } }
    kube.apply_yaml("#{JSON.generate(body)}\n", namespace: namespace) # JSON is YAML
  end

  it "uses the operator's token for an object that names no Secret, with one fetcher per token" do
    expect(tokens.fetcher_for(object)).to eq(token: "default-token")
    expect(tokens.fetcher_for(object)).to be(built.first)
  end

  it "uses the named Secret's token, trimmed, and picks up a rotation once the cached copy is older than ttl" do
    write_secret("gh", "token" => "first-token\n")
    expect(tokens.fetcher_for(object("gh"))).to eq(token: "first-token")

    write_secret("gh", "token" => "second-token")
    now[0] = 59
    expect(tokens.fetcher_for(object("gh"))).to eq(token: "first-token")
    now[0] = 61
    expect(tokens.fetcher_for(object("gh"))).to eq(token: "second-token")
  end

  it "never falls back to the operator's token when the named Secret cannot be used" do
    write_secret("no-key", "other" => "x")
    write_secret("empty", "token" => "  \n")

    expect { tokens.fetcher_for(object("missing")) }.to raise_error(described_class::SecretUnavailable, /not found/)
    expect { tokens.fetcher_for(object("no-key")) }.to raise_error(described_class::SecretUnavailable, /no key "token"/)
    expect { tokens.fetcher_for(object("empty")) }.to raise_error(described_class::SecretUnavailable, /is empty/)
    expect(built).to be_empty
  end
end
