# frozen_string_literal: true

require "stats_tracker/operator/controller/metrics"

RSpec.describe StatsTracker::Operator::Controller::Metrics do
  it "renders counters, gauges and histograms in the Prometheus text format" do
    m = described_class.new
    m.gauge("downloads", "Downloads")
    m.counter("total", "Total")
    m.histogram("seconds", "Seconds")
    m.set("downloads", { namespace: "ns", owner: "fluxcd", package: "charts/\"x\"" }, 42)
    m.increment("total", result: "ok")
    m.increment("total", result: "ok")
    m.observe("seconds", {}, 0.3)
    text = m.render
    expect(text).to include("# TYPE downloads gauge\n")
    expect(text).to include('downloads{namespace="ns",owner="fluxcd",package="charts/\"x\""} 42')
    expect(text).to include('total{result="ok"} 2')
    expect(text).to include('seconds_bucket{le="0.25"} 0', 'seconds_bucket{le="0.5"} 1', 'seconds_bucket{le="+Inf"} 1',
                            "seconds_count 1")
  end
end
