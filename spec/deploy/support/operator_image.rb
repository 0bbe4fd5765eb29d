# frozen_string_literal: true

require "json"
require "open3"
require_relative "../../../testing/cache_root"

module StatsTracker
  module Testing
    # The operator image built by operator/image/build.sh: its OCI config, its root filesystem, and
    # commands run in it through operator/image/run_rootfs.sh (read-only root, tmpfs volumes, the
    # image's own user/env/workdir/entrypoint).
    class OperatorImage
      ROOT = File.expand_path("../../..", __dir__)
      IMAGE_DIR = File.join(ROOT, "operator", "image")
      OUT = ENV.fetch("IMAGE_DIR") { CacheRoot.join("image", "out") }

      # Why the image is not built and checked in this run, or nil. Building it takes minutes (a
      # debootstrap base on the first run, then packing the layers), so it is opt-in: `rake image:smoke` sets
      # STATS_TRACKER_IMAGE=1 (CI runs that task); plain `rspec spec/deploy` skips it, saying so.
      def self.unavailable_reason(env: ENV)
        return "opt-in: run `rake image:smoke` (or set STATS_TRACKER_IMAGE=1)" unless env["STATS_TRACKER_IMAGE"] == "1"
        return "needs root (debootstrap, chroot, mount namespaces)" unless Process.uid.zero?

        missing = %w[debootstrap umoci skopeo jq unshare].reject { |t| system("command -v #{t} >/dev/null 2>&1") }
        "missing tools: #{missing.join(', ')} (apt-get install #{missing.join(' ')})" unless missing.empty?
      end

      PLATFORM = "x86_64-linux"

      # Builds the x86_64-linux platform gem from this checkout's extension and the image from it,
      # as `rake image:build` does. build.sh reuses the cached base and skips everything when gem
      # and recipe are unchanged.
      def self.build
        dir = run!(File.join(IMAGE_DIR, "build.sh"), build_gem, chdir: ROOT).lines.last.to_s.strip
        new(layout: File.join(dir, "oci"), tag: StatsTracker::VERSION, rootfs: File.join(dir, "bundle", "rootfs"))
      end

      # The platform gem from this checkout's extension. A fixed SOURCE_DATE_EPOCH makes the .gem
      # byte-identical for identical sources, so build.sh's stamp sees "unchanged" and reuses the image.
      def self.build_gem
        run!(Gem.ruby, "-S", "rake", "gem:native:#{PLATFORM}", chdir: ROOT, env: { "SOURCE_DATE_EPOCH" => "315619200" })
        File.join(ROOT, "pkg", "stats_tracker-#{StatsTracker::VERSION}-#{PLATFORM}.gem")
      end

      def self.run!(*cmd, chdir:, env: {})
        out, err, status = Open3.capture3({ "IMAGE_DIR" => OUT }.merge(env), *cmd, chdir: chdir)
        raise "#{cmd.first(3).join(' ')} failed:\n#{err.lines.last(30).join}" unless status.success?

        out
      end

      attr_reader :layout, :tag, :rootfs

      def initialize(layout:, tag:, rootfs:)
        @layout = layout
        @tag = tag
        @rootfs = rootfs
      end

      def image_ref = "#{layout}:#{tag}"

      def blob(digest) = File.join(layout, "blobs", digest.sub(":", "/"))

      def manifest
        index = JSON.parse(File.read(File.join(layout, "index.json")))
        entry = index["manifests"].find { |m| m.dig("annotations", "org.opencontainers.image.ref.name") == tag }
        JSON.parse(File.read(blob(entry.fetch("digest"))))
      end

      # The OCI image config ("config" holds User, Entrypoint, Env, ExposedPorts, StopSignal...).
      def config = JSON.parse(File.read(blob(manifest.dig("config", "digest"))))

      def compressed_size = manifest["layers"].sum { |l| l["size"] }

      # Runs argv (default: the image's entrypoint) in the image; returns [stdout, stderr, status].
      def run(*args, entrypoint: nil, env: {}, stdin: "", service_account_dir: nil)
        Open3.capture3(run_env(entrypoint, env), *command(args, service_account_dir), stdin_data: stdin)
      end

      # Starts the image's entrypoint in the background; returns the pid (the operator's own).
      def spawn(*args, log:, env: {}, service_account_dir: nil)
        Process.spawn(run_env(nil, env), *command(args, service_account_dir), in: File::NULL, out: log, err: log)
      end

      private

      def command(args, service_account_dir)
        [File.join(IMAGE_DIR, "run_rootfs.sh"), image_ref, rootfs, *[service_account_dir].compact, "--", *args]
      end

      def run_env(entrypoint, env)
        { "RUN_ENV" => env.map { |k, v| "#{k}=#{v}" }.join("\n"),
          "RUN_ENTRYPOINT" => entrypoint && JSON.generate(entrypoint) }
      end
    end
  end
end
