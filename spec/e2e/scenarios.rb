# frozen_string_literal: true

require "net/http"
require "time"

module StatsTracker
  module E2E
    # The checks bin/e2e makes once the operator runs on the node (mixed into Run, which provides
    # @kubectl, @node, @packages and publish). Each returns a short note of what it measured or
    # raises with what it saw instead.
    module Scenarios
      NS = "stats-tracker-system"
      SAMPLES = "stats-tracker-samples"

      # --- set-up checks that look at the workload --------------------------------------------

      def operator_pods_as_in_production
        pods = nil
        @kubectl.wait("2 operator Pods Running and Ready", timeout: 300, interval: 2) do
          pods = @kubectl.running_ready_operator_pods
          pods.size == 2
        end
        pods.each do |pod|
          image = pod.dig("spec", "containers", 0, "image")
          raise "#{name_of(pod)} runs #{image}, not the published #{@release["image"]}" unless image == @release["image"]

          facts = exec_ruby(pod, <<~RUBY)
            sa = "/var/run/secrets/kubernetes.io/serviceaccount"
            status = File.read("/proc/1/status")
            writable = begin; File.write("/probe", "x"); true; rescue SystemCallError; false; end
            puts [Process.euid, status[/^CapEff:\\s+(\\h+)/, 1], status[/^Seccomp:\\s+(\\d)/, 1], writable,
                  File.exist?(sa + "/token"), ENV.key?("KUBECONFIG"), ENV["KUBERNETES_SERVICE_HOST"]].join(" ")
          RUBY
          uid, cap_eff, seccomp, writable, token, kubeconfig, service_host = facts.split
          expected = %w[65532 0000000000000000 2 false true false]
          actual = [uid, cap_eff, seccomp, writable, token, kubeconfig]
          raise "#{name_of(pod)}: uid/CapEff/Seccomp/root-writable/token/KUBECONFIG = #{actual} (want #{expected})" unless actual == expected

          @service_host = service_host
        end
        # Only the API server can have told the holder it leads: proof the in-cluster identity works.
        holder = @kubectl.lease_holder
        raise "Lease held by #{holder.inspect}, none of #{pods.map { |p| name_of(p) }}" unless pods.any? { |p| name_of(p) == holder }

        "#{pods.size} Pods as uid 65532, no capabilities, seccomp filter, read-only root, API via #{@service_host}:443 " \
          "(kube-proxy) with the service-account token"
      end

      def sample_leaves_ready
        leaves = nil
        @kubectl.wait("#{@packages.size} Leafs Ready", timeout: 600, interval: 2,
                                                       diagnostics: -> { operator_logs_tail }) do
          leaves = @kubectl.leaves
          leaves.size == @packages.size && leaves.all? { |l| @kubectl.ready?(l) }
        end
        wrong = leaves.reject { |l| l.dig("status", "downloadCount") == @packages[l.dig("spec", "package")] }
        raise "counts differ from the pages served: #{wrong.map { |l| l.dig("metadata", "name") }.first(5)}" unless wrong.empty?

        "#{leaves.size} Leafs Ready with the served counts"
      end

      # --- scenarios ----------------------------------------------------------------------------

      def module_cache_after_restart
        pod = @kubectl.running_ready_operator_pods.first or raise "no running operator Pod"
        before = pod.dig("status", "containerStatuses", 0, "restartCount")
        exec_ruby(pod, 'Process.kill("TERM", 1)')
        @kubectl.wait("container of #{name_of(pod)} restarted", timeout: 180, interval: 2) do
          now = @kubectl.json_or_nil("pod", name_of(pod), "-n", NS)
          now && now.dig("status", "containerStatuses", 0, "restartCount").to_i > before && @kubectl.ready?(now)
        end
        first = parser_loaded(@kubectl.run!("logs", "-n", NS, "--previous", name_of(pod)))
        second = parser_loaded(@kubectl.run!("logs", "-n", NS, name_of(pod)))
        raise "after the restart: #{second.to_json} (before: #{first.to_json})" unless second && second["from_cache"] == true

        "restarted container loaded the parser from #{second["cache_dir"]} (from_cache=true)"
      end

      def rolling_update
        before = leaf_snapshot
        entries = before.values.sum { |v| v[:history].size }
        raise "no Leaf has a status.history to keep" if entries.zero?

        project_not_ready = []
        watcher = Thread.new do
          until Thread.current[:stop]
            project_not_ready << Time.now unless @kubectl.ready?(@kubectl.project)
            sleep 1
          end
        end
        release = publish(revision: "e2e-2")
        raise "the new release has the same image digest" if release["image"] == @release["image"]

        @kubectl.request_reconcile("ocirepository", "stats-tracker")
        @kubectl.wait("Deployment rolled out to #{release["image"]}", timeout: 600, interval: 2) do
          pods = @kubectl.running_ready_operator_pods
          pods.size == 2 && pods.all? { |p| p.dig("spec", "containers", 0, "image") == release["image"] } &&
            @kubectl.operator_pods.size == 2
        end
        # Flux is done only when the Kustomization's health check of this revision has passed.
        kustomization_settled("stats-tracker-operator", digest: release["manifests_digest"])
        @release = release
        watcher[:stop] = true
        watcher.join
        after = leaf_snapshot
        raise "Leafs changed: #{before.keys - after.keys} gone, uids #{before.map { |k, v| v[:uid] == after[k]&.fetch(:uid) }.tally}" unless
          before.all? { |k, v| after[k] && after[k][:uid] == v[:uid] }

        lost = before.reject { |k, v| after[k][:history].first(v[:history].size) == v[:history] }
        raise "history lost for #{lost.keys.first(5)}" unless lost.empty?
        raise "Project not Ready during the rollout at #{project_not_ready.first(3)}" unless project_not_ready.empty?

        "#{after.size} Leafs kept with their #{entries} history entries; Project Ready throughout"
      end

      def failover
        leader = @kubectl.lease_holder or raise "no Lease holder"
        pods = @kubectl.running_ready_operator_pods
        standby = pods.map { |p| name_of(p) }.find { |n| n != leader } or raise "no standby among #{pods.map { |p| name_of(p) }}"
        ips = pods.to_h { |p| [name_of(p), p.dig("status", "podIP")] }
        both = []
        sampler = Thread.new do
          until Thread.current[:stop]
            # The replacement Pod counts too once it runs: it may be the one that takes over.
            begin
              @kubectl.running_ready_operator_pods.each { |p| ips[name_of(p)] ||= p.dig("status", "podIP") }
            rescue CommandError
              nil # a failed listing only skips this look for new Pods
            end
            leaders = ips.select { |_n, ip| leader_metric(ip) == 1 }.keys
            both << leaders if leaders.size > 1
            sleep 0.5
          end
        end
        deleted_at = monotonic
        @kubectl.run!("delete", "pod", "-n", NS, leader, "--wait=false")
        # The leader gives the Lease up as it stops, so the Deployment's replacement Pod, started at
        # once, can win the race with the standby: either is a failover, as long as it is not the
        # deleted leader and no two lead at once.
        successor = nil
        @kubectl.wait("a replica other than #{leader} holds the Lease", timeout: 120, interval: 0.5) do
          holder = @kubectl.lease_holder
          successor = holder if holder && !holder.empty? && holder != leader
        end
        took = monotonic - deleted_at
        # A requestedAt token, not a spec edit: the Project is Flux's, and kustomize-controller puts
        # an edited spec back whenever it applies the samples (the operator's rollout sets that
        # off), after which the edited generation is never the one observed.
        token = @kubectl.request_reconcile("project", "fluxcd", namespace: SAMPLES)
        @kubectl.wait("Project reconciled by the new leader (requestedAt #{token} handled)", timeout: 120, interval: 0.5) do
          @kubectl.project.dig("status", "lastHandledReconcileAt") == token
        end
        handled = monotonic - deleted_at - took
        sampler[:stop] = true
        sampler.join
        raise "two replicas reported leader=1 at once: #{both.first(3)}" unless both.empty?

        role = successor == standby ? "the standby" : "the replacement Pod, not the standby #{standby}"
        format("%<to>s (%<role>s) took the Lease %<s>.1f s after the leader's Pod was deleted, and handled a " \
               "requestedAt %<h>.1f s after that; never two leaders", to: successor, role: role, s: took, h: handled)
      end

      def flux_reverts_drift
        # A reconcile still waiting on the Deployment's health would hold the requestedAt back.
        kustomization_settled("stats-tracker-operator")
        @kubectl.run!("delete", "deployment", "-n", NS, "stats-tracker-operator", "--wait=true")
        stamp = @kubectl.request_reconcile("kustomization", "stats-tracker-operator")
        @kubectl.wait("Deployment restored and requestedAt handled", timeout: 300, interval: 1) do
          k = @kubectl.json_or_nil("kustomization", "stats-tracker-operator", "-n", "flux-system")
          k&.dig("status", "lastHandledReconcileAt") == stamp && @kubectl.json_or_nil("deployment", "stats-tracker-operator", "-n", NS)
        end
        @kubectl.run!("scale", "deployment", "-n", NS, "stats-tracker-operator", "--replicas=1")
        stamp = @kubectl.request_reconcile("kustomization", "stats-tracker-operator")
        @kubectl.wait("hand edit reverted", timeout: 300, interval: 1) do
          k = @kubectl.json_or_nil("kustomization", "stats-tracker-operator", "-n", "flux-system")
          k&.dig("status", "lastHandledReconcileAt") == stamp &&
            @kubectl.json("deployment", "stats-tracker-operator", "-n", NS).dig("spec", "replicas") == 2
        end
        @kubectl.wait("2 operator Pods Ready again", timeout: 300, interval: 2) { @kubectl.running_ready_operator_pods.size == 2 }
        "deleted Deployment recreated and replicas 1 -> 2 reverted, each on requestedAt #{stamp}"
      end

      def resources
        notes = []
        @kubectl.running_ready_operator_pods.each do |pod|
          container = pod.dig("spec", "containers", 0)
          env = container["env"].to_h { |e| [e["name"], e["value"]] }
          loaded = parser_loaded(@kubectl.run!("logs", "-n", NS, name_of(pod))) || {}
          unless env["STATS_TRACKER_POOL_SLOTS"] && env["STATS_TRACKER_POOL_SLOTS"] == env["CONCURRENCY"] &&
                 loaded["pool_slots"].to_s == env["CONCURRENCY"]
            raise "STATS_TRACKER_POOL_SLOTS=#{env["STATS_TRACKER_POOL_SLOTS"].inspect}, CONCURRENCY=#{env["CONCURRENCY"].inspect}, " \
                  "pool slots in use #{loaded["pool_slots"].inspect}"
          end
          limit = memory_bytes(container.dig("resources", "limits", "memory"))
          peak = peak_rss(pod)
          raise "#{name_of(pod)} peak RSS #{peak} > limit #{limit}" unless peak < limit

          notes << format("%<pod>s peak RSS %<mib>.0f MiB of %<lim>.0f MiB", pod: name_of(pod), mib: peak / 1_048_576.0,
                                                                             lim: limit / 1_048_576.0)
        end
        oom = @kubectl.operator_pods.select do |p|
          p.dig("status", "containerStatuses", 0, "lastState", "terminated", "reason") == "OOMKilled"
        end
        raise "OOMKilled: #{oom.map { |p| name_of(p) }}" unless oom.empty?

        notes.join("; ")
      end

      def probes_and_metrics
        pod = @kubectl.running_ready_operator_pods.first or raise "no Ready operator Pod"
        ip = pod.dig("status", "podIP")
        %w[/healthz /readyz].each do |path|
          code = Net::HTTP.get_response(URI("http://#{ip}:8080#{path}")).code
          raise "#{path} on #{ip} answered #{code}" unless code == "200"
        end
        metrics = Net::HTTP.get(URI("http://#{ip}:8080/metrics"))
        raise "no stats_tracker_ metrics at #{ip}" unless metrics.include?("stats_tracker_reconcile_total")

        @kubectl.run!("wait", "--for=condition=Ready", "--timeout=120s", "-n", NS, "pod", name_of(pod))
        @kubectl.run!("wait", "--for=condition=Ready", "--timeout=120s", "-n", SAMPLES, "project/fluxcd")
        @kubectl.run!("wait", "--for=condition=Ready", "--timeout=120s", "-n", SAMPLES, "leaves", "--all")
        "probes 200 and #{metrics.lines.count { |l| l.start_with?("stats_tracker_") }} stats_tracker_ samples from #{ip}:8080"
      end

      # --- helpers ------------------------------------------------------------------------------

      def kustomization_settled(name, digest: nil)
        @kubectl.wait("Kustomization #{name} Ready and idle#{digest ? " at #{digest}" : ""}", timeout: 600, interval: 1) do
          k = @kubectl.json_or_nil("kustomization", name, "-n", "flux-system")
          k && @kubectl.ready?(k) && @kubectl.condition(k, "Reconciling").nil? &&
            k.dig("status", "observedGeneration") == k.dig("metadata", "generation") &&
            (digest.nil? || k.dig("status", "lastAppliedRevision").to_s.end_with?(digest))
        end
      end

      def name_of(object) = object.dig("metadata", "name")

      def exec_ruby(pod, script)
        @kubectl.run!("exec", "-n", NS, name_of(pod), "-c", "operator", "--", "ruby", "-e", script)
      end

      def parser_loaded(log)
        log.lines.filter_map { |l| JSON.parse(l) rescue nil }.find { |r| r["msg"] == "parser loaded" } # rubocop:disable Style/RescueModifier
      end

      def operator_logs_tail
        @kubectl.operator_pods.map do |p|
          out, = @node.kubectl("logs", "-n", NS, name_of(p), "--tail=15")
          "#{name_of(p)}:\n#{out}"
        end.join("\n")
      end

      def leaf_snapshot
        @kubectl.leaves.to_h do |l|
          [l.dig("metadata", "name"), { uid: l.dig("metadata", "uid"), history: Array(l.dig("status", "history")) }]
        end
      end

      # Short timeouts: the deleted leader's address goes away under the sampler, and Net::HTTP's
      # default minute-long connect timeout would leave every replica unsampled meanwhile (and
      # hold the check's end back by as much).
      def leader_metric(ip)
        body = Net::HTTP.start(ip, 8080, open_timeout: 1, read_timeout: 2) { |http| http.get("/metrics").body }
        body[/^stats_tracker_leader(?:\{[^}]*\})? (\d+)/, 1]&.to_i
      rescue SystemCallError, IOError, Net::OpenTimeout, Net::ReadTimeout
        nil
      end

      def memory_bytes(quantity)
        match = quantity.to_s.match(/\A(\d+)(Ki|Mi|Gi)?\z/) or raise "unreadable memory limit #{quantity.inspect}"
        number, unit = match.captures
        Integer(number) * { nil => 1, "Ki" => 1024, "Mi" => 1024**2, "Gi" => 1024**3 }.fetch(unit)
      end

      # The container's main process seen from the host: its high-water mark of resident memory.
      def peak_rss(pod)
        id = pod.dig("status", "containerStatuses", 0, "containerID").to_s.delete_prefix("containerd://")
        out = ctr("tasks", "ls")
        pid = out.lines.map(&:split).find { |task, _pid, _status| task == id }&.at(1) or raise "no task #{id} in containerd"
        kib = File.read("/proc/#{pid}/status")[/^VmHWM:\s+(\d+) kB/, 1] or raise "no VmHWM for pid #{pid}"
        Integer(kib) * 1024
      end

      def ctr(*args)
        socket = File.join(@node.dir, "containerd", "containerd.sock")
        out, err, status = Open3.capture3("ctr", "--address", socket, "--namespace", "k8s.io", *args)
        raise "ctr #{args.join(" ")}: #{err}" unless status.success?

        out
      end
    end
  end
end
