#!/usr/bin/env bash
# Local Docker test environment for ecs-release-train: Docker Engine with BuildKit/buildx and the
# containerd image store, a plain-HTTP registry on loopback, and a Debian base image in it.
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
# Oldest engine whose containerd image store can export registry cache from the default builder.
MIN_DOCKER_MAJOR=24
MANIFEST_ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'

log() { printf '[test-env] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now() { date +%s; }
elapsed_since() { echo "$(( $(now) - $1 ))s"; }

# ---------------------------------------------------------------------------------------------
# Small helpers

# `docker info --format` exits 0 with an empty answer when the daemon is down (CLI 26), so insist on
# a server version; the timeout guards against a socket whose daemon hangs.
docker_up() {
  local v
  v=$(timeout 15 docker version --format '{{.Server.Version}}' 2>/dev/null) && [[ -n "$v" ]]
}
registry_up() { curl -fsS -o /dev/null --max-time 3 "${REGISTRY_URL}/v2/" 2>/dev/null; }
base_image_present() {
  curl -fsS -o /dev/null --max-time 5 -I -H "Accept: ${MANIFEST_ACCEPT}" \
    "${REGISTRY_URL}/v2/debian/manifests/${BASE_SUITE}" 2>/dev/null
}

pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

dockerd_major() {
  command -v dockerd >/dev/null 2>&1 || { echo 0; return; }
  dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p' | grep . || echo 0
}

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
  [[ $(dockerd_major) -ge $MIN_DOCKER_MAJOR ]] && docker buildx version >/dev/null 2>&1
}

# Debian 12's docker.io (20.10) cannot export registry cache from the default builder; Debian
# 13's 26.x can, and its binaries need only bookworm's libc. A pin of 100 keeps everything on
# bookworm unless asked for by name.
#
# Ask per package (docker.io/trixie), never with `-t trixie`: -t makes trixie the preferred
# release for every dependency too, so runc/tini/iptables come from trixie, drag in libc6 2.41,
# and libc6's Breaks on base-files turns the machine into Debian 13 (/etc/debian_version 13.x).
# Verified on a pristine bookworm minbase: /trixie installs only docker.io, docker-buildx and
# containerd from trixie, the rest (runc 1.1.5, tini, iptables 1.8.9) from bookworm.
DOCKER_SUITE=""
docker_candidate_major() {
  apt-cache policy docker.io 2>/dev/null | sed -n 's/^ *Candidate: \([0-9][0-9]*\)\..*/\1/p'
}
add_trixie_suite() {
  [[ "$(os_id)" == debian ]] || return 0
  # /etc/debian_version alone is not enough: a bookworm whose base-files came from trixie says 13
  # while its own suites still only offer docker.io 20.10.
  local candidate
  candidate=$(docker_candidate_major)
  [[ "$(debian_major)" == 12 ]] || [[ -n "$candidate" && "$candidate" -lt $MIN_DOCKER_MAJOR ]] || return 0
  if write_if_changed /etc/apt/sources.list.d/trixie.sources "Types: deb
URIs: $(debian_mirror)
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"; then
    APT_INDEX_FRESH=0
    log "added the trixie suite (pin 100) for docker packages"
  fi
  write_if_changed /etc/apt/preferences.d/trixie-low "Package: *
Pin: release n=trixie
Pin-Priority: 100" || true
  DOCKER_SUITE=/trixie
}

