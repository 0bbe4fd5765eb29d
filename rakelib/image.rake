# frozen_string_literal: true

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
end

namespace :image do
  desc "Build (once, cached by package list) the Debian runtime base root filesystem"
  task :base do
    OperatorImage.script("base_rootfs.sh")
  end

  desc "Build the operator image as an OCI layout + oci-archive (needs root, debootstrap, umoci, skopeo)"
  task build: "gem:native:#{OperatorImage::PLATFORM}" do
    OperatorImage.script("build.sh", GemPackaging.platform_gem_path(OperatorImage::PLATFORM))
  end

  desc "Build the image, then smoke-test it: chroot commands, image config, the operator run from it"
  task smoke: :build do
    sh({ "IMAGE_DIR" => OperatorImage::OUT, "STATS_TRACKER_IMAGE" => "1" }, "rspec", "spec/deploy/image_spec.rb")
  end
end
