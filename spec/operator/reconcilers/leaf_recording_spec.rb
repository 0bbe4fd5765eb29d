# frozen_string_literal: true

require "stats_tracker/operator/reconcilers/leaf"

# The Leaf reconciler's one call into the history store's recorder: every page it reads is
# handed over with the time it was read; a 304 or a failed read hands over nothing.
RSpec.describe StatsTracker::Operator::Reconcilers::Leaf, "recording observations" do
  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:fetcher) { StatsTracker::Fetcher.new(base_url: pages.base_url, max_retries: 0) }
  let(:now) { [Time.utc(2026, 11, 1, 12, 0, 0)] }
  let(:observed) { [] }
  let(:reconciler) do
    described_class.new(fetcher_for: ->(_leaf) { fetcher }, parser: StatsTracker::Parser.new, acquire: ->(_leaf) { 0.0 },
                        clock: -> { now[0] }, random: Random.new(1),
                        on_observation: lambda { |leaf, stats, at, versions: nil|
                          observed << [leaf.dig(:spec, :package), stats, at, versions]
                        })
  end

  after { pages.stop }

  def leaf(status: nil)
    { metadata: { name: "fluxcd-flagger", namespace: "ns", uid: "u1", generation: 1 },
      spec: { owner: "fluxcd", package: "flagger", interval: "1h" }, status: status || { observedGeneration: -1 } }
  end

  it "hands over the parsed page and when it was read, but nothing for a 304 or a failed read" do
    pages.serve_package(owner: "fluxcd", package: "flagger", html: StatsTracker::Testing::PageServer.package_html(total: 77))
    status = reconciler.reconcile(leaf).status

    expect(observed.map { |name, stats, at| [name, stats.total_downloads, at] })
      .to eq([["flagger", 77, Time.utc(2026, 11, 1, 12)]])
    expect(observed.first[1].last_30_days.size).to eq(30)

    now[0] += 3600
    reconciler.reconcile(leaf(status: status))
    expect(pages.requests.last).to include(status: 304)
    pages.fail_next("/orgs/fluxcd", status: 500)
    now[0] += 7200
    reconciler.reconcile(leaf(status: status))
    expect(observed.size).to eq(1)
  end
end