install_docker_packages() {
  if docker_packages_ok; then
    log "docker engine $(dockerd_major).x and buildx already installed"
    return
  fi
  [[ "$(os_id)" == debian ]] || log "WARNING: not Debian; trying the distribution's docker.io anyway"
  local t0
  t0=$(now)
  add_trixie_suite
  local pkg pkgs=()
  apt_update_once
  # Since trixie the CLI is a separate docker-cli, only recommended by docker.io, and we install
  # without recommends (they would pull apparmor, git, needrestart, ... from trixie).
  for pkg in docker.io docker-cli docker-buildx containerd; do
    if [[ $pkg == docker-cli ]] && ! apt-cache show "docker-cli${DOCKER_SUITE}" >/dev/null 2>&1; then continue; fi
    pkgs+=("${pkg}${DOCKER_SUITE}")
  done
  apt_install "${pkgs[@]}"
  docker_packages_ok || die "dockerd $(dockerd_major).x or buildx missing after install; need >= $MIN_DOCKER_MAJOR"
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

start_dockerd() {
  local t0 pid i
  t0=$(now)
  log "starting dockerd (log: $DOCKERD_LOG)"
  # No --containerd flag: dockerd then runs its own containerd, which is what we want without
  # systemd (the packaged containerd.service is never started here).
  pid=$(spawn "$DOCKERD_LOG" dockerd --pidfile "$DOCKERD_PID")
  for ((i = 0; i < 120; i++)); do
    if docker_up; then
      log "dockerd answering after $(elapsed_since "$t0")"
      return
    fi
    if [[ ! -d "/proc/$pid" ]]; then break; fi
    sleep 0.5
  done
  log "dockerd did not come up; last lines of $DOCKERD_LOG:"
  tail -n 40 "$DOCKERD_LOG" >&2 || true
  die "dockerd failed to start"
}

ensure_docker() {
  if docker_up; then
    log "docker daemon already answering; not touching it"
    if ! docker info --format '{{json .DriverStatus}}' 2>/dev/null | grep -q 'io.containerd.snapshotter'; then
      log "WARNING: the running daemon does not use the containerd image store;" \
        "registry cache export (--cache-to type=registry) will fail with the docker driver"
    fi
    return
  fi
  install_docker_packages
  configure_daemon_json
  start_dockerd
}

# ---------------------------------------------------------------------------------------------
# Step 2: tools that come from bookworm itself

ensure_tools() {
  local missing=() p
  for p in docker-registry debootstrap jq curl; do
    pkg_installed "$p" || command -v "$p" >/dev/null 2>&1 || missing+=("$p")
  done
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
    log "base image $BASE_IMAGE already in the registry"
    return
  fi
  command -v debootstrap >/dev/null 2>&1 || ensure_tools
  # The tarball outlives the registry data, so a wiped registry costs an import, not a debootstrap.
  [[ -s "$ROOTFS_TAR" ]] || build_rootfs_tar
  local t0
  t0=$(now)
  log "importing $ROOTFS_TAR as $BASE_IMAGE"
  docker import --change 'CMD ["/bin/bash"]' "$ROOTFS_TAR" "$BASE_IMAGE" >/dev/null
  docker push -q "$BASE_IMAGE" >/dev/null
  base_image_present || die "pushed $BASE_IMAGE but the registry does not list it"
  log "base image imported and pushed in $(elapsed_since "$t0")"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_status() {
  local bad=0 v
  if docker_up; then
    v=$(docker version --format 'client {{.Client.Version}}, server {{.Server.Version}}' 2>/dev/null || true)
    echo "docker:        up ($v)"
    v=$(docker buildx version 2>/dev/null || true)
    if [[ -n "$v" ]]; then echo "buildx:        $v"; else echo "buildx:        MISSING"; bad=1; fi
    v=$(docker info --format '{{.Driver}} {{json .DriverStatus}}' 2>/dev/null || true)
    if [[ "$v" == *io.containerd.snapshotter* ]]; then
      echo "storage:       ${v%% *} (containerd image store)"
    else
      echo "storage:       ${v%% *} (WARNING: not the containerd image store)"
    fi
  else
    echo "docker:        DOWN"
    bad=1
  fi
  if registry_up; then
    echo "registry:      up at $REGISTRY_URL"
    if base_image_present; then
      echo "base image:    $BASE_IMAGE present"
    else
      echo "base image:    $BASE_IMAGE MISSING"
      bad=1
    fi
  else
    echo "registry:      DOWN ($REGISTRY_URL)"
    echo "base image:    unknown (registry down)"
    bad=1
  fi
  echo "state dir:     $STATE_DIR"
  return $bad
}

cmd_up() {
  local t0
  t0=$(now)
  # Tools first (jq is needed to write daemon.json); when docker will be installed too, add its
  # suite beforehand so a single apt-get update serves both installs.
  if ! docker_up && ! docker_packages_ok; then add_trixie_suite; fi
  ensure_tools
  ensure_docker
  ensure_registry
  ensure_base_image
  log "up done in $(elapsed_since "$t0")"
  cmd_status
}

cmd_down() {
  stop_pidfile "$REGISTRY_PID" docker-registry || log "registry: no running instance of ours"
  stop_pidfile "$DOCKERD_PID" dockerd || log "dockerd: no running instance of ours (left alone)"
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
      exec sudo --preserve-env=ERT_REGISTRY_PORT,ERT_STATE_DIR,ERT_DEBIAN_MIRROR,PATH bash "$0" "$@"
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
