#!/usr/bin/env bash
# Re-pins the test control plane: rewrites go.mod for another Kubernetes (and optionally etcd) release
# and tidies go.sum. The staging replaces are derived from the tag's own go.mod (every
# `k8s.io/<m> => ./staging/src/k8s.io/<m>` becomes `k8s.io/<m> => k8s.io/<m> v0.<minor>.<patch>`),
# so the list is never maintained by hand. Then `build.sh` builds into a new versioned cache dir.
#
# Usage: gen-go-mod.sh <k8s version, e.g. v1.37.2> [<etcd server version, e.g. v3.7.0>]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
k8s_version="${1:?usage: gen-go-mod.sh <k8s version> [<etcd version>]}"
etcd_version="${2:-$(awk '$1 == "go.etcd.io/etcd/server/v3" && $3 != "=>" { print $2; exit }' "$here/go.mod")}"
staging_version="v0.${k8s_version#v1.}"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

# Outside any module, `go list -m -json mod@version` fetches only the .mod file, not the large zip.
info="$(cd / && GOFLAGS=-mod=mod go list -m -json "k8s.io/kubernetes@$k8s_version")"
upstream_mod="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
go_directive="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"GoVersion": "\(.*\)",\{0,1\}$/\1/p')"
[ -f "$upstream_mod" ] || { echo "gen-go-mod.sh: no go.mod for k8s.io/kubernetes@$k8s_version" >&2; exit 1; }

staging="$(awk '$2 == "=>" && $3 ~ /^\.\/staging\/src\// { print $1 }' "$upstream_mod" | sort -u)"
[ -n "$staging" ] || { echo "gen-go-mod.sh: no staging replaces found in $upstream_mod" >&2; exit 1; }

{
  echo "// Test infrastructure only: builds kube-apiserver, kube-controller-manager, kubectl and etcd"
  echo "// from the Go module proxy. k8s.io/kubernetes replaces its staging modules with local paths,"
  echo "// so each is pinned here to its published tag (derived from the tag's own go.mod by gen-go-mod.sh)."
  echo "module stats-tracker.dev/kube-test-binaries"
  echo
  echo "go ${go_directive}"
  echo
  echo "require ("
  echo "	go.etcd.io/etcd/server/v3 ${etcd_version}"
  echo "	k8s.io/kubernetes ${k8s_version}"
  echo ")"
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m $staging_version"; done
  echo ")"
} >"$here/go.mod.new"
mv "$here/go.mod.new" "$here/go.mod"

(cd "$here" && go mod tidy)
echo "pinned k8s.io/kubernetes $k8s_version ($(echo "$staging" | wc -l) staging replaces at $staging_version), etcd $etcd_version" >&2
