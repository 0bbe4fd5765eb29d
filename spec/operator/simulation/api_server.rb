# frozen_string_literal: true

require "kubeclient"

module StatsTracker
  module Simulation
    # Not a StandardError, so no rescue in the operator can swallow it: the process is gone.
    class Crash < Exception; end # rubocop:disable Lint/InheritException

    # An in-memory API server: objects with uids, generations and resourceVersions, server-side
    # apply of the fields the operator owns with resourceVersion and uid preconditions refused
    # with 409 as the real one refuses them, owner-reference garbage collection, and one watch
    # stream per kind whose notices arrive after a simulated latency (or never, when a watch is
    # dropped: the informer then relists). Writes can be made to fail. It also holds the one
    # Lease two replicas elect a leader on, can answer a relist from a lagging replica of its
    # store (an older resourceVersion), and can be slow: then every request from a replica
    # (lease, list, apply) waits there and on the way back, on the replica's Fiber.
    class ApiServer
      GROUP_VERSION = "stats-tracker.dev/v1alpha1"
      KINDS = { "projects" => "Project", "leaves" => "Leaf" }.freeze

      attr_reader :writes, :deletions, :last_write_failure, :rv, :lease
      # Told of every write the operator makes, as it reaches the store: (sender, what, plural, key).
      attr_writer :on_write

      # Who sent a write: a replica's identity (nil: the lone operator), and whether it counted
      # itself leader when the write left it.
      Sender = Struct.new(:identity, :leading)

      SNAPSHOTS = 400

      def initialize(clock:, random:, trace:)
        @clock = clock
        @random = random
        @trace = trace
        @objects = KINDS.keys.to_h { |plural| [plural, {}] }
        @notices = { nil => KINDS.keys.to_h { |plural| [plural, []] } }
        @relist_at = {}
        @rv = 0
        @uid = 0
        @write_faults = []
        @writes = Hash.new { |h, k| h[k] = [] }
        @deletions = []
        @latency = 0.5
        @snapshots = KINDS.keys.to_h { |plural| [plural, []] }
        @stale = {}
        @slow_until = -1.0
        @slow_max = 0.0
        @lease = nil
        @lease_faults = {}
        # The latest end of any stall: a stalled request returns only then, even after another
        # fault replaced the stall's entry or the faults were cleared.
        @stalled_until = -1.0
        @replica_slow = {}
        @lost_responses = 0
        @preconditions = true
      end

      def resource(plural)
        Resource.new(server: self, plural: plural)
      end

      def events
        @events ||= EventSink.new
      end

      # --- what the world sees -------------------------------------------------------------

      def get(plural, key)
        @objects.fetch(plural)[key]
      end

      def all(plural)
        @objects.fetch(plural).values
      end

      # --- the operator's calls (through Resource) -----------------------------------------

      def list(plural)
        [all(plural).map { |o| copy(o) }, @rv.to_s]
      end

      # base: the resourceVersion the writer read, sent as a precondition (as server-side apply
      # takes metadata.resourceVersion); nil sends none.
      def apply_status(plural, name, namespace, status, base: nil, by: nil)
        key = "#{namespace}/#{name}"
        object = get(plural, key) or raise Kubeclient::ResourceNotFoundError.new(404, "#{plural} #{key} not found", nil)
        fail_write!(plural, key, "status")
        precondition!(object, base, "status", by)
        changed = object.merge(status: copy(status))
        written(by, "status", plural, key, base: base, replaces: changed == object ? nil : object)
        return copy(object) if changed == object

        commit(plural, key, changed, "MODIFIED")
      end

      # As server-side apply: a resourceVersion in the body is a precondition on an existing
      # object, and ignored when there is none (so one no object has makes an apply create-only);
      # an apply that changes nothing is no new version.
      def apply(plural, body, by: nil)
        meta = body[:metadata]
        key = "#{meta[:namespace]}/#{meta[:name]}"
        fail_write!(plural, key, "apply")
        existing = get(plural, key)
        precondition!(existing, meta[:resourceVersion], "apply", by) if existing
        unless existing
          written(by, "apply", plural, key, base: meta[:resourceVersion], replaces: nil)
          return commit(plural, key, create_body(body), "ADDED")
        end

        changed = applied(existing, body)
        written(by, "apply", plural, key, base: meta[:resourceVersion], replaces: changed == existing ? nil : existing)
        return copy(existing) if changed == existing

        commit(plural, key, changed, "MODIFIED")
      end

      # preconditions: { uid:, resourceVersion: }, each checked when given.
      def delete(plural, name, namespace, preconditions = {}, by: nil)
        key = "#{namespace}/#{name}"
        object = get(plural, key) or raise Kubeclient::ResourceNotFoundError.new(404, "#{plural} #{key} not found", nil)
        fail_write!(plural, key, "delete")
        uid = preconditions[:uid]
        raise Kubeclient::HttpError.new(409, "uid precondition failed", nil) if uid && object.dig(:metadata, :uid) != uid

        precondition!(object, preconditions[:resourceVersion], "delete", by)
        written(by, "delete", plural, key, base: preconditions[:resourceVersion], replaces: object, count: false)
        @deletions << { at: @clock.now, plural: plural, key: key, object: object, by: :operator }
        remove(plural, key)
      end

      # Whether the server refuses a write whose resourceVersion precondition no longer holds, as
      # the real one does (on by default; off only to show what the invariants catch without).
      def enforce_preconditions(enabled)
        @preconditions = enabled
      end

      # --- the user's and the cluster's own changes ----------------------------------------

      def create(plural, body)
        meta = body[:metadata]
        commit(plural, "#{meta[:namespace]}/#{meta[:name]}", create_body(body), "ADDED")
      end

      def annotate(plural, key, name, value)
        object = get(plural, key) or return
        annotations = (object.dig(:metadata, :annotations) || {}).merge(name => value)
        commit(plural, key, object.merge(metadata: object[:metadata].merge(annotations: annotations)), "MODIFIED")
      end

      def edit_spec(plural, key, **fields)
        object = get(plural, key) or return
        spec = object[:spec].merge(fields)
        return object if spec == object[:spec]

        metadata = object[:metadata].merge(generation: object.dig(:metadata, :generation) + 1)
        commit(plural, key, object.merge(metadata: metadata, spec: spec), "MODIFIED")
      end

      def user_delete(plural, key)
        object = get(plural, key) or return
        @deletions << { at: @clock.now, plural: plural, key: key, object: object, by: :user }
        remove(plural, key)
      end

      # The process dies just before its `writes`-th write from now (SIGKILL between two writes).
      def crash_before_write(writes)
        @crash_in = writes
      end

      # The next `count` writes fail with `code` (500: server error, 409: conflict).
      def fail_writes(count, code)
        @write_faults.concat([code] * count)
      end

      # --- watch delivery --------------------------------------------------------------------
      # Streams are per watcher: nil is the one stream that feeds whichever replicas lead (as
      # first modelled); with #split_watches each leading replica's informers have their own
      # streams, with their own latency, drops and relists.

      # Each replica that starts leading opens its own watch streams from now on.
      def split_watches
        @notices.delete(nil)
        @split = true
      end

      def split?
        @split == true
      end

      # Replica `watcher` starts its informers: streams from now (what it lists is already in).
      def open_watch(watcher)
        @notices[watcher] = KINDS.keys.to_h { |plural| [plural, []] }
      end

      # Its informers stopped: its streams and pending relists are gone.
      def close_watch(watcher)
        @notices.delete(watcher)
        @relist_at.delete_if { |(w, _), _| w == watcher }
        @stale.delete_if { |(w, _), _| w == watcher }
      end

      def watchers
        @notices.keys
      end

      # The next moment something is due for the informers (a notice or a relist), or nil.
      def next_delivery
        (@notices.values.flat_map(&:values).filter_map { |q| q.first&.first } + @relist_at.values).min
      end

      # Notices and relists due by now for `watcher`, in order:
      # [[plural, :notice, notice] | [plural, :list, [items, rv]]].
      def deliver_due(watcher = nil)
        out = []
        @relist_at.select { |(w, _), at| w == watcher && at <= @clock.now }.each_key do |slot|
          @relist_at.delete(slot)
          plural = slot.last
          out << [plural, :list, @stale.key?(slot) ? stale_list(plural, @stale.delete(slot), watcher) : list(plural)]
        end
        @notices.fetch(watcher, {}).each do |plural, queue|
          out << [plural, :notice, queue.shift.last] while queue.first && queue.first.first <= @clock.now
        end
        out
      end

      # The watch of `plural` ends unseen: notices in flight are lost, and the informer relists
      # after `delay` (410 Gone or a reconnect both end in a list here).
      def drop_watch(plural, delay, watcher = nil)
        queue = @notices.dig(watcher, plural) or return 0
        lost = queue.size
        queue.clear
        @relist_at[[watcher, plural]] = @clock.now + delay
        lost
      end

      def set_latency(seconds)
        @latency = seconds
      end

      # The informer of `plural` relists after `delay`, without losing its watch.
      def relist_in(plural, delay, watcher = nil)
        @relist_at[[watcher, plural]] = [@relist_at[[watcher, plural]], @clock.now + delay].compact.min
      end

      # The watch of `plural` drops, and the relist after `delay` is answered by a replica of the
      # store that lags `lag` writes behind; the watch then resumes from that older
      # resourceVersion, so what changed since arrives again as notices.
      def stale_relist(plural, delay, lag, watcher = nil)
        drop_watch(plural, delay, watcher)
        @stale[[watcher, plural]] = lag
      end

      # For `seconds` from now, each request from a replica waits up to `max` seconds on the way
      # in and again on the way out.
      def slow_down(seconds, max)
        @slow_until = @clock.now + seconds
        @slow_max = max
      end

      # For `seconds` from now, the requests of replica `identity` alone wait up to `max` seconds
      # each way (its node's network, or its connection to one overloaded API server replica):
      # the other replica's requests, the lease's among them, go through.
      def slow_replica(identity, seconds, max)
        @replica_slow[identity] = [@clock.now + seconds, max]
      end

      # Until when some requests may be slow or refused (the server's, or one replica's).
      def slow_until
        ([@slow_until, @stalled_until] + @replica_slow.values.map(&:first) + @lease_faults.values.map(&:last)).max
      end

      # One leg of a request from `identity`: 0 unless the server or that replica is slow now.
      def request_delay(identity = nil)
        delay = @clock.now < @slow_until ? @random.rand * @slow_max : 0.0
        till, max = @replica_slow[identity]
        till && @clock.now < till ? delay + (@random.rand * max) : delay
      end

      # The next `count` writes are applied, but their answers are lost on the way back (a
      # connection reset): the writer sees an error for a write that went through.
      def lose_responses(count)
        @lost_responses = count
      end

      def response_lost?
        return false unless @lost_responses.positive?

        @lost_responses -= 1
        @trace.call("api: the answer to a write is lost")
        true
      end

      # --- the Lease (coordination.k8s.io): optimistic concurrency on resourceVersion ----------

      # Until `till`, the lease requests of replica `identity` are refused with 429 (:refuse: API
      # priority and fairness sheds the leader-election level while other requests go through),
      # or do not return at all (:stall: its election thread is stalled, e.g. starved of the
      # GVL by a long native call, so no HTTP timeout cuts the request short).
      def lease_fault(identity, mode, till)
        @lease_faults[identity] = [mode, till]
        @stalled_until = [@stalled_until, till].max if mode == :stall
      end

      def clear_replica_faults
        @lease_faults.clear
        @replica_slow.clear
        @lost_responses = 0
      end

      # How a lease request of `identity` fares now: [:refuse | :stall | nil, until].
      def lease_fault_for(identity)
        mode, till = @lease_faults[identity]
        mode && @clock.now < till ? [mode, till] : [nil, nil]
      end

      def clock_now
        @clock.now
      end

      def lease_get
        @lease && copy(@lease)
      end

      def lease_create(body)
        raise Kubeclient::HttpError.new(409, "leases already exists", nil) if @lease

        lease_commit(body)
      end

      def lease_update(body)
        raise Kubeclient::HttpError.new(404, "lease not found", nil) unless @lease
        if body.dig(:metadata, :resourceVersion) != @lease.dig(:metadata, :resourceVersion)
          raise Kubeclient::HttpError.new(409, "the object has been modified", nil)
        end

        lease_commit(body)
      end

      def lease_holder
        holder = @lease&.dig(:spec, :holderIdentity)
        holder unless holder.nil? || holder.empty?
      end

      # A restarted operator starts with a list; notices sent to the old one are gone.
      def reset_watches
        @notices.each_value { |queues| queues.each_value(&:clear) }
        @relist_at.clear
      end

      private

      # replaces: the stored version the write changes (nil when it changes nothing); the
      # invariants check it is the one the writer read. Deletes are not counted as writes.
      def written(by, what, plural, key, base:, replaces:, count: true)
        @writes[[plural, key]] << @clock.now if count
        @on_write&.call(by, what, plural, key, base: base, replaces: replaces)
      end

      def precondition!(object, base, what, by)
        return if base.nil? || !@preconditions || object.dig(:metadata, :resourceVersion) == base

        @trace.call("api: #{what} of #{object[:kind]} #{object.dig(:metadata, :name)} by #{by&.identity || 'the operator'} " \
                    "-> 409: based on resourceVersion #{base}, now #{object.dig(:metadata, :resourceVersion)}")
        raise Kubeclient::HttpError.new(409, "the object has been modified; please apply your changes to the " \
                                             "latest version and try again", nil)
      end

      def applied(existing, body)
        meta = body[:metadata]
        spec = (existing[:spec] || {}).merge(body[:spec] || {})
        generation = existing.dig(:metadata, :generation) + (spec == existing[:spec] ? 0 : 1)
        metadata = existing[:metadata].merge(labels: (existing.dig(:metadata, :labels) || {}).merge(meta[:labels] || {}),
                                             ownerReferences: meta[:ownerReferences], generation: generation)
        existing.merge(metadata: metadata, spec: spec)
      end

      def lease_commit(body)
        @rv += 1
        before = lease_holder
        @lease = copy(body.merge(metadata: (body[:metadata] || {}).merge(resourceVersion: @rv.to_s)))
        @trace.call("lease: #{before || 'nobody'} -> #{lease_holder || 'nobody'}") if before != lease_holder
        copy(@lease)
      end

      # The store as it was `lag` writes of this kind ago, and the notices that bring a watch
      # from there to now (the last state of each object that changed, in resourceVersion order).
      def stale_list(plural, lag, watcher)
        history = @snapshots[plural]
        version, objects = history[[history.size - 1 - lag, 0].max] || [@rv, @objects[plural]]
        now = @objects[plural]
        changed = now.reject { |key, o| objects[key].equal?(o) }.values.sort_by { |o| Integer(o.dig(:metadata, :resourceVersion)) }
        changed.each do |o|
          type = objects.key?("#{o.dig(:metadata, :namespace)}/#{o.dig(:metadata, :name)}") ? "MODIFIED" : "ADDED"
          notify(plural, type, o, only: watcher)
        end
        objects.each_key.reject { |key| now.key?(key) }.each do |key|
          notify(plural, "DELETED", objects[key].merge(metadata: objects[key][:metadata].merge(resourceVersion: @rv.to_s)),
                 only: watcher)
        end
        @trace.call("api: #{plural} listed from a replica #{@rv - version} revisions behind (at #{version})")
        [objects.values.map { |o| copy(o) }, version.to_s]
      end

      def snapshot(plural)
        history = @snapshots[plural]
        history << [@rv, @objects[plural].dup]
        history.shift if history.size > SNAPSHOTS
      end

      def fail_write!(plural, key, what)
        if @crash_in && (@crash_in -= 1) <= 0
          @crash_in = nil
          raise Crash, "crashed before #{what} of #{plural} #{key}"
        end
        code = @write_faults.shift or return
        @trace.call("api #{what} #{plural} #{key} -> #{code}")
        @last_write_failure = @clock.now
        raise Kubeclient::HttpError.new(code, code == 409 ? "conflict" : "internal error", nil)
      end

      def create_body(body)
        @uid += 1
        meta = body[:metadata].merge(uid: "uid-#{@uid}", generation: 1)
        { apiVersion: body[:apiVersion], kind: body[:kind], metadata: meta, spec: body[:spec] || {} }
      end

      def commit(plural, key, object, type)
        @rv += 1
        stored = copy(object.merge(metadata: object[:metadata].merge(resourceVersion: @rv.to_s)))
        @objects[plural][key] = stored
        snapshot(plural)
        notify(plural, type, stored)
        copy(stored)
      end

      def remove(plural, key)
        object = @objects[plural].delete(key)
        @rv += 1
        snapshot(plural)
        notify(plural, "DELETED", object.merge(metadata: object[:metadata].merge(resourceVersion: @rv.to_s)))
        collect_garbage(object) if plural == "projects"
      end

      def collect_garbage(owner)
        uid = owner.dig(:metadata, :uid)
        dependents = all("leaves").select do |leaf|
          Array(leaf.dig(:metadata, :ownerReferences)).any? { |r| r[:uid] == uid && r[:controller] }
        end
        dependents.each do |leaf|
          key = "#{leaf.dig(:metadata, :namespace)}/#{leaf.dig(:metadata, :name)}"
          @deletions << { at: @clock.now, plural: "leaves", key: key, object: leaf, by: :gc }
          remove("leaves", key)
        end
      end

      # Each stream of the kind: notices keep their order, each after its own latency.
      def notify(plural, type, object, only: :all)
        @notices.each do |watcher, queues|
          next unless only == :all || only == watcher

          queue = queues[plural]
          at = [queue.last&.first || 0, @clock.now + (@random.rand * @latency)].max
          queue << [at, { type: type, object: copy(object) }]
        end
      end

      def copy(object)
        Marshal.load(Marshal.dump(object))
      end

      # A replica's handle on one kind: the subset of Kube::ResourceApi the controllers use.
      # Writes pass the same WriteFence as ResourceApi's; when the server is slow, a request
      # waits on the way in (it reaches the store later) and on the way out.
      class Resource
        attr_reader :plural

        # timeout: the HTTP timeout of the operator's client (kubeclient's default: Net::HTTP's 60 s).
        # leading: whether the replica counts itself leader now (told to the invariants with each write).
        def initialize(server:, plural:, identity: nil, fence: nil, timeout: 60.0, leading: -> { true })
          @server = server
          @plural = plural
          @identity = identity
          @fence = fence
          @timeout = timeout
          @leading = leading
        end

        def list(namespace: nil)
          items, rv = request(:list) { @server.list(@plural) }
          [namespace ? items.select { |o| o.dig(:metadata, :namespace) == namespace } : items, rv]
        end

        def get(name, namespace)
          request(:get) { @server.get(@plural, "#{namespace}/#{name}")&.then { |o| Marshal.load(Marshal.dump(o)) } }
        end

        def apply_status(name:, namespace:, status:, resource_version: nil, force: true) # rubocop:disable Lint/UnusedMethodArgument
          request(:apply_status) do |sender|
            @server.apply_status(@plural, name, namespace, status, base: resource_version, by: sender)
          end
        end

        def apply(body, force: true) # rubocop:disable Lint/UnusedMethodArgument
          request(:apply) { |sender| @server.apply(@plural, body, by: sender) }
        end

        def delete(name, namespace, uid: nil, resource_version: nil)
          preconditions = { uid: uid, resourceVersion: resource_version }.compact
          request(:delete) { |sender| @server.delete(@plural, name, namespace, preconditions, by: sender) }
        end

        private

        # As LeaseResource's, with the operator's own timeout: a request whose way in outlasts it
        # is never applied; one applied whose answer is later (or lost) still fails for its sender.
        def request(verb)
          sender = Sender.new(@identity, @leading.call)
          @fence&.check!(verb, @plural)
          inbound = @server.request_delay(@identity)
          timed_out! if inbound >= @timeout && Wait.for(@timeout)
          Wait.for(inbound)
          result = yield sender
          connection_reset! if Operator::Kube::WriteFence::WRITES.include?(verb) && @server.response_lost?
          outbound = @server.request_delay(@identity)
          timed_out! if inbound + outbound >= @timeout && Wait.for(@timeout - inbound)
          Wait.for(outbound)
          result
        end

        def timed_out!
          raise Kubeclient::HttpError.new(nil, "Timed out reading data from server", nil)
        end

        def connection_reset!
          raise Kubeclient::HttpError.new(nil, "Connection reset by peer", nil)
        end
      end

      # A replica's Lease client, with the HTTP timeout LeaderElection.http_timeouts gives it: a
      # request whose way in takes longer is never applied; one applied whose answer comes later
      # still times out, and its sender does not know it went through.
      class LeaseResource
        def initialize(server:, timeout:, identity: nil)
          @server = server
          @timeout = timeout
          @identity = identity
        end

        def get(_name, _namespace)
          request { @server.lease_get }
        end

        def create(body)
          request { @server.lease_create(body) }
        end

        def update(body)
          request { @server.lease_update(body) }
        end

        private

        def request
          scripted_fault
          inbound = @server.request_delay(@identity)
          timed_out! if inbound >= @timeout && Wait.for(@timeout)
          Wait.for(inbound)
          result = yield
          outbound = @server.request_delay(@identity)
          timed_out! if inbound + outbound >= @timeout && Wait.for(@timeout - inbound)
          Wait.for(outbound)
          result
        end

        def timed_out!
          raise Kubeclient::HttpError.new(nil, "Timed out reading data from server", nil)
        end

        def scripted_fault
          mode, till = @server.lease_fault_for(@identity)
          Wait.for(till - @server.clock_now) if mode == :stall
          raise Kubeclient::HttpError.new(429, "Too many requests, please try again later", nil) if mode == :refuse
        end
      end

      # Events are recorded, never read back by the operator; with a fence, as ResourceApi's.
      class EventSink
        attr_reader :count

        def initialize(fence: nil)
          @count = 0
          @fence = fence
        end

        def create(_body)
          @fence&.check!(:create, "events")
          @count += 1
        end
      end
    end
  end
end
