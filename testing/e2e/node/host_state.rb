# frozen_string_literal: true

require "fileutils"
require "json"
require "open3"
require "shellwords"

module StatsTracker
  module E2E
    module Node
      # What a kubelet node changes on the host, recorded before it starts and restored after it
      # stops: sysctls the kubelet and kube-proxy set, packet-filter chains they add, mounts,
      # network namespaces, cgroups and directories they create. The snapshot is a JSON file so
      # `bin/e2e node down` in another process can restore what `up` recorded.
      class HostState
        SYSCTLS = %w[
          vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
          kernel.keys.root_maxbytes net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
          net.ipv4.conf.all.forwarding net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
          net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
          net.netfilter.nf_conntrack_tcp_timeout_close_wait net.netfilter.nf_conntrack_tcp_be_liberal
          net.ipv6.conf.all.forwarding
        ].freeze
        IPTABLES = %w[iptables ip6tables].freeze
        TABLES = %w[filter nat mangle].freeze
        # Chains the kubelet, kube-proxy and the CNI plugins name; nothing else on the host uses them.
        OWN_CHAIN = /\A(KUBE-|CNI-)/
        HOST_DIRS = %w[/var/lib/kubelet /var/lib/cni /run/containerd /run/netns /etc/cni /opt/cni /var/log/pods
                       /var/log/containers /run/flannel].freeze

        attr_reader :path

        def initialize(path:)
          @path = path
        end

        def record(cgroup_root:)
          snapshot = { "sysctls" => read_sysctls, "iptables" => iptables_dump, "mounts" => mount_points,
                       "dirs" => HOST_DIRS.select { |d| File.exist?(d) }, "cgroup_root" => cgroup_root,
                       "cgroups" => cgroup_hierarchies.select { |h| File.directory?(File.join(h, cgroup_root)) },
                       "netns" => netns_names, "nft_tables" => nft_tables }
          FileUtils.mkdir_p(File.dirname(path))
          File.write(path, JSON.pretty_generate(snapshot))
          snapshot
        end

        def recorded? = File.exist?(path)

        def snapshot = JSON.parse(File.read(path))

        # Each step runs even if an earlier one failed; what could not be restored is returned.
        def restore(own_paths:)
          snap = snapshot
          problems = []
          problems.concat(unmount_new(snap["mounts"], own_paths))
          problems.concat(remove_netns(snap["netns"]))
          problems.concat(remove_cgroups(snap["cgroup_root"], snap["cgroups"]))
          problems.concat(remove_chains)
          problems.concat(remove_nft_tables(snap["nft_tables"]))
          problems.concat(restore_sysctls(snap["sysctls"]))
          problems.concat(remove_dirs(snap["dirs"]))
          problems
        end

        # Differences between the host now and the snapshot, for a check that teardown restored it.
        def differences
          snap = snapshot
          diffs = []
          read_sysctls.each { |k, v| diffs << "sysctl #{k}=#{v} (was #{snap["sysctls"][k]})" if snap["sysctls"][k] != v }
          diffs << "iptables rules differ" unless iptables_dump == snap["iptables"]
          (mount_points - snap["mounts"]).each { |m| diffs << "mount #{m}" }
          (netns_names - snap["netns"]).each { |n| diffs << "netns #{n}" }
          (nft_tables - snap["nft_tables"]).each { |t| diffs << "nft table #{t}" }
          cgroup_hierarchies.each do |h|
            dir = File.join(h, snap["cgroup_root"])
            diffs << "cgroup #{dir}" if File.directory?(dir) && !snap["cgroups"].include?(h)
          end
          (HOST_DIRS.select { |d| File.exist?(d) } - snap["dirs"]).each { |d| diffs << "directory #{d}" }
          diffs
        end

        private

        def read_sysctls
          SYSCTLS.each_with_object({}) do |key, acc|
            file = "/proc/sys/#{key.tr(".", "/")}"
            acc[key] = File.read(file).strip if File.readable?(file)
          end
        end

        def restore_sysctls(saved)
          saved.filter_map do |key, value|
            file = "/proc/sys/#{key.tr(".", "/")}"
            next unless File.exist?(file) && File.read(file).strip != value

            File.write(file, value)
            nil
          rescue SystemCallError => e
            "sysctl #{key}: #{e.message}"
          end
        end

        # Rule order and counters aside, the dump is what the chains contain.
        def iptables_dump
          IPTABLES.to_h do |tool|
            out, _err, status = Open3.capture3("#{tool}-save")
            [tool, status.success? ? out.lines.reject { |l| l.start_with?("#") }.map { |l| l.sub(/\[\d+:\d+\]/, "") }.join : ""]
          end
        end

        def remove_chains
          problems = []
          IPTABLES.each do |tool|
            next unless system("command -v #{tool} >/dev/null 2>&1")

            TABLES.each do |table|
              rules, _e, ok = Open3.capture3(tool, "-w", "-t", table, "-S")
              next unless ok.success?

              rules.lines.map(&:strip).each do |rule|
                next unless rule.start_with?("-A ") && rule.split[1] !~ OWN_CHAIN && rule.match?(/-j (KUBE-|CNI-)/)

                args = Shellwords.split(rule).drop(1)
                _o, err, st = Open3.capture3(tool, "-w", "-t", table, "-D", *args)
                problems << "#{tool} -t #{table} -D #{args.join(" ")}: #{err.strip}" unless st.success?
              end
              chains = rules.lines.filter_map { |l| l.split[1] if l.start_with?("-N ") && l.split[1] =~ OWN_CHAIN }
              chains.each { |c| Open3.capture3(tool, "-w", "-t", table, "-F", c) }
              chains.each do |c|
                _o, err, st = Open3.capture3(tool, "-w", "-t", table, "-X", c)
                problems << "#{tool} -t #{table} -X #{c}: #{err.strip}" unless st.success?
              end
            end
          end
          problems
        end

        def nft_tables
          return [] unless system("command -v nft >/dev/null 2>&1")

          out, _e, st = Open3.capture3("nft", "list", "tables")
          st.success? ? out.lines.map(&:strip).reject(&:empty?) : []
        end

        # Tables that appeared since the snapshot: kube-proxy's own, and the empty filter/nat/mangle
        # tables iptables-nft creates on first use. A table holding any rule is left alone: someone
        # else uses it now.
        def remove_nft_tables(before)
          (nft_tables - before).filter_map do |t|
            listing, = Open3.capture3("nft", "list", *t.split)
            next if !t.include?("kube") && listing.lines.any? { |l| l.strip.match?(/\A(?!type |policy |chain |table |\}|$)/) }

            _o, err, st = Open3.capture3("nft", "delete", *t.split)
            "nft #{t}: #{err.strip}" unless st.success?
          end
        end

        def mount_points
          File.readlines("/proc/self/mountinfo").map { |l| l.split[4] }
        end

        # Deepest first; only mounts made since the snapshot under the node's own paths, /run/netns
        # and the kubelet's fixed directories.
        def unmount_new(before, own_paths)
          prefixes = own_paths + %w[/run/netns/ /var/lib/kubelet /run/containerd]
          fresh = (mount_points - before).select { |m| prefixes.any? { |p| m.start_with?(p) } }
          fresh.sort_by { |m| -m.length }.uniq.filter_map do |m|
            _o, err, st = Open3.capture3("umount", "-l", m)
            "umount #{m}: #{err.strip}" unless st.success?
          end
        end

        def netns_names
          Dir.exist?("/run/netns") ? Dir.children("/run/netns").sort : []
        end

        def remove_netns(before)
          (netns_names - before).select { |n| n.start_with?("cni-") }.filter_map do |n|
            _o, err, st = Open3.capture3("ip", "netns", "delete", n)
            "netns #{n}: #{err.strip}" unless st.success?
          end
        end

        def cgroup_hierarchies
          Dir.glob("/sys/fs/cgroup/*").select { |d| File.directory?(d) && !File.symlink?(d) }
        end

        # Children before parents; a cgroup with a live process cannot go and is reported.
        def remove_cgroups(root, existed)
          cgroup_hierarchies.reject { |h| existed.include?(h) }.flat_map do |h|
            top = File.join(h, root)
            next [] unless File.directory?(top)

            Dir.glob(File.join(top, "**", "")).sort_by { |d| -d.length }.filter_map do |dir|
              Dir.rmdir(dir)
              nil
            rescue SystemCallError => e
              "cgroup #{dir}: #{e.message}"
            end
          end
        end

        def remove_dirs(before)
          (HOST_DIRS.select { |d| File.exist?(d) } - before).filter_map do |d|
            FileUtils.rm_rf(d)
            nil
          rescue SystemCallError => e
            "#{d}: #{e.message}"
          end
        end
      end
    end
  end
end
