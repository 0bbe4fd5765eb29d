# frozen_string_literal: true

require "tmpdir"
require_relative "../../rakelib/native/user_install"

# gem:smoke prints how long the source gem took to install; whether cargo found its target dir
# warm decides whether that is about a minute or ten, so the line says which it was.
RSpec.describe NativeGem::UserInstall do
  around do |example|
    Dir.mktmpdir("user-install-") do |dir|
      @dir = dir
      saved = ENV.fetch("CARGO_TARGET_DIR", nil)
      example.run
    ensure
      saved ? ENV["CARGO_TARGET_DIR"] = saved : ENV.delete("CARGO_TARGET_DIR")
    end
  end

  def user_install
    described_class.new(File.join(@dir, "scratch"), toolchain: true)
  end

  it "calls the source gem's cargo target cold when it holds no release build yet" do
    ENV["CARGO_TARGET_DIR"] = File.join(@dir, "target")
    expect(user_install.cargo_target_state).to eq("cold CARGO_TARGET_DIR")
  end

  it "calls it warm once a release build is there" do
    ENV["CARGO_TARGET_DIR"] = File.join(@dir, "target")
    FileUtils.mkdir_p(File.join(@dir, "target", "gem-install", "release"))
    expect(user_install.cargo_target_state).to eq("warm CARGO_TARGET_DIR")
  end

  it "says when there is no CARGO_TARGET_DIR at all" do
    ENV.delete("CARGO_TARGET_DIR")
    expect(user_install.cargo_target_state).to eq("no CARGO_TARGET_DIR: cargo's own target dir")
  end
end
