# frozen_string_literal: true

require_relative "../support/operator_harness"
require_relative "../../../testing/delaying_proxy"

RSpec.describe StatsTracker::Operator::Kube::ResourceApi, "over kept-alive connections", kube: true do
  include StatsTracker::Testing::OperatorHarness

  before { @proxy = StatsTracker::Testing::DelayingProxy.new(upstream_port: URI(connection.server).port).start }
  after { @proxy.stop }

  let(:via_proxy) do
    StatsTracker::Operator::Kube::Connection.new(server: "https://127.0.0.1:#{@proxy.port}",
                                                 ssl_options: connection.ssl_options, auth_options: connection.auth_options)
  end
  let(:config_maps) { StatsTracker::Operator::Kube::ResourceApi.new(connection: via_proxy, kind: "ConfigMap", plural: "configmaps") }

  def apply(name, value)
    config_maps.apply({ metadata: { name: name, namespace: namespace }, data: { "v" => value.to_s } })
  end

  it "sends every call of a thread over one connection, and gives each thread its own" do
    10.times { |i| apply("one-thread", i) }
    expect(config_maps.get("one-thread", namespace).dig(:data, :v)).to eq("9")
    expect(@proxy.connections).to eq(1)

    Array.new(3) { |t| Thread.new { 5.times { |i| apply("thread-#{t}", i) } } }.each(&:join)
    expect(@proxy.connections).to eq(4)
    expect(via_proxy.connections_opened).to eq(4)
    expect(config_maps.list(namespace: namespace).first.map { |cm| cm.dig(:metadata, :name) })
      .to include("one-thread", "thread-0", "thread-1", "thread-2")
  end

  it "reconnects when the server drops an idle connection, for reads and for applies" do
    apply("dropped", 1)
    @proxy.cut
    expect(apply("dropped", 2).dig(:data, :v)).to eq("2")
    @proxy.cut
    expect(config_maps.get("dropped", namespace).dig(:data, :v)).to eq("2")
    expect(@proxy.connections).to eq(3)
  end

  it "reports API errors with their codes over a kept-alive connection, and the connection stays usable" do
    expect(config_maps.get("missing", namespace)).to be_nil
    expect { config_maps.update({ metadata: { name: "missing", namespace: namespace, resourceVersion: "1" }, data: {} }) }
      .to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(404) }
    expect { config_maps.apply({ metadata: { name: "Not_A_Name", namespace: namespace } }) }
      .to raise_error(Kubeclient::HttpError) { |e| expect([e.error_code, e.message]).to match([422, /Not_A_Name/]) }
    expect(apply("after-errors", 1).dig(:data, :v)).to eq("1")
    expect(@proxy.connections).to eq(1)
  end

  it "ends its connections on close, and opens a new one on the next call" do
    apply("closed", 1)
    via_proxy.close
    expect(apply("closed", 2).dig(:data, :v)).to eq("2")
    expect(@proxy.connections).to eq(2)
  end
end
