# frozen_string_literal: true

# RBS_TEST=1 checks every call into StatsTracker's public API against the signatures in
# sig/ while the suite runs (rbs 2.1 runtime testing). rbs/test/setup only hooks classes
# whose definition ends after it loads, and the gem (with its C-defined classes) is
# already loaded by spec_helper, so the same machinery is installed here explicitly.
# Set RBS_TEST_TARGET (comma-separated class names) to narrow the checked classes.
if ENV["RBS_TEST"] == "1"
  require "rbs"
  require "rbs/test"
  require "pathname"

  module StatsTrackerRbsRuntime
    SIG_DIR = Pathname(File.expand_path("../../sig", __dir__))
    LIBRARIES = %w[date digest].freeze

    module_function

    def install
      loader = RBS::EnvironmentLoader.new
      LIBRARIES.each { |lib| loader.add(library: lib) }
      loader.add(path: SIG_DIR)
      env = RBS::Environment.from_loader(loader).resolve_type_names
      tester = RBS::Test::Tester.new(env: env)
      targets(env).each do |klass|
        tester.install!(klass, sample_size: 100, unchecked_classes: ["RSpec::Mocks::Double"])
      end
      warn "rbs runtime type checking: #{tester.targets.map(&:name).sort.join(', ')}"
    end

    def targets(env)
      wanted = ENV.fetch("RBS_TEST_TARGET", "").split(",").map(&:strip)
      modules_under(StatsTracker).select do |mod|
        name = RBS::TypeName.new(name: mod.name.split("::").last.to_sym,
                                 namespace: RBS::Namespace.parse("::#{mod.name.split('::')[0..-2].join('::')}"))
        env.class_decls.key?(name.absolute!) && (wanted.empty? || wanted.include?(mod.name))
      end
    end

    def modules_under(root, seen = [])
      return seen if seen.include?(root)

      seen << root
      root.constants(false).each do |const|
        value = root.const_get(const, false)
        modules_under(value, seen) if value.is_a?(Module) && value.name&.start_with?("#{root.name}::")
      end
      seen
    end
  end

  StatsTrackerRbsRuntime.install
end
