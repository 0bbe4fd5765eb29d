# frozen_string_literal: true

require "open3"

# The operator image without a Docker engine (operator/image/*.sh): a cached Debian base root
# filesystem from debootstrap, the x86_64-linux platform gem installed on top (its extension is
# the one `rake compile` built, so the image compiles nothing), packed as an OCI layout with umoci.
# operator/Dockerfile describes the same image for hosts with an engine.
module OperatorImage
  DIR = File.expand_path("../operator/image", __dir__)
  OUT = ENV.fetch("IMAGE_DIR") { File.join(CACHE_HOME, "image", "out") }
  # The base is Debian 12 on x86_64, the platform gem:native builds from this host's extension.
  PLATFORM = "x86_64-linux"
  # Rake's `sh` lives in FileUtilsExt, which Rake mixes into the top level only.
  extend Rake::FileUtilsExt

  module_function

  def script(name, *args)
    sh({ "IMAGE_DIR" => OUT }, File.join(DIR, name), *args)
  end

  # build.sh for gem; returns (and remembers for release:publish in this process) the image's own
  # directory under OUT, which no later build writes to.
  def build(gem)
    out, status = Open3.capture2({ "IMAGE_DIR" => OUT }, File.join(DIR, "build.sh"), gem)
    raise "Command failed with status (#{status.exitstatus}): build.sh #{gem}" unless status.success?

    @built = out.lines.last.to_s.strip
  end

  def built = @built || raise("the operator image is not built in this run: rake image:build")
end

namespace :image do
  desc "Build (once, cached by package list) the Debian runtime base root filesystem"
  task :base do
    OperatorImage.script("base_rootfs.sh")
  end

  desc "Build the operator image as an OCI layout + oci-archive (needs root, debootstrap, umoci, skopeo)"
  task build: "gem:native:#{OperatorImage::PLATFORM}" do
    puts OperatorImage.build(GemPackaging.platform_gem_path(OperatorImage::PLATFORM))
  end

  desc "Build the image, then smoke-test it: chroot commands, image config, the operator run from it"
  task smoke: :build do
    sh({ "IMAGE_DIR" => OperatorImage::OUT, "STATS_TRACKER_IMAGE" => "1" }, "rspec", "spec/deploy/image_spec.rb")
  end
end
