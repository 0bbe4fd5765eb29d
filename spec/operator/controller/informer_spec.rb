# frozen_string_literal: true

require_relative "../simulation/world"

# The informer's cache and handler calls, fed lists and notices from the simulated API server
# (no thread, no watch stream).
RSpec.describe StatsTracker::Operator::Controller::Informer do
  sim = StatsTracker::Simulation

  let(:clock) { sim::Clock.new }
  let(:server) { sim::ApiServer.new(clock: clock, random: Random.new(1), trace: ->(_line) {}) }
  let(:calls) { [] }
  let(:informer) do
    described_class.new(api: server.resource("leaves"), logger: StatsTracker::Operator::Log.new(io: StringIO.new),
                        stop: StatsTracker::Operator::Controller::StopSignal.new,
                        handler: ->(type, object, previous) { calls << [type, object.dig(:metadata, :name), previous&.dig(:spec, :n)] })
  end

  def leaf(name, n)
    { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf", metadata: { name: name, namespace: "ns" }, spec: { n: n } }
  end

  def deliver
    clock.advance(60)
    server.deliver_due.each { |_plural, _kind, notice| informer.dispatch(notice) }
  end

  it "fills its cache from a list, then from notices, telling the handler what each replaced" do
    server.create("leaves", leaf("a", 1))
    server.reset_watches
    informer.load(*server.list("leaves"))
    expect(calls).to eq([[:upsert, "a", nil]])
    expect(informer).to be_synced

    server.edit_spec("leaves", "ns/a", n: 2)
    server.create("leaves", leaf("b", 1))
    server.user_delete("leaves", "ns/a")
    deliver
    expect(calls.drop(1)).to eq([[:upsert, "a", 1], [:upsert, "b", nil], [:delete, "a", nil]])
    expect(informer.store.keys).to eq(["ns/b"])
  end

  it "on a relist, reports only what changed and what went away" do
    %w[a b].each { |n| server.create("leaves", leaf(n, 1)) }
    server.reset_watches
    informer.load(*server.list("leaves"))
    server.edit_spec("leaves", "ns/a", n: 2)
    server.user_delete("leaves", "ns/b")
    calls.clear
    informer.load(*server.list("leaves"))
    expect(calls).to contain_exactly([:upsert, "a", nil], [:delete, "b", nil])
    expect(informer.lists).to eq(2)
  end

  it "refuses a list from a lagging API server, older than what it has seen: nothing deleted comes back" do
    server.create("leaves", leaf("a", 1))
    server.reset_watches
    informer.load(*server.list("leaves"))
    stale = server.list("leaves")
    server.user_delete("leaves", "ns/a")
    server.create("leaves", leaf("b", 1))
    deliver
    calls.clear
    expect { informer.load(*stale) }.to raise_error(described_class::StaleList, /older than/)
    expect(informer.store.keys).to eq(["ns/b"])
    expect(calls).to eq([])
  end

  # A conflict re-read puts the object that replaced a deleted one in the cache before the
  # watch delivers the deletion of the old one: that deletion must not remove the new object.
  it "keeps an object re-read into the cache when the deletion of its predecessor arrives" do
    server.create("leaves", leaf("a", 1))
    server.reset_watches
    informer.load(*server.list("leaves"))
    server.user_delete("leaves", "ns/a")
    server.create("leaves", leaf("a", 2))
    informer.store.put(server.resource("leaves").get("a", "ns"))
    clock.advance(60)
    deletion = server.deliver_due.find { |_plural, _kind, notice| notice[:type] == "DELETED" }.last
    informer.dispatch(deletion)
    expect(informer.store.get("ns/a")&.dig(:spec, :n)).to eq(2)
  end

  # A watch started from a list only sends what changed after it; a notice no newer than the
  # list is left from a watch before it (the simulation queues those after a refused list).
  it "ignores a notice no newer than the list it follows: a deleted object does not come back" do
    server.create("leaves", leaf("a", 1))
    server.reset_watches
    informer.load(*server.list("leaves"))
    server.edit_spec("leaves", "ns/a", n: 2)
    server.user_delete("leaves", "ns/a")
    informer.load(*server.list("leaves"))
    calls.clear
    clock.advance(60)
    server.deliver_due.each do |_plural, _kind, notice|
      informer.dispatch(notice)
      expect(informer.store.keys).to eq([])
    end
    expect(calls).to eq([])
  end
end

# Stand-ins for the informer's watch-loop spec below.
module InformerWatchLoop
  # Answers each list with the next of `lists` ([items, version]); records where each watch
  # resumed from.
  class ScriptedApi
    attr_reader :watched_from, :lists

    def initialize(lists)
      @answers = lists
      @watched_from = []
      @lists = 0
    end

    def plural = "leaves"
    def connection = nil

    def list(**)
      @lists += 1
      @answers.fetch(@lists - 1)
    end

    def watch_url(resource_version:, **)
      @watched_from << resource_version
      URI("http://api.invalid/leaves?resourceVersion=#{resource_version}")
    end
  end

  # Plays one script entry per watch: notices to deliver, then how the watch ends.
  class ScriptedStream
    def initialize(notices, ending, stop)
      @notices = notices
      @ending = ending
      @stop = stop
    end

    def each(&)
      @notices.each(&)
      raise StatsTracker::Operator::Controller::WatchStream::Gone, "too old" if @ending == :gone

      @stop.wait(Float::INFINITY) if @ending == :hang
    end

    def finish = nil
  end
end

# The informer's own thread, with the watch_stream seam standing between it and the API: each
# watch is scripted, so ending one and answering 410 Gone need no API server.
RSpec.describe StatsTracker::Operator::Controller::Informer, "watch loop" do
  def leaf(name, version)
    { metadata: { name: name, namespace: "ns", resourceVersion: version } }
  end

  # An informer whose every watch is opened by the block (given the watch's url:, connection:
  # and read_timeout:), returning a scripted stream.
  def scripted_informer(api, stop, handler: ->(_type, _object, _previous) {}, &open_watch)
    described_class.new(api: api, logger: StatsTracker::Operator::Log.new(io: StringIO.new), stop: stop,
                        handler: handler, backoff: StatsTracker::Backoff.new(base: 0.01, cap: 0.01),
                        watch_stream: open_watch)
  end

  it "resumes from the last resourceVersion after a watch ends, and relists after 410 Gone" do
    stop = StatsTracker::Operator::Controller::StopSignal.new
    api = InformerWatchLoop::ScriptedApi.new([[[leaf("a", "10")], "10"], [[leaf("a", "10"), leaf("b", "12")], "13"]])
    script = [[[{ type: "ADDED", object: leaf("b", "11") }], :end],
              [[{ type: "MODIFIED", object: leaf("b", "12") }], :gone],
              [[], :hang]]
    seen = Queue.new
    informer = scripted_informer(api, stop, handler: ->(_type, object, _previous) { seen << object.dig(:metadata, :name) }) \
    do |url:, connection:, read_timeout:|
      expect([url.host, connection, read_timeout]).to eq(["api.invalid", nil, 90])
      notices, ending = script.shift
      InformerWatchLoop::ScriptedStream.new(notices, ending, stop)
    end
    informer.start
    Timeout.timeout(60) { sleep 0.01 until script.empty? }
    stop.stop!
    informer.join(10)
    expect(api.watched_from).to eq(%w[10 11 13])
    expect(api.lists).to eq(2)
    expect(informer.store.get("ns/b").dig(:metadata, :resourceVersion)).to eq("12")
    expect(Array.new(seen.size) { seen.pop }.first(3)).to eq(%w[a b b])
  end

  # client-go's reflector: a LIST at start and after 410 Gone, never on a timer. Every watch that
  # ends resumes from the last resourceVersion, however long the informer has been running, so a
  # quiet cluster costs the API server no full list of every object and the operator no second copy.
  it "lists once while watches end for a day, and lists again only after 410 Gone" do
    stop = StatsTracker::Operator::Controller::StopSignal.new
    api = InformerWatchLoop::ScriptedApi.new([[[leaf("a", "10")], "10"], [[leaf("a", "40")], "40"]])
    # Each watch ends after its notice, an hour later by the monotonic clock.
    script = Array.new(24) { |i| [[{ type: "MODIFIED", object: leaf("a", (11 + i).to_s) }], :end] } +
             [[[], :gone], [[], :hang]]
    hours = 0
    allow(Process).to receive(:clock_gettime).and_wrap_original do |original, clock, *rest|
      now = original.call(clock, *rest)
      clock == Process::CLOCK_MONOTONIC ? now + (hours * 3600) : now
    end
    informer = scripted_informer(api, stop) do |**|
      notices, ending = script.shift
      hours += 1
      InformerWatchLoop::ScriptedStream.new(notices, ending, stop)
    end
    informer.start
    Timeout.timeout(60) { sleep 0.01 until script.empty? || api.lists > 2 }
    stop.stop!
    informer.join(10)
    expect(api.lists).to eq(2)
    expect(informer.lists).to eq(2)
    expect(api.watched_from).to eq(%w[10] + (11..34).map(&:to_s) + %w[40])
  end
end
