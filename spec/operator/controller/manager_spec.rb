# frozen_string_literal: true

require "net/http"
require_relative "../support/operator_harness"

# The Manager on its own, without the Project/Leaf controllers or the Runtime that wires them:
# informers over a real API server feed its queue, its workers call whatever controllers it is
# given, and its health server reports what it is doing.
RSpec.describe StatsTracker::Operator::Controller::Manager, kube: true do
  include StatsTracker::Testing::OperatorHarness
  include StatsTracker::Testing::Kube::WidgetFixture

  controller_module = StatsTracker::Operator::Controller

  # A controller for widgets that records each reconcile. A widget's spec.color decides what the
  # reconcile does: "raise" raises once, "die" ends its worker thread, "slow" waits to be released.
  let(:recorder) do
    Class.new do
      attr_reader :seen, :release

      def initialize
        @seen = Queue.new
        @raised = {}
        @release = Queue.new
      end

      def handles?(key) = key.kind == :widget

      def reconcile(key)
        @seen << key.name
        case color(key)
        when "raise" then (@raised[key.name] = true) && raise(ArgumentError, "first attempt fails") unless @raised[key.name]
        when "die" then Thread.current.kill
        when "slow" then @release.pop
        end
        :success
      end

      attr_accessor :colors

      def color(key) = colors.call(key.name)
    end.new
  end
  let(:widgets_api) do
    StatsTracker::Operator::Kube::ResourceApi.new(connection: connection, kind: "Widget", plural: "widgets",
                                                  group: widget_group, version: widget_version)
  end
  let(:metrics) { controller_module::Metrics.new }
  let(:queue) { controller_module::WorkQueue.new(backoff: StatsTracker::Backoff.new(base: 0.05, cap: 0.2)) }
  let(:log) { StringIO.new }
  let(:manager) do
    described_class.new(
      sources: [[widgets_api, lambda { |type, object, _previous|
        queue.add(controller_module::ObjectKey.for(:widget, object)) if type == :upsert
      }]],
      controllers: [recorder], queue: queue, metrics: metrics, namespaces: [namespace], concurrency: 2,
      logger: StatsTracker::Operator::Log.new(io: log, format: :json, level: :info),
      health: { bind: "127.0.0.1", port: 0 }, shutdown_timeout: 10
    )
  end

  before do
    install_widget_crd
    recorder.colors = ->(name) { get_widget(name).dig("spec", "color") }
  end

  after do
    next unless @running

    manager.stop
    @running.join(15)
  end

  def start
    @running = Thread.new { manager.run }
    StatsTracker::Testing::Kube::Wait.until("manager to serve health", timeout: 30) { manager.health }
  end

  def probe(path) = Net::HTTP.get_response(URI("http://127.0.0.1:#{manager.health.port}#{path}"))

  def seen_names(count)
    StatsTracker::Testing::Kube::Wait.until("#{count} reconciles", timeout: 30) { recorder.seen.size >= count }
    Array.new(recorder.seen.size) { recorder.seen.pop }
  end

  it "reconciles existing and new objects, counts each reconcile and serves /readyz once synced" do
    create_widget("before", spec: { size: 1, color: "red" })
    start
    StatsTracker::Testing::Kube::Wait.until("readyz", timeout: 30) { probe("/readyz").code == "200" }
    create_widget("after", spec: { size: 1, color: "red" })

    expect(seen_names(2)).to contain_exactly("before", "after")
    StatsTracker::Testing::Kube::Wait.until("both counted", timeout: 10) do
      metrics.value("stats_tracker_reconcile_total", controller: "widget", result: "success") == 2
    end
    expect(probe("/healthz").code).to eq("200")
    expect(probe("/metrics").body).to include('stats_tracker_reconcile_total{controller="widget",result="success"} 2')
      .and include('stats_tracker_watch_events_total{resource="widgets",type="ADDED"}')
  end

  it "retries a reconcile that raises, after a backoff, and the worker lives on" do
    start
    create_widget("flaky", spec: { size: 1, color: "raise" })

    expect(seen_names(2)).to eq(%w[flaky flaky])
    expect(metrics.value("stats_tracker_reconcile_errors_total", controller: "widget")).to eq(1)
    expect(log.string).to include("reconcile raised")
    expect(manager.healthy?).to be(true)
  end

  it "reports unhealthy on /healthz when a worker thread has died" do
    start
    create_widget("fatal", spec: { size: 1, color: "die" })
    seen_names(1)

    StatsTracker::Testing::Kube::Wait.until("healthz to fail", timeout: 10) { probe("/healthz").code == "503" }
    expect(manager.healthy?).to be(false)
  end

  it "lets an in-flight reconcile finish on stop, then returns :stopped and closes the health server" do
    start
    create_widget("slow", spec: { size: 1, color: "slow" })
    seen_names(1)

    stopping = Thread.new { manager.stop }
    expect(@running.join(0.5)).to be_nil # still draining the slow reconcile
    recorder.release << :go
    expect(@running.join(15)&.value).to eq(:stopped)
    stopping.join(5)
    expect(metrics.value("stats_tracker_reconcile_total", controller: "widget", result: "success")).to eq(1)
    expect { probe("/healthz") }.to raise_error(SystemCallError)
    @running = nil
  end
end
