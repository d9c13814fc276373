#!/usr/bin/env bash
# Local Docker test environment for ecs-release-train: Docker Engine 28.5 with BuildKit/buildx, run
# twice side by side (one daemon on the containerd image store, one on the classic store as GitHub's
# ubuntu-24.04 runners ship it), a plain-HTTP registry on loopback, and a Debian base image in it.
#
#   default socket  /var/run/docker.sock          containerd image store
#   classic socket  /var/run/docker-classic.sock  classic store (DOCKER_HOST selects it; see
#                                                 ERT_CLASSIC_DOCKER_HOST in test/support/docker-env.ts)
#
#   bash scripts/test-env.sh up       # install/start whatever is missing, then print status
#   bash scripts/test-env.sh status   # print status; non-zero exit if anything is down
#   bash scripts/test-env.sh down     # stop the dockerd and registry this script started
#
# Environment:
#   ERT_REGISTRY_PORT   registry port on 127.0.0.1 (default 5000)
#   ERT_STATE_DIR       logs, pid files, registry storage, rootfs cache
#                       (default /var/tmp/ecs-release-train-env)
#   ERT_DEBIAN_MIRROR   Debian mirror URI (default: the one apt already uses)
#   ERT_CLASSIC_ENGINE  0 to skip the classic-store daemon (default 1)
#   ERT_BUILDKIT        0 to skip the BuildKit image and its container and remote builders (default 1)
#   ERT_BUILDKIT_REMOTE_PORT  port of the remote builder on 127.0.0.1 (default 1234)
#
# Why it looks like this: CI machines reach only the Debian mirror and the npm registry (no Docker
# Hub, no download.docker.com), and do not run systemd. So everything comes from Debian packages,
# daemons are started by hand in the background, and the base image is built with debootstrap.
set -euo pipefail

