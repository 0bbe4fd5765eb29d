# frozen_string_literal: true

# Where the operator's memory goes: N standalone Leafs, the real Runtime run in this process
# against a real kube-apiserver and the page server, until every Leaf has been read once and
# rewritten; then one census:
#
# - RSS split into anonymous and file-backed (/proc/self/status);
# - the informer caches: objects, and bytes reachable from them (ObjectSpace.memsize_of over
#   every distinct Hash/Array/String), per Leaf; how much of that is metadata.managedFields;
# - the Ruby heap (GC.stat: live slots, pages) and ObjectSpace.memsize_of_all;
# - glibc malloc (mallinfo2 via Fiddle, when glibc provides it): bytes in use, free but kept
#   in the arenas, mmapped; and the number of arenas (malloc_info);
# - the wasmtime pool: slots and the address space it reserves vs what of it is resident.
#
#   LEAFS=1000 ruby bench/memory_census.rb
#   CENSUS_OPERATOR_LIB=/path/to/other/operator/lib ...   measures another checkout's operator code
#   CENSUS_RELISTS=5 ...   then forces that many relists of the Leafs and takes the census again,
#                          printing what grew (RSS, Ruby heap, malloc, object counts)
#   CENSUS_TRACE=1 ...     records where every object is allocated (slow), and prints the
#                          allocation sites whose live Hashes, Arrays and Strings grew across the relists
#
# The census process also holds the page server and the harness, so its RSS is above a lone
# operator's; the cache and heap figures are the operator's own.

operator_lib = ENV.fetch("CENSUS_OPERATOR_LIB", File.expand_path("../operator/lib", __dir__))
$LOAD_PATH.unshift(operator_lib, File.expand_path("../lib", __dir__))
require "objspace"
require "fiddle"
require "json"
require "stringio"
ENV["STATS_TRACKER_POOL_SLOTS"] ||= "4" # as the Deployment sets it
require "stats_tracker"
require "stats_tracker/operator"
require_relative "lib/bench_support"
require_relative "../testing/kube_cluster"
require_relative "../testing/page_server"
require_relative "../spec/operator/support/watch_control"

