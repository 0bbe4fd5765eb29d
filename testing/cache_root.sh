# shellcheck shell=bash
# Sourced by every script that keeps build outputs outside the checkout: the one shell form of the
# cache root rule (the Ruby form is testing/cache_root.rb; spec/testing/cache_root_spec.rb checks
# that they agree and that no other file restates the rule).
stats_tracker_cache_root() {
  printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/stats_tracker"
}
