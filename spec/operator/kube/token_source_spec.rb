# frozen_string_literal: true

require "tmpdir"
require_relative "../support/operator_harness"
require_relative "../../../testing/delaying_proxy"

RSpec.describe StatsTracker::Operator::Kube::TokenSource do
  it "re-reads the token file when it changes (kubeclient 4.9.3 reads it once)" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "token")
      File.write(path, "first\n")
      source = described_class.new(path: path, max_age: 3600)
      expect(source.token).to eq("first")
      File.write(path, "second")
      File.utime(Time.now + 5, Time.now + 5, path)
      expect(source.authorization).to eq("Bearer second")
    end
  end

  context "against the API server", kube: true do
    include StatsTracker::Testing::OperatorHarness

    it "authenticates every call with the current token: a rotated file takes effect without a restart" do
      Dir.mktmpdir do |dir|
        path = File.join(dir, "token")
        File.write(path, "not-a-token")
        conn = StatsTracker::Operator::Kube::Connection.new(
          server: kube.api_url, ssl_options: { ca_file: kube.ssl_options[:ca_file], verify_ssl: OpenSSL::SSL::VERIFY_PEER },
          auth_options: { bearer_token_file: path }
        )
        api = StatsTracker::Operator::Kube::ResourceApi.new(connection: conn, kind: "Lease", plural: "leases",
                                                            group: "coordination.k8s.io")
        expect { api.list(namespace: namespace) }.to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(401) }

        File.write(path, kube.token_for(service_account: "probe", namespace: namespace))
        File.utime(Time.now + 5, Time.now + 5, path)
        # Authenticated now; the service account has no RBAC grant, so 403 rather than 401.
        expect { api.list(namespace: namespace) }.to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(403) }
      end
    end

    # Each call builds its own request with the token read then, so nothing shared is changed
    # when the token rotates, and the kept-alive connection carries the new token at once.
    it "sends a rotated token on the connection that is already open" do
      Dir.mktmpdir do |dir|
        path = File.join(dir, "token")
        File.write(path, kube.token_for(service_account: "probe", namespace: namespace))
        proxy = StatsTracker::Testing::DelayingProxy.new(upstream_port: URI(kube.api_url).port).start
        conn = StatsTracker::Operator::Kube::Connection.new(
          server: "https://127.0.0.1:#{proxy.port}",
          ssl_options: { ca_file: kube.ssl_options[:ca_file], verify_ssl: OpenSSL::SSL::VERIFY_PEER },
          auth_options: { bearer_token_file: path }
        )
        api = StatsTracker::Operator::Kube::ResourceApi.new(connection: conn, kind: "Lease", plural: "leases",
                                                            group: "coordination.k8s.io")
        expect { api.list(namespace: namespace) }.to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(403) }

        File.write(path, "revoked-token")
        File.utime(Time.now + 5, Time.now + 5, path)
        expect { api.list(namespace: namespace) }.to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(401) }
        expect(proxy.connections).to eq(1)
      ensure
        proxy&.stop
      end
    end
  end
end
