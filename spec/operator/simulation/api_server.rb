# frozen_string_literal: true

require "kubeclient"

module StatsTracker
  module Simulation
    # Not a StandardError, so no rescue in the operator can swallow it: the process is gone.
    class Crash < Exception; end # rubocop:disable Lint/InheritException

    # An in-memory API server: objects with uids, generations and resourceVersions, server-side
    # apply of the fields the operator owns, owner-reference garbage collection, and one watch
    # stream per kind whose notices arrive after a simulated latency (or never, when a watch is
    # dropped: the informer then relists). Writes can be made to fail.
    class ApiServer
      GROUP_VERSION = "stats-tracker.dev/v1alpha1"
      KINDS = { "projects" => "Project", "leaves" => "Leaf" }.freeze

      attr_reader :writes, :deletions, :last_write_failure, :rv

      def initialize(clock:, random:, trace:)
        @clock = clock
        @random = random
        @trace = trace
        @objects = KINDS.keys.to_h { |plural| [plural, {}] }
        @notices = KINDS.keys.to_h { |plural| [plural, []] }
        @relist_at = {}
        @rv = 0
        @uid = 0
        @write_faults = []
        @writes = Hash.new { |h, k| h[k] = [] }
        @deletions = []
        @latency = 0.5
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

      def apply_status(plural, name, namespace, status)
        key = "#{namespace}/#{name}"
        object = get(plural, key) or raise Kubeclient::ResourceNotFoundError.new(404, "#{plural} #{key} not found", nil)
        fail_write!(plural, key, "status")
        @writes[[plural, key]] << @clock.now
        commit(plural, key, object.merge(status: copy(status)), "MODIFIED")
      end

      def apply(plural, body)
        meta = body[:metadata]
        key = "#{meta[:namespace]}/#{meta[:name]}"
        fail_write!(plural, key, "apply")
        @writes[[plural, key]] << @clock.now
        existing = get(plural, key)
        return commit(plural, key, create_body(body), "ADDED") unless existing

        spec = (existing[:spec] || {}).merge(body[:spec] || {})
        generation = existing.dig(:metadata, :generation) + (spec == existing[:spec] ? 0 : 1)
        metadata = existing[:metadata].merge(labels: (existing.dig(:metadata, :labels) || {}).merge(meta[:labels] || {}),
                                             ownerReferences: meta[:ownerReferences], generation: generation)
        commit(plural, key, existing.merge(metadata: metadata, spec: spec), "MODIFIED")
      end

      def delete(plural, name, namespace, uid)
        key = "#{namespace}/#{name}"
        object = get(plural, key) or raise Kubeclient::ResourceNotFoundError.new(404, "#{plural} #{key} not found", nil)
        fail_write!(plural, key, "delete")
        raise Kubeclient::HttpError.new(409, "uid precondition failed", nil) if uid && object.dig(:metadata, :uid) != uid

        @deletions << { at: @clock.now, plural: plural, key: key, object: object, by: :operator }
        remove(plural, key)
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

      # The next moment something is due for the informers (a notice or a relist), or nil.
      def next_delivery
        (@notices.values.filter_map { |q| q.first&.first } + @relist_at.values).min
      end

      # Notices and relists due by now, in order: [[plural, :notice, notice] | [plural, :list, [items, rv]]].
      def deliver_due
        out = []
        @relist_at.select { |_, at| at <= @clock.now }.each_key do |plural|
          @relist_at.delete(plural)
          out << [plural, :list, list(plural)]
        end
        @notices.each do |plural, queue|
          out << [plural, :notice, queue.shift.last] while queue.first && queue.first.first <= @clock.now
        end
        out
      end

      # The watch of `plural` ends unseen: notices in flight are lost, and the informer relists
      # after `delay` (410 Gone or a reconnect both end in a list here).
      def drop_watch(plural, delay)
        lost = @notices[plural].size
        @notices[plural].clear
        @relist_at[plural] = @clock.now + delay
        lost
      end

      def set_latency(seconds)
        @latency = seconds
      end

      # A restarted operator starts with a list; notices sent to the old one are gone.
      def reset_watches
        @notices.each_value(&:clear)
        @relist_at.clear
      end

      private

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
        notify(plural, type, stored)
        copy(stored)
      end

      def remove(plural, key)
        object = @objects[plural].delete(key)
        @rv += 1
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

      def notify(plural, type, object)
        queue = @notices[plural]
        # One watch stream per kind: notices keep their order, each after the latency.
        at = [queue.last&.first || 0, @clock.now + (@random.rand * @latency)].max
        queue << [at, { type: type, object: copy(object) }]
      end

      def copy(object)
        Marshal.load(Marshal.dump(object))
      end

      # The operator's handle on one kind: the subset of Kube::ResourceApi the controllers use.
      class Resource
        attr_reader :plural

        def initialize(server:, plural:)
          @server = server
          @plural = plural
        end

        def list(namespace: nil)
          items, rv = @server.list(@plural)
          [namespace ? items.select { |o| o.dig(:metadata, :namespace) == namespace } : items, rv]
        end

        def apply_status(name:, namespace:, status:, force: true) # rubocop:disable Lint/UnusedMethodArgument
          @server.apply_status(@plural, name, namespace, status)
        end

        def apply(body, force: true) # rubocop:disable Lint/UnusedMethodArgument
          @server.apply(@plural, body)
        end

        def delete(name, namespace, uid: nil)
          @server.delete(@plural, name, namespace, uid)
        end
      end

      # Events are recorded, never read back by the operator.
      class EventSink
        attr_reader :count

        def initialize
          @count = 0
        end

        def create(_body)
          @count += 1
        end
      end
    end
  end
end
