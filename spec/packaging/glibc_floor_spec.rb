# frozen_string_literal: true

require_relative "../../rakelib/native/glibc_floor"

# Checked against the extension `rake compile` built, with real objdump output.
RSpec.describe NativeGem::GlibcFloor do
  built = File.expand_path("../../lib/stats_tracker/stats_tracker.so", __dir__)

  it "finds the newest glibc symbol version the extension needs" do
    needed = described_class.required(built)

    expect(needed).to be >= Gem::Version.new("2.2.5")
    expect(needed).to be <= Gem::Version.new("2.36")
  end

  it "accepts the extension against Debian 12's glibc" do
    expect(described_class.check!(built)).to eq(described_class.required(built))
  end

  it "fails the build when a symbol needs a newer glibc than allowed" do
    needed = described_class.required(built)
    older = Gem::Version.new(needed.segments.first(2).tap { |s| s[1] -= 1 }.join("."))

    expect { described_class.check!(built, max: older) }
      .to raise_error(described_class::TooNew, /needs glibc #{Regexp.escape(needed.to_s)}, newer than the #{older}/)
  end

  it "reads versions from objdump -T lines and ignores GLIBC_PRIVATE" do
    out = <<~OBJDUMP
      0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.2.5) free
      0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) pthread_create
      0000000000000000  w   DF *UND*  0000000000000000 (GLIBC_2.18) __cxa_thread_atexit_impl
      0000000000000000      DO *UND*  0000000000000000 (GLIBC_PRIVATE) _rtld_global
    OBJDUMP

    expect(described_class.parse(out)).to eq(Gem::Version.new("2.34"))
  end
end
