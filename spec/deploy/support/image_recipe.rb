# frozen_string_literal: true

require "shellwords"

module StatsTracker
  module Testing
    # What operator/image/build.sh puts into the image, read from the script itself (its settings
    # and the flags of its `gem install` and `umoci config` commands), so operator/Dockerfile can be
    # checked against the recipe that really runs here.
    class ImageRecipe
      PATH = File.expand_path("../../../operator/image/build.sh", __dir__)

      def initialize(path: PATH)
        @text = File.read(path)
      end

      def platform = setting("PLATFORM")

      def gem_dir = setting("GEM_DIR")

      # The flags of `gem install`, without the paths that differ between a chroot and a staging root.
      def gem_install_flags = command("gem install").reject { |w| w.include?("$") || w.start_with?("/") }.grep(/\A--/)

      # user, workdir, entrypoint, env, ports and stop signal as `umoci config` sets them.
      def config
        words = command("umoci config").map { |w| w.gsub("$UID_GID", setting("UID_GID")) }
        pairs = words.each_cons(2).select { |flag, _| flag.start_with?("--config.") }
        { user: value(pairs, "user"), workdir: value(pairs, "workingdir"), stopsignal: value(pairs, "stopsignal"),
          entrypoint: values(pairs, "entrypoint"), ports: values(pairs, "exposedports"),
          env: values(pairs, "env").to_h { |kv| kv.split("=", 2) } }
      end

      private

      def setting(name)
        @text[/^#{name}=(\S+)$/, 1] or raise "build.sh sets no #{name}"
      end

      # The words of the first command line starting with prefix, continuation lines joined.
      def command(prefix)
        joined = @text.gsub("\\\n", " ")
        line = joined.lines.find { |l| l.strip.start_with?(prefix) } or raise "build.sh runs no #{prefix}"
        Shellwords.split(line.strip)
      end

      def value(pairs, name) = values(pairs, name).last

      def values(pairs, name) = pairs.select { |flag, _| flag == "--config.#{name}" }.map(&:last)
    end
  end
end
