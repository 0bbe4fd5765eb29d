# frozen_string_literal: true

module Bench
  # The malloc configurations a soak can run side by side, each as the environment the
  # operator process starts with. "deployment" is whatever operator/deploy/base/deployment.yaml
  # sets, so the soak measures what users run without repeating the choice here.
  module Allocators
    JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    KEYS = %w[MALLOC_ARENA_MAX LD_PRELOAD RUBY_GC_HEAP_GROWTH_FACTOR RUBY_GC_HEAP_FREE_SLOTS_MAX_RATIO].freeze
    DEPLOYMENT = File.expand_path("../../operator/deploy/base/deployment.yaml", __dir__)

    module_function

    def env(name)
      case name
      when "glibc" then {}
      when "arena2" then { "MALLOC_ARENA_MAX" => "2" }
      when "jemalloc" then jemalloc
      when "deployment" then deployment
      else raise ArgumentError, "unknown allocator #{name.inspect} (glibc, arena2, jemalloc, deployment)"
      end
    end

    def jemalloc
      raise ArgumentError, "#{JEMALLOC} missing: apt-get install libjemalloc2" unless File.exist?(JEMALLOC)

      { "LD_PRELOAD" => JEMALLOC }
    end

    def deployment
      require "yaml"
      doc = YAML.safe_load_file(DEPLOYMENT)
      env = doc.dig("spec", "template", "spec", "containers", 0, "env") || []
      env.select { |e| KEYS.include?(e["name"]) && e.key?("value") }.to_h { |e| [e["name"], e["value"]] }
    end
  end
end
