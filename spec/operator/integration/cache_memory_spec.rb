# frozen_string_literal: true

require_relative "../support/operator_harness"

# What the informer caches hold, and what /metrics says about it: the operator's memory grows
# with every cached object, so each one keeps only what the controllers read (bench/RESULTS.md
# has the soak measurements these guard).
RSpec.describe "operator cache memory", kube: true do
  include_context "an operator against the API server"

  let(:watches) { StatsTracker::Testing::WatchControl.new }

  def informer(runtime, plural)
    runtime.manager.informers.find { |i| i.plural == plural }
  end

  def cached_leaves(runtime)
    informer(runtime, "leaves").store.all
  end

  def cache_current?(runtime)
    served = api_for("leaves").list(namespace: namespace).first.to_h { |l| [l.dig(:metadata, :name), l.dig(:metadata, :resourceVersion)] }
    cached = cached_leaves(runtime).to_h { |l| [l.dig(:metadata, :name), l.dig(:metadata, :resourceVersion)] }
    served == cached
  end

  # The operator with the fluxcd Project Ready, nothing queued, and its cache as the API server
  # has it: the watch event of the last status write can trail the empty queue, and a relist that
  # sees a newer Leaf than the cache holds rightly replaces it.
  def settled_operator
    serve_fluxcd(pages)
    runtime = start_operator(pages, watches: watches)
    apply_project("fluxcd")
    wait_project_ready("fluxcd", packages: 22)
    wait_for("the queue to settle") { runtime.manager.queue.depth.zero? && !runtime.manager.queue.processing? }
    wait_for("the cache to hold every Leaf as the API server has it") { cache_current?(runtime) }
    runtime
  end

  # A real 410 Gone on the Leafs' watch, and the relist that follows.
  def relist_leaves(runtime)
    lists = informer(runtime, "leaves").lists
    watches.expire("leaves")
    wait_for("a relist") { informer(runtime, "leaves").lists > lists }
  end

  it "caches objects without managedFields or anything else of metadata the controllers do not read" do
    serve_fluxcd(pages)
    runtime = start_operator(pages, watches: watches)
    apply_project("fluxcd")
    wait_project_ready("fluxcd", packages: 22)

    # The API server's copy has the bookkeeping; the cache (filled by list, watch and the
    # responses to the operator's own status writes) does not.
    expect(leaf("fluxcd-flagger").dig(:metadata, :managedFields)).not_to be_empty
    cached = cached_leaves(runtime) + informer(runtime, "projects").store.all
    expect(cached.size).to eq(23)
    cached.each do |object|
      expect(object[:metadata].keys).to all(satisfy { |k| StatsTracker::Operator::Controller::CacheTransform::METADATA.include?(k) })
      expect(object[:metadata]).to include(:uid, :resourceVersion, :generation)
      expect(object).to be_frozen
    end

    # After a relist too.
    relist_leaves(runtime)
    expect(cached_leaves(runtime).flat_map { |l| l[:metadata].keys }.uniq).not_to include(:managedFields, :creationTimestamp)
  end

  it "holds a value many Leafs share once, and keeps an unchanged object across a relist" do
    runtime = settled_operator

    leaves = cached_leaves(runtime)
    owners = leaves.map { |l| l.dig(:spec, :owner) }
    expect(owners.uniq).to eq(["fluxcd"])
    expect(owners.map(&:object_id).uniq.size).to eq(1)
    dates = leaves.filter_map { |l| l.dig(:status, :last30Days, 0, :date) }
    expect(dates.size).to be > 1
    expect(dates.group_by(&:itself).values.map { |same| same.map(&:object_id).uniq.size }).to all(eq(1))

    store = informer(runtime, "leaves").store
    before = store.get("#{namespace}/fluxcd-flagger")
    # Nothing changed, so the relist builds no second copy of any Leaf: no listed Leaf is
    # transformed (a transformed one is frozen; a listed one is fresh from the JSON parser).
    copies = []
    allow(StatsTracker::Operator::Controller::CacheTransform).to receive(:call).and_wrap_original do |original, object|
      copies << object.dig(:metadata, :name) if object[:kind] == "Leaf" && !object.frozen?
      original.call(object)
    end
    relist_leaves(runtime)
    expect(store.get("#{namespace}/fluxcd-flagger")).to equal(before)
    expect(copies).to be_empty
  end

  # The informer thread lives as long as the process: nothing of a list it made may stay
  # reachable from it once the watch has replaced every listed object, or each relist leaves a
  # second copy of the cache behind until the thread next raises.
  it "keeps no listed object alive once the watch has replaced it" do
    runtime = settled_operator
    relist_leaves(runtime)
    listed = ObjectSpace::WeakMap.new
    versions = cached_leaves(runtime).to_h do |l|
      listed[l] = true
      [l.dig(:metadata, :name), l.dig(:metadata, :resourceVersion)]
    end
    expect(versions.size).to eq(22)

    # A label changes every Leaf: the watch brings each one's new version into the cache.
    kubectl!("label", "--overwrite", "-n", namespace, "leaves.stats-tracker.dev", "--all", "census=relabelled")
    wait_for("every cached Leaf replaced") do
      cached_leaves(runtime).none? { |l| versions[l.dig(:metadata, :name)] == l.dig(:metadata, :resourceVersion) }
    end
    3.times { GC.start(full_mark: true, immediate_sweep: true) }
    alive = 0
    listed.each_key { alive += 1 }
    # The informer's stack may still point at the last object a notice replaced; the list was 22.
    expect(alive).to be <= 1
  end

  it "lists in pages, so a large list is never one response" do
    stub_const("StatsTracker::Operator::Kube::ResourceApi::LIST_PAGE", 5)
    serve_fluxcd(pages)
    runtime = start_operator(pages, watches: watches)
    apply_project("fluxcd")
    wait_project_ready("fluxcd", packages: 22)
    lists = runtime.kube_requests(verb: :list, resource: "leaves")
    watches.expire("leaves")
    wait_for("a paged relist") { runtime.kube_requests(verb: :list, resource: "leaves") >= lists + 5 }
    expect(informer(runtime, "leaves").store.size).to eq(22)
  end

  it "exports the number of cached objects and the process RSS on /metrics" do
    serve_fluxcd(pages)
    runtime = start_operator(pages)
    apply_project("fluxcd")
    wait_project_ready("fluxcd", packages: 22)

    text = runtime.metrics.render
    expect(metric_value(text, "stats_tracker_cached_objects", resource: "leaves")).to eq(22)
    expect(metric_value(text, "stats_tracker_cached_objects", resource: "projects")).to eq(1)
    rss = metric_value(text, "process_resident_memory_bytes")
    expect(rss).to be_within(64 * 1024 * 1024).of(File.read("/proc/self/statm").split[1].to_i * 4096)
  end

  it "exports the container's memory limit when MEMORY_LIMIT gives it, and nothing when it does not" do
    serve_fluxcd(pages)
    limited = start_operator(pages, memory_limit: 512 * 1024 * 1024)
    unlimited = start_operator(pages)

    expect(metric_value(limited.metrics.render, "stats_tracker_memory_limit_bytes")).to eq(512 * 1024 * 1024)
    expect(unlimited.metrics.render).not_to match(/^stats_tracker_memory_limit_bytes /)
  end
end
