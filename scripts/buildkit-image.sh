#!/usr/bin/env bash
# A standalone BuildKit for the local test environment: buildkitd and buildctl compiled from the
# BuildKit source that Debian's docker.io ships (golang-github-docker-docker-dev, unstable), put
# with Debian's runc into an image built FROM the local base image, pushed to the loopback
# registry as localhost:5000/buildkit:<version>, and run as a `docker-container` buildx builder.
#
#   bash scripts/buildkit-image.sh up       # build and push the image if missing; create/boot the builder
#   bash scripts/buildkit-image.sh status   # image and builder; non-zero exit if either is missing
#   bash scripts/buildkit-image.sh down     # remove the builder (the image stays in the registry)
#
# Environment:
#   ERT_REGISTRY_PORT, ERT_STATE_DIR, ERT_DEBIAN_MIRROR   as in test-env.sh
#   ERT_BUILDKIT_BUILDER    name of the builder (default ert-buildkit)
#   ERT_BUILDKIT_REFRESH=1  rebuild from unstable's current packages even if an image exists
#
# Why it looks like this: moby/buildkit images live on Docker Hub, which is unreachable. Debian
# builds dockerd from BuildKit's source and ships that source with the engine's; Debian's packaged
# Go libraries are the rest. Nothing is installed on the machine: apt runs with its own
# configuration and state under the state dir, only downloads, and the .debs are unpacked there
# (the Go toolchain and the sources need no newer libc; the binaries are static).
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REGISTRY_PORT="${ERT_REGISTRY_PORT:-5000}"
STATE_DIR="${ERT_STATE_DIR:-/var/tmp/ecs-release-train-env}"
[[ "$STATE_DIR" == /* ]] || STATE_DIR="$PWD/$STATE_DIR"
REGISTRY="localhost:${REGISTRY_PORT}"
REGISTRY_URL="http://127.0.0.1:${REGISTRY_PORT}"
BASE_IMAGE="${REGISTRY}/debian:bookworm"
BUILDER="${ERT_BUILDKIT_BUILDER:-ert-buildkit}"
MIRROR="${ERT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=unstable
WORK="${STATE_DIR}/buildkit"
APT_DIR="${WORK}/apt"
DEB_DIR="${WORK}/debs"
BIN_DIR="${WORK}/bin"
SRC_DIR="${WORK}/src"
IMAGE_FILE="${WORK}/image"
BUILD_LOG="${WORK}/build.log"
PATCHES=("${SCRIPTS_DIR}/buildkit/oci-worker-snapshotters.patch")
# Debian packages these BuildKit imports but docker.io does not build-depend on them (dockerd does
# not link the code that needs them; buildkitd does).
EXTRA_PACKAGES=(
  golang-github-docker-docker-dev
  golang-go
  golang-github-azure-azure-sdk-for-go-dev
  golang-github-containerd-accelerated-container-image-dev
  golang-github-package-url-packageurl-go-dev
  golang-github-pkg-profile-dev
  golang-github-spdx-tools-golang-dev
  golang-github-tonistiigi-go-archvariant-dev
)
# Not packaged in Debian, but kept in the engine's vendor/ of docker.io's own source tarball.
ENGINE_VENDORED=(github.com/moby/profiles github.com/tonistiigi/go-actions-cache)

log() { printf '[buildkit-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s; }
elapsed_since() { echo "$(($(now) - $1))s"; }

# The image tag carries what it was built from, plus a digest of this recipe, so a changed script
# or patch builds a new image instead of reusing one that no longer matches it.
recipe_digest() {
  cat "${BASH_SOURCE[0]}" "${PATCHES[@]}" | sha256sum | cut -c1-8
}

image_in_registry() {
  local ref=$1 repo tag
  repo=${ref#*/}
  tag=${repo##*:}
  repo=${repo%:*}
  curl -fsS -o /dev/null --max-time 5 -I \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "${REGISTRY_URL}/v2/${repo}/manifests/${tag}" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# Sources: a private apt for unstable, so the machine's own apt sources and packages stay as they are

private_apt() {
  mkdir -p "$APT_DIR"/{etc/apt.conf.d,etc/preferences.d,etc/sources.list.d,lists/partial,cache/archives/partial}
  : >"$APT_DIR/status"
  printf 'Types: deb deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$MIRROR" "$SUITE" >"$APT_DIR/etc/sources.list.d/${SUITE}.sources"
  # Empty dpkg status: apt resolves every dependency from unstable alone, as if on an empty system.
  # The mirror can be a frozen snapshot whose Release is past Valid-Until; the signature is still checked.
  cat >"$APT_DIR/apt.conf" <<EOF
Dir::Etc "$APT_DIR/etc";
Dir::Etc::sourcelist "/dev/null";
Dir::Etc::sourceparts "$APT_DIR/etc/sources.list.d";
Dir::State "$APT_DIR";
Dir::State::lists "$APT_DIR/lists";
Dir::State::status "$APT_DIR/status";
Dir::Cache "$APT_DIR/cache";
Debug::NoLocking "true";
APT::Install-Recommends "false";
Acquire::Check-Valid-Until "false";
Acquire::Languages "none";
EOF
  export APT_CONFIG="$APT_DIR/apt.conf"
  log "apt-get update ($SUITE, private index under $APT_DIR)"
  apt-get update -qq >>"$BUILD_LOG" 2>&1 || die "apt-get update of $SUITE failed (see $BUILD_LOG)"
}

# docker.io's build dependencies plus what buildkitd needs on top, Go packages only.
go_packages() {
  {
    apt-get -s -qq build-dep docker.io
    apt-get -s -qq install "${EXTRA_PACKAGES[@]}"
  } 2>>"$BUILD_LOG" | awk '$1 == "Inst" && $2 ~ /^golang-/ { gsub(/[()]/, "", $3); print $2 "=" $3 }' | sort -u
}

download_sources() {
  local pkgs t0 uri
  t0=$(now)
  mapfile -t pkgs < <(go_packages)
  [[ ${#pkgs[@]} -gt 100 ]] || die "resolved only ${#pkgs[@]} Go packages from $SUITE (see $BUILD_LOG)"
  rm -rf "$DEB_DIR"
  mkdir -p "$DEB_DIR"
  log "downloading ${#pkgs[@]} Go source packages and the Go toolchain from $SUITE"
  (cd "$DEB_DIR" && apt-get download -qq "${pkgs[@]}" >>"$BUILD_LOG" 2>&1) || die "apt-get download failed (see $BUILD_LOG)"
  # The engine's own tarball (not the buildkit component, which the mirror may lack) for the
  # modules Debian keeps vendored and for the BuildKit version the engine pins.
  uri=$(apt-get source --print-uris -qq docker.io 2>>"$BUILD_LOG" | tr -d "'" | awk '$2 ~ /^docker\.io_[^-]*\.orig\.tar\.xz$/ { print $1; exit }')
  [[ -n "$uri" ]] || die "no docker.io orig tarball listed for $SUITE"
  curl -fsS --retry 3 -o "$DEB_DIR/engine.orig.tar.xz" "$uri" || die "could not download $uri"
  log "downloaded in $(elapsed_since "$t0")"
}

unpack_sources() {
  local root="$SRC_DIR/root" gopath="$SRC_DIR/gopath" v deb p
  rm -rf "$SRC_DIR"
  mkdir -p "$root" "$gopath/src/github.com/moby"
  for deb in "$DEB_DIR"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  # Debian installs BuildKit without its go.mod. Go's GOPATH mode maps imports like
  # github.com/coreos/go-systemd/v22 to the unversioned directory only for code that has a go.mod
  # (minimal module compatibility), so build from a copy that has one.
  cp -a "$root/usr/share/gocode/src/github.com/moby/buildkit" "$gopath/src/github.com/moby/buildkit"
  printf 'module github.com/moby/buildkit\n\ngo 1.23\n' >"$gopath/src/github.com/moby/buildkit/go.mod"
  for p in "${PATCHES[@]}"; do patch -s -p1 -d "$gopath/src/github.com/moby/buildkit" <"$p"; done
  tar -xJf "$DEB_DIR/engine.orig.tar.xz" -C "$SRC_DIR" --wildcards \
    "*/engine/vendor.mod" "${ENGINE_VENDORED[@]/#/*/engine/vendor/}"
  for v in "${ENGINE_VENDORED[@]}"; do
    mkdir -p "$gopath/src/$(dirname "$v")"
    cp -a "$SRC_DIR"/*/engine/vendor/"$v" "$gopath/src/$v"
  done
}

# ---------------------------------------------------------------------------------------------
# Build

go_env() {
  local goroot
  goroot=$(readlink -f "$SRC_DIR/root/usr/lib/go")
  [[ -x "$goroot/bin/go" ]] || die "no Go toolchain unpacked under $SRC_DIR/root/usr/lib/go"
  env GOROOT="$goroot" PATH="$goroot/bin:$PATH" GO111MODULE=off GOTOOLCHAIN=local GOPROXY=off GOFLAGS= \
    GOPATH="$SRC_DIR/gopath:$SRC_DIR/root/usr/share/gocode" GOCACHE="$WORK/gocache" CGO_ENABLED=0 "$@"
}

# The machine is shared (CI runners, other jobs): one compile at a time, at low priority.
compile() {
  local version=$1 t0 cmd
  t0=$(now)
  rm -rf "$BIN_DIR"
  mkdir -p "$BIN_DIR"
  log "compiling buildkitd and buildctl $version with $(go_env go version | cut -d' ' -f3) (log: $BUILD_LOG)"
  for cmd in buildkitd buildctl; do
    go_env nice -n 10 go build -p 1 -trimpath -tags 'osusergo netgo static_build seccomp' \
      -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$version -X github.com/moby/buildkit/version.Revision=debian" \
      -o "$BIN_DIR/$cmd" "github.com/moby/buildkit/cmd/$cmd" >>"$BUILD_LOG" 2>&1 ||
      { tail -n 30 "$BUILD_LOG" >&2; die "go build of $cmd failed"; }
  done
  "$BIN_DIR/buildkitd" --version >&2
  log "compiled in $(elapsed_since "$t0")"
}

build_image() {
  local ref=$1 ctx="$WORK/context" t0
  t0=$(now)
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$BIN_DIR/buildkitd" "$BIN_DIR/buildctl" "$ctx/"
  # runc is the OCI worker's runtime; pigz speeds up gzip layers; ca-certificates for TLS registries.
  cat >"$ctx/Dockerfile" <<'EOF'
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc pigz ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/buildkit /var/lib/buildkit
COPY buildkitd buildctl /usr/bin/
VOLUME /var/lib/buildkit
ENTRYPOINT ["buildkitd"]
EOF
  log "building $ref FROM $BASE_IMAGE"
  # The default (docker-driver) builder builds and pushes it: the container builder may not exist yet.
  docker buildx build --builder default --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --label "org.opencontainers.image.source=debian:golang-github-docker-docker-dev" \
    -t "$ref" --push "$ctx" >>"$BUILD_LOG" 2>&1 || { tail -n 30 "$BUILD_LOG" >&2; die "image build failed"; }
  image_in_registry "$ref" || die "pushed $ref but the registry does not list it"
  rm -rf "$ctx"
  log "image built and pushed in $(elapsed_since "$t0")"
}

build_all() {
  local t0 bk_version deb_version ref
  t0=$(now)
  mkdir -p "$WORK"
  : >"$BUILD_LOG"
  private_apt
  deb_version=$(apt-cache show golang-github-docker-docker-dev 2>/dev/null | sed -n 's/^Version: //p' | head -1)
  [[ -n "$deb_version" ]] || die "golang-github-docker-docker-dev is not in $SUITE"
  # Binaries from an earlier run are reused when Debian's version has not moved.
  if [[ -x "$BIN_DIR/buildkitd" && -x "$BIN_DIR/buildctl" && "$(cat "$BIN_DIR/debian-version" 2>/dev/null)" == "$deb_version" ]]; then
    bk_version=$(cat "$BIN_DIR/buildkit-version")
    log "reusing buildkitd $bk_version compiled from docker.io $deb_version"
  else
    download_sources
    unpack_sources
    bk_version=$(awk '$1 == "github.com/moby/buildkit" { print $2; exit }' "$SRC_DIR"/*/engine/vendor.mod)
    [[ -n "$bk_version" ]] || die "no github.com/moby/buildkit version in the engine's vendor.mod"
    compile "$bk_version"
    echo "$deb_version" >"$BIN_DIR/debian-version"
    echo "$bk_version" >"$BIN_DIR/buildkit-version"
    # 2.5 GB of unpacked sources; the .debs and Go's build cache stay for a rebuild.
    rm -rf "$SRC_DIR"
  fi
  ref="${REGISTRY}/buildkit:${bk_version}-debian${deb_version//[^A-Za-z0-9_.-]/-}-r$(recipe_digest)"
  image_in_registry "$ref" || build_image "$ref"
  echo "$ref" >"$IMAGE_FILE"
  log "buildkit image $ref ready in $(elapsed_since "$t0")"
}

# The image of the last build, if the registry still has it and this recipe made it.
current_image() {
  local ref
  ref=$(cat "$IMAGE_FILE" 2>/dev/null) || return 1
  [[ "$ref" == *"-r$(recipe_digest)" ]] || return 1
  image_in_registry "$ref" || return 1
  echo "$ref"
}

# ---------------------------------------------------------------------------------------------
# Builder

builder_image() {
  docker buildx inspect "$BUILDER" 2>/dev/null | sed -n 's/.*image="\([^"]*\)".*/\1/p' | head -1
}

ensure_builder() {
  local ref=$1 cfg="$WORK/buildkitd.toml" t0
  t0=$(now)
  if docker buildx inspect "$BUILDER" >/dev/null 2>&1; then
    if [[ "$(builder_image)" == "$ref" ]]; then
      docker buildx inspect --bootstrap "$BUILDER" >/dev/null 2>&1 || die "builder $BUILDER did not start"
      log "builder $BUILDER running $ref"
      return
    fi
    log "builder $BUILDER runs another image; recreating it"
    docker buildx rm -f "$BUILDER" >/dev/null 2>&1 || true
  fi
  # network=host: builds reach the loopback registry and cache services as the runner would
  # reach its own. The loopback registry speaks plain HTTP.
  printf '[registry."%s"]\n  http = true\n\n[registry."127.0.0.1:%s"]\n  http = true\n' "$REGISTRY" "$REGISTRY_PORT" >"$cfg"
  docker buildx create --name "$BUILDER" --driver docker-container \
    --driver-opt "image=${ref},network=host" --buildkitd-config "$cfg" \
    --buildkitd-flags '--allow-insecure-entitlement network.host' --bootstrap >/dev/null 2>>"$BUILD_LOG" ||
    { tail -n 20 "$BUILD_LOG" >&2; die "could not create builder $BUILDER"; }
  log "builder $BUILDER created and running in $(elapsed_since "$t0")"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_up() {
  local ref t0
  t0=$(now)
  command -v docker >/dev/null 2>&1 || die "docker is not installed; run scripts/test-env.sh up"
  curl -fsS -o /dev/null --max-time 3 "${REGISTRY_URL}/v2/" || die "no registry at $REGISTRY_URL"
  if [[ "${ERT_BUILDKIT_REFRESH:-0}" != 1 ]] && ref=$(current_image); then
    log "image $ref already in the registry"
  else
    build_all
    ref=$(cat "$IMAGE_FILE")
  fi
  ensure_builder "$ref"
  log "up done in $(elapsed_since "$t0")"
}

cmd_status() {
  local ref status
  if ref=$(current_image); then echo "buildkit image: $ref"; else echo "buildkit image: MISSING"; fi
  status=$(docker buildx inspect "$BUILDER" 2>/dev/null | awk '$1 == "Status:" { print $2; exit }')
  echo "builder:        $BUILDER (docker-container) ${status:-MISSING}"
  [[ -n "$ref" && "$status" == running ]]
}

cmd_down() {
  docker buildx rm -f "$BUILDER" >/dev/null 2>&1 && log "removed builder $BUILDER" || log "no builder $BUILDER"
}

main() {
  local cmd=${1:-}
  case "$cmd" in
    up | status | down) ;;
    -h | --help | help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; return 0 ;;
    *) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; return 2 ;;
  esac
  if [[ $cmd != status ]]; then
    mkdir -p "$WORK"
    # Serialise with another up of this script (test-env.sh holds its own lock on fd 9).
    exec 8>"$WORK/lock"
    flock 8
  fi
  "cmd_$cmd"
}

main "$@"
