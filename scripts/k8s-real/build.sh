#!/usr/bin/env bash
# Builds a real Kubernetes control plane (kube-apiserver, kube-controller-manager, kube-scheduler)
# for the differential test suite, from Debian's `kubernetes` source package with Debian's Go.
# Only Debian's archive is used (no Docker, no downloads from elsewhere).
#
# Idempotent: when the three binaries and etcd are present it prints the bin folder and returns.
# Cache layout: $K8S_HOME (default ~/.cache/k8s-real) with bin/, src/, gopath/, gocache/, apt/.
# Prints the bin folder on stdout (last line); progress goes to stderr.
set -euo pipefail

K8S_HOME=${K8S_HOME:-$HOME/.cache/k8s-real}
BIN="$K8S_HOME/bin"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler)
SYSTEM_PACKAGES=(golang-go etcd-server rsync openssl)

log() { echo "k8s-real/build: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# Built = the three binaries, stamped with their version (bin/.version), and the system tools.
all_built() {
  for c in "${COMPONENTS[@]}"; do [ -x "$BIN/$c" ] || return 1; done
  [ -s "$BIN/.version" ] && command -v etcd >/dev/null && command -v openssl >/dev/null
}

# Root runs apt-get directly; others need passwordless sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else fail "need root or passwordless sudo to run: $*"; fi
}

install_system_packages() {
  command -v apt-get >/dev/null || fail "apt-get not found: this build needs a Debian/Ubuntu machine (packages: ${SYSTEM_PACKAGES[*]})"
  log "installing ${SYSTEM_PACKAGES[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2 || fail "apt-get update failed (no network to the Debian archive?)"
  as_root apt-get install -y -qq "${SYSTEM_PACKAGES[@]}" >&2 || fail "apt-get install ${SYSTEM_PACKAGES[*]} failed"
}

# Fetches the source package through a private apt configuration (a bookworm deb-src entry), so the
# machine's own sources.list stays untouched.
fetch_source() {
  local apt_dir="$K8S_HOME/apt"
  mkdir -p "$apt_dir/lists/partial" "$K8S_HOME/src"
  cat >"$apt_dir/bookworm-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists")
  log "fetching Debian's kubernetes source package"
  apt-get "${opts[@]}" update -qq >&2 || fail "apt-get update of the bookworm deb-src index failed"
  (cd "$K8S_HOME/src" && apt-get "${opts[@]}" source --download-only kubernetes >&2) ||
    fail "apt-get source kubernetes failed"
  local tarball
  tarball=$(first_match "$K8S_HOME"/src/kubernetes_*.orig.tar.gz)
  [ -n "$tarball" ] || fail "no kubernetes_*.orig.tar.gz in $K8S_HOME/src"
  tar -xzf "$tarball" -C "$K8S_HOME/src"
}

# first_match GLOB...: the first existing path, or nothing (an unmatched glob stays literal)
first_match() {
  local path
  for path in "$@"; do
    if [ -e "$path" ]; then echo "$path"; return; fi
  done
}

source_dir() { first_match "$K8S_HOME"/src/kubernetes-*/; }

# GOPATH mode: Debian's Go rejects the vendored module tree of 1.20 in module mode, so the source
# is linked into a GOPATH as k8s.io/kubernetes and built with GO111MODULE=off. Without git metadata
# the binaries would report version v0.0.0-master: the version is stamped in at link time from the
# source folder's name (kubernetes-1.20.2).
compile() {
  local src="$1" gopath="$K8S_HOME/gopath" version
  version=$(basename "$src")
  version=${version#kubernetes-}
  mkdir -p "$gopath/src/k8s.io" "$BIN"
  ln -sfn "$src" "$gopath/src/k8s.io/kubernetes"
  cd "$gopath/src/k8s.io/kubernetes"
  export GOCACHE="$K8S_HOME/gocache" GOFLAGS=
  if [ ! -s pkg/generated/openapi/zz_generated.openapi.go ]; then
    log "generating code (make generated_files; OpenAPI definitions are not in the source package)"
    make generated_files >&2 || fail "make generated_files failed"
  fi
  export GO111MODULE=off GOPATH="$gopath" CGO_ENABLED=0
  local pkg=k8s.io/kubernetes/vendor/k8s.io/component-base/version
  local minor=${version#*.}
  local ldflags="-X $pkg.gitVersion=v$version -X $pkg.gitMajor=${version%%.*} -X $pkg.gitMinor=${minor%%.*}"
  ldflags+=" -X $pkg.gitTreeState=archive"
  for c in "${COMPONENTS[@]}"; do
    log "building $c v$version"
    go build -ldflags "$ldflags" -o "$BIN/$c.partial" "./cmd/$c" >&2 || fail "go build ./cmd/$c failed"
    mv "$BIN/$c.partial" "$BIN/$c"
  done
  echo "v$version" >"$BIN/.version"
}

main() {
  if all_built; then echo "$BIN"; return; fi
  mkdir -p "$K8S_HOME"
  # One build at a time per cache: a second caller waits, then finds the binaries.
  exec 9>"$K8S_HOME/.build.lock"
  flock 9
  if all_built; then echo "$BIN"; return; fi
  local started=$SECONDS
  command -v go >/dev/null && command -v etcd >/dev/null && command -v rsync >/dev/null &&
    command -v openssl >/dev/null || install_system_packages
  local src
  src=$(source_dir)
  if [ -z "$src" ]; then fetch_source; src=$(source_dir); fi
  [ -n "$src" ] || fail "kubernetes source tree not found under $K8S_HOME/src"
  compile "$src"
  log "built in $((SECONDS - started)) s"
  echo "$BIN"
}

main "$@"
