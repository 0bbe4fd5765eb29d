# frozen_string_literal: true

require "open3"
require "rbconfig"

# kubeclient is the operator's dependency, not the gem's: the parser never loads it, and the
# operator says what to install when it is missing.
RSpec.describe "loading the operator" do
  root = File.expand_path("../..", __dir__)
  # Makes `require "kubeclient"` fail in the child as it would where kubeclient is not installed.
  hide_kubeclient = <<~RUBY
    module Kernel
      alias_method :require_with_kubeclient, :require
      def require(name)
        raise LoadError, "cannot load such file -- kubeclient" if name == "kubeclient"

        require_with_kubeclient(name)
      end
    end
  RUBY

  def ruby(*args, chdir:)
    Open3.capture3(RbConfig.ruby, *args, chdir: chdir)
  end

  it "parses pages without loading kubeclient" do
    out, err, status = ruby("-I", "lib", "-e", 'require "stats_tracker"; StatsTracker::Parser.new; p defined?(Kubeclient)',
                            chdir: root)
    expect([status.success?, out.strip]).to eq([true, "nil"]), err
  end

  it "names what to install when kubeclient is missing" do
    _out, err, status = ruby("-I", "lib", "-I", "operator/lib", "-e", "#{hide_kubeclient}\nrequire \"stats_tracker/operator\"",
                             chdir: root)
    expect(status.success?).to be(false)
    expect(err).to include("needs kubeclient ~> 4.9", "ruby-kubeclient")
  end
end
