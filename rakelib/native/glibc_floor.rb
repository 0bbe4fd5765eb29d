# frozen_string_literal: true

require "open3"

module NativeGem
  # The newest glibc symbol version a shared object needs, read from its dynamic symbol table
  # with objdump -T. The platform gems promise to load on Debian 12, so a binary that needs a
  # newer glibc than Debian 12's fails the build instead of failing on a user's machine.
  module GlibcFloor
    DEBIAN12 = Gem::Version.new("2.36")

    class TooNew < StandardError; end

    module_function

    # -> Gem::Version of the newest GLIBC_x.y the object references (nil when it needs none).
    def required(path, objdump: "objdump")
      out, err, status = Open3.capture3(objdump, "-T", path)
      raise "#{objdump} -T #{path} failed: #{err}" unless status.success?

      parse(out)
    end

    def parse(objdump_output)
      objdump_output.scan(/\bGLIBC_(\d+(?:\.\d+)+)\b/).flatten.map { |v| Gem::Version.new(v) }.max
    end

    def check!(path, objdump: "objdump", max: DEBIAN12)
      needed = required(path, objdump: objdump)
      if needed && needed > Gem::Version.new(max.to_s)
        raise TooNew, "#{File.basename(path)} needs glibc #{needed}, newer than the #{max} the platform gems promise"
      end

      needed
    end
  end
end