module Bench
  # glibc's allocator statistics from malloc_info(3) (Fiddle cannot take mallinfo2's struct
  # returned by value): arenas, bytes the arenas hold from the system, how much of that is
  # free but kept, and mmapped chunks. nil where the C library lacks malloc_info.
  module Malloc
    module_function

    def info
      xml = malloc_info_xml
      return nil unless xml

      global = xml[%r{</heap>(?!.*</heap>)(.*)</malloc>}m, 1] || xml
      total = ->(type) { global[/<total type="#{type}" count="\d+" size="(\d+)"/, 1].to_i }
      current = global[/<system type="current" size="(\d+)"/, 1].to_i
      free = total.call("fast") + total.call("rest")
      { arenas: xml.scan(/<heap nr="\d+">/).size, arena_system_mib: mib(current), arena_free_mib: mib(free),
        arena_in_use_mib: mib(current - free), mmapped_mib: mib(total.call("mmap")) }
    end

    def mib(bytes)
      (bytes / 1_048_576.0).round(1)
    end

    def malloc_info_xml
      libc = Fiddle.dlopen(nil)
      open_memstream = Fiddle::Function.new(libc["open_memstream"], [Fiddle::TYPE_VOIDP, Fiddle::TYPE_VOIDP], Fiddle::TYPE_VOIDP)
      malloc_info = Fiddle::Function.new(libc["malloc_info"], [Fiddle::TYPE_INT, Fiddle::TYPE_VOIDP], Fiddle::TYPE_INT)
      fclose = Fiddle::Function.new(libc["fclose"], [Fiddle::TYPE_VOIDP], Fiddle::TYPE_INT)
      buf = Fiddle::Pointer.malloc(Fiddle::SIZEOF_VOIDP, Fiddle::RUBY_FREE)
      size = Fiddle::Pointer.malloc(Fiddle::SIZEOF_SIZE_T, Fiddle::RUBY_FREE)
      stream = open_memstream.call(buf, size)
      malloc_info.call(0, stream)
      fclose.call(stream)
      text = Fiddle::Pointer.new(buf[0, Fiddle::SIZEOF_VOIDP].unpack1("J"))
      xml = text.to_s(size[0, Fiddle::SIZEOF_SIZE_T].unpack1("J"))
      Fiddle.free(text.to_i)
      xml
    rescue Fiddle::DLError
      nil
    end
  end

  # The census run; see the file comment.
  class MemoryCensus
    GROUP = "stats-tracker.dev"
    LEAFS = Integer(ENV.fetch("LEAFS", "1000"))
    # CENSUS_PROFILE=1: Leafs at interval 1m, and a CPU profile (stackprof, run without
    # bundler: it is a Debian package outside the Gemfile) of one minute of refreshes after the
    # census, attributed to libraries by file.
    PROFILE = %w[1 true yes].include?(ENV.fetch("CENSUS_PROFILE", "").downcase)
    # CENSUS_INTERVAL=1m: Leafs refresh (and write their status) every minute during the census,
    # so CENSUS_RELISTS measures relists on top of refresh traffic, as in a soak.
    INTERVAL = ENV.fetch("CENSUS_INTERVAL", PROFILE ? "1m" : "1h")
    RELISTS = Integer(ENV.fetch("CENSUS_RELISTS", "0"))
    TRACE = %w[1 true yes].include?(ENV.fetch("CENSUS_TRACE", "").downcase)

    def run
      Bench.log("census: #{LEAFS} Leafs, operator code from #{$LOAD_PATH.first}, load #{Bench.load_average}")
      start
      ObjectSpace.trace_object_allocations_start if TRACE
      @baseline_rss = Bench.rss_kib
      runtime = start_runtime
      wait_until_refreshed(runtime)
      before = report(runtime)
      relist_growth(runtime, before) if RELISTS.positive?
      profile_refreshes if PROFILE
    ensure
      @runtime&.stop
      @thread&.join(30)
      @pages&.stop
      @cluster&.stop
    end

    private

    def start
      @cluster = StatsTracker::Testing::KubeCluster.new.start
      @cluster.apply_yaml(File.join(ROOT, "operator", "deploy", "crds", "leaves.yaml"))
      @cluster.apply_yaml(File.join(ROOT, "operator", "deploy", "crds", "projects.yaml"))
      @namespace = @cluster.create_namespace("census")
      @pages = StatsTracker::Testing::PageServer.new(fixtures_dir: FIXTURES).start
      fixtures = Bench.package_fixtures.map { |p| File.basename(p) }
      names = Array.new(LEAFS) { |i| format("pkg-%05d", i) }
      names.each_with_index { |n, i| @pages.serve_package(owner: "census", package: n, fixture: fixtures[i % fixtures.size]) }
      create_leaves(names)
    end

    def create_leaves(names)
      queue = Queue.new
      names.each { |n| queue << n }
      queue.close
      path = "/apis/#{GROUP}/v1alpha1/namespaces/#{@namespace}/leaves"
      Array.new(8) do
        Thread.new do
          connection = @cluster.connection
          while (name = queue.pop)
            body = { apiVersion: "#{GROUP}/v1alpha1", kind: "Leaf", metadata: { name: name, namespace: @namespace },
                     spec: { owner: "census", package: name, ownerType: "org", interval: INTERVAL } }
            res = connection.post(path, body)
            raise "POST #{name}: HTTP #{res.status}" unless res.success?
          end
        end
      end.each(&:join)
    end

    def start_runtime
      config = StatsTracker::Operator::Config.from_env(
        { "WATCH_NAMESPACE" => @namespace, "GITHUB_BASE_URL" => @pages.base_url, "GITHUB_RATE" => "1000",
          "GITHUB_BURST" => "100", "LOG_LEVEL" => "warn", "METRICS_ADDR" => "127.0.0.1:-1",
          "MALLOC_TRIM_INTERVAL" => ENV.fetch("MALLOC_TRIM_INTERVAL", nil) }.compact, {}
      )
      connection = StatsTracker::Operator::Kube::Connection.from_kubeconfig(@cluster.kubeconfig_path)
      @runtime = StatsTracker::Operator::Runtime.new(config: config, connection: connection,
                                                     parser: StatsTracker::Parser.new,
                                                     logger: StatsTracker::Operator::Log.new(io: StringIO.new, level: "warn"),
                                                     watch_stream: @watches = StatsTracker::Testing::WatchControl.new)
      @thread = Thread.new { @runtime.run }
      @runtime
    end

    # Every Leaf read once, its status written back, and the watch caught up with the writes.
    def wait_until_refreshed(runtime)
      deadline = Bench.now + 120 + (LEAFS / 5)
      store = nil
      loop do
        store ||= runtime.manager.informers.find { |i| i.plural == "leaves" }&.store
        done = store&.all&.count { |l| l.dig(:status, :downloadCount) } || 0
        break if done >= LEAFS && (INTERVAL != "1h" || runtime.manager.queue.depth.zero?) # at 1m Leafs come due again
        raise "timed out: #{done}/#{LEAFS} Leafs refreshed" if Bench.now > deadline

        sleep 2
      end
      sleep 5
    end

    # Forces RELISTS relists of the Leafs (a real 410 Gone, as an expired resourceVersion brings), one after the
    # other, and prints how every figure of the census moved.
    def relist_growth(runtime, before)
      informer = runtime.manager.informers.find { |i| i.plural == "leaves" }
      RELISTS.times do
        lists = informer.lists
        @watches.expire("leaves")
        deadline = Bench.now + 120
        sleep 0.5 until informer.lists > lists || Bench.now > deadline
        raise "census: no relist within 120 s" if informer.lists == lists
      end
      # Long enough for the operator's periodic malloc_trim to have run once since.
      sleep runtime.config.malloc_trim_interval.clamp(0, 120) + 5
      after = report(runtime, label: "after-#{RELISTS}-relists")
      Bench.log("census: after #{RELISTS} relists (after - before):")
      growth(before, after).each { |key, delta| puts format("  %-40s %+.1f", key, delta) }
      print_site_growth if TRACE
    end

    def growth(before, after, prefix = "")
      after.each_with_object({}) do |(key, value), out|
        old = before[key]
        if value.is_a?(Hash) && old.is_a?(Hash)
          out.merge!(growth(old, value, "#{prefix}#{key}."))
        elsif value.is_a?(Numeric) && old.is_a?(Numeric)
          out["#{prefix}#{key}"] = value - old
        end
      end
    end

    def report(runtime, label: nil)
      3.times { GC.start(full_mark: true, immediate_sweep: true) }
      (@sites ||= []) << live_sites if TRACE
      stores = runtime.manager.informers.map(&:store)
      objects = stores.flat_map(&:all)
      cache = deep_memsize(objects)
      managed = deep_memsize(objects.filter_map { |o| o.dig(:metadata, :managedFields) })
      status = proc_status
      gc = GC.stat
      row = {
        leafs: LEAFS, operator_lib: $LOAD_PATH.first,
        rss_mib: mib(status["VmRSS"]), rss_anon_mib: mib(status["RssAnon"]), rss_file_mib: mib(status["RssFile"]),
        baseline_rss_mib: mib(@baseline_rss), vm_size_gib: (status["VmSize"] / 1024.0 / 1024).round(1),
        cached_objects: objects.size, cache_mib: (cache[:bytes] / 1_048_576.0).round(2),
        cache_bytes_per_object: objects.empty? ? 0 : cache[:bytes] / objects.size,
        cache_ruby_objects_per_object: objects.empty? ? 0 : cache[:count] / objects.size,
        managed_fields_mib: (managed[:bytes] / 1_048_576.0).round(2),
        distinct_strings_in_cache: cache[:strings],
        gc_heap_live_slots: gc[:heap_live_slots], gc_heap_pages: gc[:heap_allocated_pages],
        gc_heap_mib: (gc[:heap_allocated_pages] * 16 * 1024 / 1_048_576.0).round(1),
        memsize_of_all_mib: (ObjectSpace.memsize_of_all / 1_048_576.0).round(1),
        malloc: Malloc.info, pool_slots: StatsTracker::Native.pool_slots, pool: pool_mappings,
        top_classes: ObjectSpace.count_objects.select { |k, _| %i[T_STRING T_HASH T_ARRAY T_OBJECT T_DATA].include?(k) },
        # The cache transform interns its strings: a count that grows with relists would be them.
        frozen_strings: ObjectSpace.each_object(String).count(&:frozen?),
        ruby_malloc_increase_mib: (gc[:malloc_increase_bytes] / 1_048_576.0).round(1), gc_count: gc[:count],
        gc_heap_free_slots: gc[:heap_free_slots]
      }
      puts JSON.pretty_generate(row)
      FileUtils.mkdir_p(TMP_DIR)
      name = ["census", LEAFS, File.basename(File.dirname($LOAD_PATH.first, 2)), label].compact.join("-")
      File.write(File.join(TMP_DIR, "#{name}.json"), JSON.pretty_generate(row))
      row
    end

    # Live Hashes, Arrays and Strings by the file:line that allocated them (untraced ones under "?").
    def live_sites
      sites = Hash.new(0)
      [Hash, Array, String].each do |klass|
        ObjectSpace.each_object(klass) do |o|
          file = ObjectSpace.allocation_sourcefile(o)
          sites["#{klass} #{file ? "#{file.split('/').last(3).join('/')}:#{ObjectSpace.allocation_sourceline(o)}" : '?'}"] += 1
        end
      end
      sites
    end

    def print_site_growth
      before, after = @sites.values_at(0, -1)
      deltas = (before.keys | after.keys).to_h { |site| [site, after[site] - before[site]] }
      Bench.log("census: live Hashes/Arrays/Strings by allocation site, largest changes (after - before):")
      deltas.sort_by { |_, d| -d.abs }.first(25).each do |site, d|
        puts format("  %+8d  (%d -> %d)  %s", d, before[site], after[site], site)
      end
    end

    AREAS = {
      "TLS (openssl)" => %r{/openssl}, "JSON" => %r{/json}, "HTTP client (net/http, rest-client)" => %r{net/|rest.client|http-cookie|mime},
      "kubeclient" => /kubeclient/, "operator" => %r{operator/lib}, "stats_tracker gem (fetcher, parser)" => %r{/lib/stats_tracker/},
      "page server (webrick, this process only)" => /webrick|page_server/, "logger/metrics/other stdlib" => %r{/usr/lib/ruby}
    }.freeze

    def profile_refreshes
      require "stackprof"
      github = @pages.request_count
      cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
      profile = StackProf.run(mode: :cpu, interval: 1000) { sleep 60 }
      cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu
      refreshes = @pages.request_count - github
      report_profile(profile, refreshes, cpu)
    rescue LoadError
      Bench.log("census: no stackprof (apt-get install ruby-stackprof; run without bundle exec)")
    end

    # C functions have no file: their class says where they belong.
    CFUNCS = { /\AOpenSSL::/ => "TLS (openssl)", /\AJSON::/ => "JSON", /\ADigest::/ => "page server (webrick, this process only)",
               /\A\((sweeping|marking|garbage collection)\)/ => "Ruby GC" }.freeze

    def area_of(frame)
      name = frame[:name].to_s
      file = frame[:file].to_s
      CFUNCS.find { |re, _| name.match?(re) }&.last ||
        AREAS.find { |_, re| file.match?(re) }&.first || "other: #{name}"
    end

    # Each sample counted once, for the first area its innermost frame belongs to.
    def report_profile(profile, refreshes, cpu)
      frames = profile[:frames]
      by_area = Hash.new(0)
      frames.each_value { |f| by_area[area_of(f)] += f[:samples] }
      total = profile[:samples].to_f
      Bench.log(format("census: profile: %d refreshes in 60 s, process CPU %.1f ms per refresh (page server included)",
                       refreshes, cpu * 1000 / [refreshes, 1].max))
      by_area.sort_by { |_, n| -n }.first(12).each do |area, n|
        puts format("  %-45s %5.1f %%  %.2f ms/refresh", area, 100 * n / total, cpu * 1000 * n / total / [refreshes, 1].max)
      end
      top = frames.values.sort_by { |f| -f[:samples] }.first(15)
      top.each { |f| puts format("    %5.1f %%  %s (%s)", 100 * f[:samples] / total, f[:name], f[:file].to_s.split("/").last(3).join("/")) }
    end

    # Bytes reachable from roots: every distinct Hash/Array/String counted once.
    def deep_memsize(roots)
      seen = {}.compare_by_identity
      stack = roots.dup
      bytes = 0
      strings = 0
      until stack.empty?
        value = stack.pop
        next unless value.is_a?(Hash) || value.is_a?(Array) || value.is_a?(String)
        next if seen.key?(value)

        seen[value] = true
        bytes += ObjectSpace.memsize_of(value)
        case value
        when Hash then value.each_value { |v| stack << v }
        when Array then stack.concat(value)
        else strings += 1
        end
      end
      { bytes: bytes, count: seen.size, strings: strings }
    end

    # The wasmtime pooling allocator reserves its slots as a few huge anonymous mappings; only
    # what instances touched is resident.
    def pool_mappings
      maps = []
      current = nil
      File.foreach("/proc/self/smaps") do |line|
        if line =~ /\A(\h+)-(\h+) /
          current = { size: Regexp.last_match(2).hex - Regexp.last_match(1).hex, rss: 0, anon: !line.split[5] }
          maps << current
        elsif line.start_with?("Rss:")
          current[:rss] = line.split[1].to_i * 1024
        end
      end
      big = maps.select { |m| m[:anon] && m[:size] >= 1 << 30 }
      { mappings_over_1gib: big.size, reserved_gib: (big.sum { |m| m[:size] } / 1_073_741_824.0).round(1),
        resident_mib: (big.sum { |m| m[:rss] } / 1_048_576.0).round(2) }
    end

    def proc_status
      File.readlines("/proc/self/status").to_h do |l|
        k, v = l.split(":", 2)
        [k, v.to_i]
      end
    end

    def mib(kib)
      (kib / 1024.0).round(1)
    end
  end
end

Bench::MemoryCensus.new.run if $PROGRAM_NAME == __FILE__
