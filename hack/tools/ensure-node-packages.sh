#!/usr/bin/env bash
# Installs the Debian packages the real nodes of the local control plane and the browser tests need, when missing:
#   runc                          the OCI runtime containerd starts containers with
#   containernetworking-plugins   the CNI plugins bridge, host-local, loopback and portmap (/usr/lib/cni)
#   iptables ipset conntrack      what kube-proxy and kube-router program, inside the nodes' network namespaces
#   busybox-static umoci          the images' base files and the image tool (hack/images)
#   binutils                      strip: the official Node.js build goes into the service images without its debug info
#   e2fsprogs mount               mkfs.ext4 and losetup: a claim on a real node is a loop-mounted ext4 of its size
#   chromium-headless-shell       the browser the console's tests drive with playwright-core (libs/testing/src/browser.ts);
#   fonts-dejavu-core             Debian's build, so nothing downloads a browser; and a font for its screenshots' text
# and, only when asked (KUBEPLUS_EXTRA_PACKAGES, e.g. stress-ng for make test-loaded), more packages the same way.
# Everything else the nodes run (kubelet, kube-proxy, containerd, CoreDNS, kube-router) is built from the Go module
# proxy by ensure-tools.sh. Installing a package starts no service: these are binaries only.
#
#   hack/tools/ensure-node-packages.sh           install what is missing (needs root), print what it did
#   hack/tools/ensure-node-packages.sh --check   install nothing; exit 1 and say what is missing
set -euo pipefail

packages=(runc containernetworking-plugins iptables ipset conntrack busybox-static umoci e2fsprogs mount binutils
  chromium-headless-shell fonts-dejavu-core)
# shellcheck disable=SC2206 # a space-separated list of package names
packages+=(${KUBEPLUS_EXTRA_PACKAGES:-})
say() { printf '[node-packages] %s\n' "$*" >&2; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

case "${1:-}" in
  --check) say "missing Debian packages: ${missing[*]} (run make tools as root)"; exit 1 ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) say "unknown argument '$1' (try --help)"; exit 2 ;;
esac

command -v apt-get >/dev/null 2>&1 ||
  { say "error: ${missing[*]} are missing and this machine has no apt-get; install them with its package manager."; exit 1; }
[ "$(id -u)" -eq 0 ] ||
  { say "error: ${missing[*]} are missing; installing them needs root (sudo make tools)."; exit 1; }

log_dir="${KUBEPLUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeplus/tools}/logs"
mkdir -p "$log_dir"
if ! apt-cache policy "${missing[0]}" 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then
  say "apt-get update (the package lists do not offer ${missing[0]})"
  apt-get update -qq >"$log_dir/apt-update.log" 2>&1 || { say "error: apt-get update failed; see $log_dir/apt-update.log"; exit 1; }
fi
say "installing ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  >"$log_dir/node-packages.log" 2>&1 || { say "error: apt-get install failed; see $log_dir/node-packages.log"; tail -n 20 "$log_dir/node-packages.log" >&2; exit 1; }
say "installed ${missing[*]}"