REGISTRY_PORT="${ERT_REGISTRY_PORT:-5000}"
STATE_DIR="${ERT_STATE_DIR:-/var/tmp/ecs-release-train-env}"
# Daemons run from / and outlive this shell, so every path handed to them must be absolute.
[[ "$STATE_DIR" == /* ]] || STATE_DIR="$PWD/$STATE_DIR"
REGISTRY_URL="http://127.0.0.1:${REGISTRY_PORT}"
BASE_SUITE=bookworm
BASE_IMAGE="localhost:${REGISTRY_PORT}/debian:${BASE_SUITE}"
ROOTFS_TAR="${STATE_DIR}/debian-${BASE_SUITE}-minbase.tar"
DOCKERD_PID="${STATE_DIR}/dockerd.pid"
DOCKERD_LOG="${STATE_DIR}/dockerd.log"
REGISTRY_PID="${STATE_DIR}/registry.pid"
REGISTRY_LOG="${STATE_DIR}/registry.log"
REGISTRY_CONFIG="${STATE_DIR}/registry/config.yml"
REGISTRY_DATA="${STATE_DIR}/registry/data"
# The engine GitHub's runners ship today (ubuntu-24.04: Docker 28, buildx 0.3x, containerd 2.x). Debian
# unstable is the mirror's closest match; each package is pinned to its series below.
DOCKER_SERIES=28.5
BUILDX_SERIES=0.29
CONTAINERD_SERIES=2.1
# The classic-store daemon beside the default one: own data root, exec root (and so its own managed
# containerd), socket, pid file and bridge, so neither daemon sees the other's images or networks.
CLASSIC_ENGINE="${ERT_CLASSIC_ENGINE:-1}"
CLASSIC_SOCK=/var/run/docker-classic.sock
CLASSIC_HOST="unix://${CLASSIC_SOCK}"
CLASSIC_DATA_ROOT=/var/lib/docker-classic
CLASSIC_EXEC_ROOT=/var/run/docker-classic
CLASSIC_BRIDGE=docker-classic
CLASSIC_BRIDGE_CIDR=172.31.0.1/16
CLASSIC_PID="${STATE_DIR}/dockerd-classic.pid"
CLASSIC_LOG="${STATE_DIR}/dockerd-classic.log"
CLASSIC_CONFIG="${STATE_DIR}/classic/daemon.json"
MANIFEST_ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'

log() { printf '[test-env] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now() { date +%s; }
elapsed_since() { echo "$(( $(now) - $1 ))s"; }

# ---------------------------------------------------------------------------------------------
# Small helpers

# `docker info --format` exits 0 with an empty answer when the daemon is down (CLI 26), so insist on
# a server version; the timeout guards against a socket whose daemon hangs.
docker_up() { [[ -n "$(server_version "${1:-}")" ]]; }
# The daemon's version, or nothing when it does not answer. $1: a DOCKER_HOST, empty for the default.
server_version() {
  DOCKER_HOST="${1:-unix:///var/run/docker.sock}" timeout 15 docker version --format '{{.Server.Version}}' 2>/dev/null || true
}
registry_up() { curl -fsS -o /dev/null --max-time 3 "${REGISTRY_URL}/v2/" 2>/dev/null; }
# The base image's version: bump it when the image's content changes, so `up` replaces an older one.
# 2: the official image's container config for dpkg and apt (see base_image_config).
BASE_IMAGE_VERSION=2
BASE_IMAGE_LABEL=org.ecs-release-train.base-image

# The label of the base image in the registry (an index's first manifest), or nothing.
base_image_version() {
  local url="${REGISTRY_URL}/v2/debian" manifest digest
  manifest=$(curl -fsS --max-time 5 -H "Accept: ${MANIFEST_ACCEPT}" "$url/manifests/${BASE_SUITE}" 2>/dev/null) || return 0
  digest=$(jq -r '.manifests[0].digest // empty' <<<"$manifest" 2>/dev/null || true)
  if [[ -n "$digest" ]]; then
    manifest=$(curl -fsS --max-time 5 -H "Accept: ${MANIFEST_ACCEPT}" "$url/manifests/$digest" 2>/dev/null) || return 0
  fi
  digest=$(jq -r '.config.digest // empty' <<<"$manifest" 2>/dev/null || true)
  [[ -n "$digest" ]] || return 0
  curl -fsS --max-time 5 "$url/blobs/$digest" 2>/dev/null |
    jq -r --arg l "$BASE_IMAGE_LABEL" '.config.Labels[$l] // empty' 2>/dev/null || true
}

base_image_present() {
  [[ "$(base_image_version)" == "$BASE_IMAGE_VERSION" ]]
}

# What debian:bookworm from Docker Hub carries beyond debootstrap's minbase (the minimizing
# config of its image build): dpkg's force-unsafe-io (no fsync per unpacked file) and apt's
# docker-clean, which deletes downloaded .debs, so a Dockerfile that keeps them for a cache mount
# must remove it, as the fixture does. Without them the local builds would not meet what builds
# on the real image meet.
base_image_config() {
  local dir=$1
  mkdir -p "$dir/etc/dpkg/dpkg.cfg.d" "$dir/etc/apt/apt.conf.d"
  echo 'force-unsafe-io' >"$dir/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$dir/etc/apt/apt.conf.d/docker-autoremove-suggests"
  echo 'Acquire::GzipIndexes "true";' >"$dir/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
}

pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# "major.minor" of an installed program's version line, or nothing.
installed_series() {
  command -v "$1" >/dev/null 2>&1 || return 0
  "$@" 2>/dev/null | grep -o -m1 '[0-9][0-9]*\.[0-9][0-9]*\.[0-9]' | head -1 | sed 's/\.[0-9]$//'
}
dockerd_series() { installed_series dockerd --version; }

# Write a file only when its content changes, so re-runs do not touch mtimes or trigger apt work.
# Returns 0 if the file was (re)written, 1 if it was already up to date.
write_if_changed() {
  local path=$1 content=$2
  if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then return 1; fi
  mkdir -p "$(dirname "$path")"
  printf '%s\n' "$content" >"$path.tmp.$$"
  mv -f "$path.tmp.$$" "$path"
  return 0
}

# A pid file is trusted only if that pid is still the program we expect; pids get reused.
pid_alive() {
  local pidfile=$1 name=$2 pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name"
}

stop_pidfile() {
  local pidfile=$1 name=$2 pid i
  if ! pid_alive "$pidfile" "$name"; then
    rm -f "$pidfile"
    return 1
  fi
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  # dockerd stops its containers and its managed containerd before exiting; give it time.
  for ((i = 0; i < 60; i++)); do
    [[ -d "/proc/$pid" ]] || break
    sleep 0.5
  done
  if [[ -d "/proc/$pid" ]]; then
    log "$name did not exit after 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Start a daemon detached from this script: its own session (so CI's process-group cleanup and a
# closing terminal do not kill it), stdin from /dev/null and every output to the log (so a CI step
# does not hang waiting on a pipe the daemon still holds), and without our lock fd.
spawn() {
  local logfile=$1; shift
  cd / # do not pin the caller's working directory (a CI checkout) for the daemon's lifetime
  setsid nohup "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  echo $!
}

# ---------------------------------------------------------------------------------------------
# Debian / apt

# shellcheck source=/dev/null
os_id() { (. /etc/os-release 2>/dev/null && echo "${ID:-}"); }
debian_major() { sed -n 's/^\([0-9][0-9]*\)\..*/\1/p; s/^\([0-9][0-9]*\)$/\1/p' /etc/debian_version 2>/dev/null | head -1; }

# The mirror apt already uses for the main suite: the only one reachable on CI machines. Prefer the
# entry for this release's codename; otherwise take the first non-security entry whose suite has
# no "-updates"-style suffix (the codename in os-release may not match the sources).
debian_mirror() {
  if [[ -n "${ERT_DEBIAN_MIRROR:-}" ]]; then echo "$ERT_DEBIAN_MIRROR"; return; fi
  local codename uri=""
  # shellcheck source=/dev/null
  codename=$( (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") )
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk -v c="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          low = tolower(line)
          if (low ~ /^uris:/)   { sub(/^[^:]*:[ \t]*/, "", line); uris = line }
          if (low ~ /^suites:/) { sub(/^[^:]*:[ \t]*/, "", line); suites = line }
        }
        split(uris, u, /[ \t]+/)
        n = split(suites, s, /[ \t]+/)
        for (j = 1; j <= n; j++) {
          if (s[j] == c && exact == "") { exact = u[1] }
          if (fallback == "" && s[j] !~ /-/ && u[1] !~ /security/) { fallback = u[1] }
        }
      }
      END { print (exact != "" ? exact : fallback) }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri=$(awk -v c="$codename" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == c && exact == "") exact = $i
        if ($(i + 1) !~ /-/ && $i !~ /security/ && fallback == "") fallback = $i
      }
      END { print (exact != "" ? exact : fallback) }' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

APT_INDEX_FRESH=0
apt_update_once() {
  if [[ $APT_INDEX_FRESH -eq 0 ]]; then
    log "apt-get update"
    apt-get update -qq
    APT_INDEX_FRESH=1
  fi
}

# Package maintainer scripts would try to start services (dockerd, the packaged registry with its
# htpasswd config on :5000). We start our own, so block service starts while apt runs, unless the
# machine already has a policy-rc.d (then it is the machine owner's call).
POLICY_RC=/usr/sbin/policy-rc.d
OWN_POLICY_RC=0
trap '[[ $OWN_POLICY_RC -eq 1 ]] && rm -f "$POLICY_RC"' EXIT
apt_install() {
  local rc=0
  if [[ ! -e "$POLICY_RC" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
    chmod +x "$POLICY_RC"
    OWN_POLICY_RC=1
  fi
  apt_update_once
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" || rc=$?
  if [[ $OWN_POLICY_RC -eq 1 ]]; then rm -f "$POLICY_RC"; OWN_POLICY_RC=0; fi
  return $rc
}

# ---------------------------------------------------------------------------------------------
# Step 1: Docker Engine

docker_packages_ok() {
  [[ "$(dockerd_series)" == "$DOCKER_SERIES" ]] \
    && [[ "$(installed_series docker buildx version)" == "$BUILDX_SERIES" ]] \
    && [[ "$(installed_series containerd --version)" == "$CONTAINERD_SERIES" ]]
}

# Bookworm's docker.io (20.10) is far from the runner's engine; Debian unstable carries docker.io
# 28.5.2, docker-buildx 0.29.1 and containerd 2.1.9, whose binaries need only libc6 >= 2.34, which
# bookworm's 2.36 satisfies, so no libc upgrade. Two deliberate choices keep the rest of the machine
# on bookworm:
# - unstable gets pin 100, and only the named packages get a higher pin, each to its series
#   (`Pin: version`), so nothing else is ever taken from unstable and the engine does not drift to
#   29 when unstable moves on;
# - runc stays bookworm's 1.1.5: unstable's runc 1.3 needs libc6 >= 2.38, and pulling that libc6
#   turns the machine into a Debian 13/sid hybrid (libc6 Breaks on base-files). containerd 2.1 and
#   dockerd 28.5 run fine on runc 1.1. docker.io also depends on tini-static (unstable, static).
# Verified on bookworm 12.11: apt installs exactly these five packages and removes only `tini`.
# Never install with `-t unstable`: -t makes unstable the preferred release for every dependency.
# Check-Valid-Until: no because these machines' mirror can be a dated snapshot, whose unstable
# Release file (valid for a week, unlike stable's) has then expired; the signature is still checked.
UNSTABLE_SOURCES=/etc/apt/sources.list.d/ecs-release-train-unstable.sources
DOCKER_PREFERENCES=/etc/apt/preferences.d/ecs-release-train-docker
DOCKER_PACKAGES=(docker.io docker-cli docker-buildx containerd tini-static)
add_docker_suite() {
  [[ "$(os_id)" == debian ]] || return 0
  if write_if_changed "$UNSTABLE_SOURCES" "Types: deb
URIs: $(debian_mirror)
Suites: unstable
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no"; then
    APT_INDEX_FRESH=0
    log "added Debian unstable (pin 100; docker packages pinned by name) for docker packages"
  fi
  # Specific records first: apt takes the first record that matches a package.
  write_if_changed "$DOCKER_PREFERENCES" "Package: docker.io docker-cli
Pin: version ${DOCKER_SERIES}.*
Pin-Priority: 990

Package: docker-buildx
Pin: version ${BUILDX_SERIES}.*
Pin-Priority: 990

Package: containerd
Pin: version ${CONTAINERD_SERIES}.*
Pin-Priority: 990

Package: tini-static
Pin: release n=sid
Pin-Priority: 990

Package: *
Pin: release n=sid
Pin-Priority: 100" || true
  # The trixie suite an older version of this script added (docker 26) is no longer needed.
  if [[ -f /etc/apt/sources.list.d/trixie.sources ]] && grep -qx 'Suites: trixie' /etc/apt/sources.list.d/trixie.sources \
    && [[ -f /etc/apt/preferences.d/trixie-low ]]; then
    rm -f /etc/apt/sources.list.d/trixie.sources /etc/apt/preferences.d/trixie-low
    APT_INDEX_FRESH=0
    log "removed the trixie suite an older test-env.sh added"
  fi
}

# Fails with the reason when the mirror no longer offers a pinned series (unstable moves on).
check_docker_candidates() {
  local pkg series candidate
  for pkg in docker.io docker-buildx containerd; do
    case $pkg in
      docker.io) series=$DOCKER_SERIES ;;
      docker-buildx) series=$BUILDX_SERIES ;;
      containerd) series=$CONTAINERD_SERIES ;;
    esac
    candidate=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    [[ "$candidate" == "$series".* ]] \
      || die "apt offers $pkg '${candidate:-none}', not $series.x: the mirror's unstable suite moved on; update the series in $0"
  done
}

install_docker_packages() {
  if docker_packages_ok; then
    log "docker engine $(dockerd_series), buildx $BUILDX_SERIES, containerd $CONTAINERD_SERIES already installed"
    return
  fi
  [[ "$(os_id)" == debian ]] || log "WARNING: not Debian; trying the distribution's docker.io anyway"
  local t0
  t0=$(now)
  add_docker_suite
  apt_update_once
  check_docker_candidates
  # Without recommends: they would pull apparmor, git, needrestart, ... from unstable.
  apt_install "${DOCKER_PACKAGES[@]}"
  docker_packages_ok || die "after install: dockerd $(dockerd_series), buildx $(installed_series docker buildx version), containerd $(installed_series containerd --version); wanted $DOCKER_SERIES / $BUILDX_SERIES / $CONTAINERD_SERIES"
  log "docker packages installed in $(elapsed_since "$t0")"
}

# The containerd image store is what lets the default (docker-driver) builder export registry
# cache with mode=max; the classic overlay2 store only supports inline cache.
configure_daemon_json() {
  local f=/etc/docker/daemon.json merged
  if [[ -s "$f" ]]; then
    merged=$(jq '.features["containerd-snapshotter"] = true' "$f") \
      || die "$f is not valid JSON; fix or remove it"
  else
    merged='{"features":{"containerd-snapshotter":true}}'
  fi
  if [[ -s "$f" ]] && [[ "$(jq -S . "$f")" == "$(jq -S . <<<"$merged")" ]]; then return; fi
  write_if_changed "$f" "$merged" && log "wrote $f"
}

# Starts a dockerd and waits until it answers. $1 label, $2 log, $3 DOCKER_HOST ('' = default),
# $4 pid file, rest: extra dockerd flags.
start_dockerd() {
  local label=$1 logfile=$2 host=$3 pidfile=$4 t0 pid i
  shift 4
  t0=$(now)
  log "starting $label dockerd (log: $logfile)"
  # No --containerd flag: dockerd then runs its own containerd, which is what we want without
  # systemd (the packaged containerd.service is never started here).
  pid=$(spawn "$logfile" dockerd --pidfile "$pidfile" "$@")
  for ((i = 0; i < 120; i++)); do
    if docker_up "$host"; then
      log "$label dockerd answering after $(elapsed_since "$t0")"
      return
    fi
    if [[ ! -d "/proc/$pid" ]]; then break; fi
    sleep 0.5
  done
  log "$label dockerd did not come up; last lines of $logfile:"
  tail -n 40 "$logfile" >&2 || true
  die "$label dockerd failed to start"
}

# An engine of ours that runs an older version is stopped so the new packages can replace it (that
# restarts it: other users of the engine see a short outage). One we did not start is left alone.
stop_outdated() {
  local label=$1 host=$2 pidfile=$3 v
  v=$(server_version "$host")
  [[ -z "$v" || "$v" == "$DOCKER_SERIES".* ]] && return 0
  if pid_alive "$pidfile" dockerd; then
    log "$label dockerd runs $v, not $DOCKER_SERIES: stopping it to upgrade"
    stop_pidfile "$pidfile" dockerd || true
  else
    log "WARNING: $label daemon runs $v, not $DOCKER_SERIES, and was not started by this script; left alone"
  fi
}

ensure_docker() {
  stop_outdated default "" "$DOCKERD_PID"
  [[ $CLASSIC_ENGINE == 1 ]] && stop_outdated classic "$CLASSIC_HOST" "$CLASSIC_PID"
  if docker_up; then
    log "default docker daemon already answering; not touching it"
    if ! docker info --format '{{json .DriverStatus}}' 2>/dev/null | grep -q 'io.containerd.snapshotter'; then
      log "WARNING: the default daemon does not use the containerd image store;" \
        "registry cache export (--cache-to type=registry) will fail with the docker driver"
    fi
  else
    install_docker_packages
    configure_daemon_json
    start_dockerd default "$DOCKERD_LOG" "" "$DOCKERD_PID"
  fi
  [[ $CLASSIC_ENGINE == 1 ]] && ensure_classic_docker
  return 0
}

# The classic store as the runner has it: containerd snapshotter off. Its own bridge, because two
# daemons cannot share docker0; each daemon adds its own NAT rules for its own bridge.
ensure_classic_docker() {
  if docker_up "$CLASSIC_HOST"; then
    log "classic docker daemon already answering on $CLASSIC_HOST; not touching it"
    return
  fi
  install_docker_packages
  if ! ip link show "$CLASSIC_BRIDGE" >/dev/null 2>&1; then
    ip link add name "$CLASSIC_BRIDGE" type bridge
    ip addr add "$CLASSIC_BRIDGE_CIDR" dev "$CLASSIC_BRIDGE"
    ip link set "$CLASSIC_BRIDGE" up
  fi
  write_if_changed "$CLASSIC_CONFIG" '{"features":{"containerd-snapshotter":false}}' || true
  mkdir -p "$CLASSIC_DATA_ROOT" "$CLASSIC_EXEC_ROOT"
  start_dockerd classic "$CLASSIC_LOG" "$CLASSIC_HOST" "$CLASSIC_PID" \
    --config-file "$CLASSIC_CONFIG" --host "$CLASSIC_HOST" --data-root "$CLASSIC_DATA_ROOT" \
    --exec-root "$CLASSIC_EXEC_ROOT" --bridge "$CLASSIC_BRIDGE"
}

# ---------------------------------------------------------------------------------------------
# Step 2: tools that come from bookworm itself

ensure_tools() {
  local missing=() p
  for p in docker-registry debootstrap jq curl; do
    pkg_installed "$p" || command -v "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  # `ip` makes the classic daemon's bridge.
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  [[ ${#missing[@]} -eq 0 ]] && return
  apt_install "${missing[@]}"
  # On a systemd machine the package enables its own registry (htpasswd auth, also on :5000),
  # which would take our port at the next boot.
  if [[ " ${missing[*]} " == *" docker-registry "* && -d /run/systemd/system ]]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------------------------------------
# Step 3: registry

ensure_registry() {
  if registry_up; then
    log "registry already answering on $REGISTRY_URL"
    return
  fi
  command -v docker-registry >/dev/null 2>&1 || ensure_tools
  # Own config because the packaged /etc/docker/registry/config.yml requires htpasswd auth.
  mkdir -p "$REGISTRY_DATA"
  write_if_changed "$REGISTRY_CONFIG" "version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: ${REGISTRY_DATA}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${REGISTRY_PORT}" || true

  # A stale registry of ours (hung, or from an older config) would hold the port.
  stop_pidfile "$REGISTRY_PID" docker-registry || true

  local t0 pid i
  t0=$(now)
  log "starting registry on $REGISTRY_URL (log: $REGISTRY_LOG)"
  pid=$(spawn "$REGISTRY_LOG" docker-registry serve "$REGISTRY_CONFIG")
  echo "$pid" >"$REGISTRY_PID"
  for ((i = 0; i < 60; i++)); do
    if registry_up; then
      log "registry answering after $(elapsed_since "$t0")"
      return
    fi
    [[ -d "/proc/$pid" ]] || break
    sleep 0.5
  done
  log "registry did not come up; last lines of $REGISTRY_LOG:"
  tail -n 40 "$REGISTRY_LOG" >&2 || true
  die "registry failed to start"
}

# ---------------------------------------------------------------------------------------------
# Step 4: base image (Docker Hub is unreachable, so build debian:bookworm from the mirror)

build_rootfs_tar() {
  local mirror rootfs t0
  mirror=$(debian_mirror)
  rootfs="${STATE_DIR}/rootfs.tmp"
  rm -rf "$rootfs" "$ROOTFS_TAR.tmp"
  t0=$(now)
  log "debootstrap --variant=minbase $BASE_SUITE from $mirror (log: $STATE_DIR/debootstrap.log)"
  if ! debootstrap --variant=minbase "$BASE_SUITE" "$rootfs" "$mirror" >"$STATE_DIR/debootstrap.log" 2>&1; then
    tail -n 30 "$STATE_DIR/debootstrap.log" >&2 || true
    [[ -f "$rootfs/debootstrap/debootstrap.log" ]] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    rm -rf "$rootfs"
    die "debootstrap failed"
  fi
  log "debootstrap done in $(elapsed_since "$t0")"
  # Downloaded .debs and apt lists are dead weight in every pull; the host's resolv.conf would
  # be baked in (Docker and BuildKit supply their own at run time).
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/debootstrap
  : >"$rootfs/etc/resolv.conf"
  tar --numeric-owner -C "$rootfs" -cf "$ROOTFS_TAR.tmp" .
  mv -f "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$rootfs"
}

ensure_base_image() {
  if base_image_present; then
    log "base image $BASE_IMAGE (version $BASE_IMAGE_VERSION) already in the registry"
    return
  fi
  command -v debootstrap >/dev/null 2>&1 || ensure_tools
  # The tarball outlives the registry data, so a wiped registry costs an import, not a debootstrap.
  [[ -s "$ROOTFS_TAR" ]] || build_rootfs_tar
  local t0 config
  t0=$(now)
  log "importing $ROOTFS_TAR with the official image's dpkg/apt config as $BASE_IMAGE (version $BASE_IMAGE_VERSION)"
  # The cached minbase tarball stays as debootstrap made it; the config is appended to a copy.
  config=$(mktemp -d)
  base_image_config "$config"
  cp "$ROOTFS_TAR" "$ROOTFS_TAR.import"
  tar --numeric-owner --owner=0 --group=0 -C "$config" -rf "$ROOTFS_TAR.import" \
    ./etc/dpkg/dpkg.cfg.d/docker-apt-speedup ./etc/apt/apt.conf.d/docker-clean \
    ./etc/apt/apt.conf.d/docker-autoremove-suggests ./etc/apt/apt.conf.d/docker-gzip-indexes \
    ./etc/apt/apt.conf.d/docker-no-languages
  rm -rf "$config"
  docker import --change 'CMD ["/bin/bash"]' --change "LABEL ${BASE_IMAGE_LABEL}=${BASE_IMAGE_VERSION}" \
    "$ROOTFS_TAR.import" "$BASE_IMAGE" >/dev/null
  rm -f "$ROOTFS_TAR.import"
  docker push -q "$BASE_IMAGE" >/dev/null
  base_image_present || die "pushed $BASE_IMAGE but the registry does not have it at version $BASE_IMAGE_VERSION"
  log "base image imported and pushed in $(elapsed_since "$t0")"
}

# ---------------------------------------------------------------------------------------------
# Commands

# One engine's status lines; returns 1 if it is down or lacks buildx.
engine_status() {
  local label=$1 host=$2 want_store=$3 v
  if ! docker_up "$host"; then
    printf '%-15s DOWN (%s)\n' "$label:" "$host"
    return 1
  fi
  v=$(DOCKER_HOST=$host docker version --format 'client {{.Client.Version}}, server {{.Server.Version}}' 2>/dev/null || true)
  printf '%-15s up at %s (%s)\n' "$label:" "$host" "$v"
  v=$(DOCKER_HOST=$host docker info --format '{{.Driver}} {{json .DriverStatus}}' 2>/dev/null || true)
  if [[ "$v" == *io.containerd.snapshotter* ]]; then v="${v%% *} (containerd image store)"; else v="${v%% *} (classic image store)"; fi
  [[ "$v" == *"($want_store image store)"* ]] || v="$v WARNING: expected the $want_store store"
  printf '%-15s %s\n' "  storage:" "$v"
}

cmd_status() {
  local bad=0 v
  engine_status docker unix:///var/run/docker.sock containerd || bad=1
  if [[ $CLASSIC_ENGINE == 1 ]]; then engine_status docker-classic "$CLASSIC_HOST" classic || bad=1; fi
  v=$(docker buildx version 2>/dev/null || true)
  if [[ -n "$v" ]]; then echo "buildx:         $v"; else echo "buildx:         MISSING"; bad=1; fi
  if registry_up; then
    echo "registry:       up at $REGISTRY_URL"
    if base_image_present; then
      echo "base image:     $BASE_IMAGE present"
    else
      echo "base image:     $BASE_IMAGE MISSING"
      bad=1
    fi
  else
    echo "registry:       DOWN ($REGISTRY_URL)"
    echo "base image:     unknown (registry down)"
    bad=1
  fi
  echo "state dir:      $STATE_DIR"
  return $bad
}

cmd_up() {
  local t0
  t0=$(now)
  # Tools first (jq is needed to write daemon.json); when docker will be installed too, add its
  # suite beforehand so a single apt-get update serves both installs.
  if ! docker_packages_ok; then add_docker_suite; fi
  ensure_tools
  ensure_docker
  ensure_registry
  ensure_base_image
  [[ ${ERT_BUILDKIT:-1} == 0 ]] || ERT_DEBIAN_MIRROR=$(debian_mirror) ERT_REGISTRY_PORT=$REGISTRY_PORT ERT_STATE_DIR=$STATE_DIR bash "$(dirname "${BASH_SOURCE[0]}")/buildkit-image.sh" up || log "WARNING: no docker-container builder; scripts/buildkit-image.sh up failed (log: $STATE_DIR/buildkit/build.log)"
  # The same image as a shared remote builder (TCP, mutual TLS), after the container builder it reuses.
  [[ ${ERT_BUILDKIT:-1} == 0 ]] || ERT_DEBIAN_MIRROR=$(debian_mirror) ERT_REGISTRY_PORT=$REGISTRY_PORT ERT_STATE_DIR=$STATE_DIR bash "$(dirname "${BASH_SOURCE[0]}")/buildkit/remote.sh" up || log "WARNING: no remote builder; scripts/buildkit/remote.sh up failed (log: $STATE_DIR/buildkit/build.log)"
  log "up done in $(elapsed_since "$t0")"
  cmd_status
}

cmd_down() {
  stop_pidfile "$REGISTRY_PID" docker-registry || log "registry: no running instance of ours"
  stop_pidfile "$DOCKERD_PID" dockerd || log "dockerd: no running instance of ours (left alone)"
  stop_pidfile "$CLASSIC_PID" dockerd || log "classic dockerd: no running instance of ours (left alone)"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

main() {
  local cmd=${1:-}
  case "$cmd" in
    up | down | status) ;;
    -h | --help | help) usage; return 0 ;;
    *) usage >&2; return 2 ;;
  esac

  if [[ $EUID -ne 0 ]]; then
    # Installing packages and running dockerd need root; status only needs the docker socket.
    if [[ $cmd != status ]]; then
      command -v sudo >/dev/null 2>&1 || die "run as root"
      exec sudo --preserve-env=ERT_REGISTRY_PORT,ERT_STATE_DIR,ERT_DEBIAN_MIRROR,ERT_CLASSIC_ENGINE,PATH bash "$0" "$@"
    fi
  elif [[ $cmd != status ]]; then
    mkdir -p "$STATE_DIR"
    # Serialise concurrent up/down (parallel CI jobs, a developer plus CI) on one machine.
    exec 9>"$STATE_DIR/lock"
    flock 9
  fi

  "cmd_$cmd"
}

main "$@"
