# frozen_string_literal: true

# What a user does first with an installed stats_tracker gem. The smoke tasks run it with that
# gem's Ruby, outside the checkout:
#   ruby installed_check.rb PAGE EXPECTED_JSON SPIN_WAT
# PAGE is parsed by Parser#package and by the WASI command guest (in a preopened directory)
# and both must match its expected.json entry; SPIN_WAT, a guest that never returns, must be
# stopped by the timeout. Prints one line per check and the extension binary that was loaded.
require "json"
require "stats_tracker"

def check(what, good, detail)
  abort "FAIL #{what}: #{detail}" unless good
  puts "ok #{what}: #{detail}"
end

def clock
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

page, expected_path, spin_wat = ARGV
name = File.basename(page)
want = JSON.parse(File.read(expected_path)).fetch(name)

started = clock
stats = StatsTracker::Parser.new.package(File.binread(page))
got = JSON.parse(JSON.generate(stats.to_h))
check("Parser#package", got == want,
      "#{name}: #{stats.total_downloads} downloads (#{(clock - started).round(2)} s with the first compile)")

command_wasm = File.join(File.dirname(StatsTracker::Parser::BUNDLED_COMPONENT), "ghcr_parser_command.wasm")
started = clock
result = StatsTracker::Wasi::Command.new(command_wasm)
                                    .run(args: ["--kind", "package", "/pages/#{name}"],
                                         dirs: { "/pages" => File.dirname(File.expand_path(page)) }, timeout: 60.0)
check("Wasi::Command", result.exit_code.zero? && JSON.parse(result.stdout) == want,
      "exit #{result.exit_code}, #{result.stdout.strip[0, 120]} (#{(clock - started).round(2)} s)")

spin = StatsTracker::Wasi::Command.new(File.read(spin_wat))
started = clock
begin
  spin.run(timeout: 0.5)
  check("timeout", false, "a guest that never returns returned")
rescue StatsTracker::TimeoutError => e
  check("timeout", true, "#{e.class} after #{(clock - started).round(2)} s (limit 0.5 s): #{e.message}")
end

puts "extension #{$LOADED_FEATURES.grep(%r{/stats_tracker\.so\z}).first}"
