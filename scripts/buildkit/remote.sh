#!/usr/bin/env bash
# The shared remote builder of the test environment: the BuildKit image that
# scripts/buildkit-image.sh builds, run as a plain container on the host network, buildkitd
# listening on TCP with mutual TLS, as a team would run it on an instance or in ECS for many runners.
#
#   bash scripts/buildkit/remote.sh up       # certificates, then the container; checked with buildctl
#   bash scripts/buildkit/remote.sh status   # non-zero exit if buildctl cannot list its workers
#   bash scripts/buildkit/remote.sh down     # remove the container (certificates and cache volume stay)
#
# Environment: ERT_REGISTRY_PORT, ERT_STATE_DIR as in test-env.sh; ERT_BUILDKIT_BUILDER (default
# ert-buildkit); ERT_BUILDKIT_REMOTE_PORT (default 1234); ERT_BUILDKIT_REMOTE_NAME.
#
# A script of its own, not a command of buildkit-image.sh: that script's digest names the image,
# so editing it would recompile BuildKit (20+ minutes) for a change that does not touch the image.
set -euo pipefail

REGISTRY_PORT="${ERT_REGISTRY_PORT:-5000}"
STATE_DIR="${ERT_STATE_DIR:-/var/tmp/ecs-release-train-env}"
[[ "$STATE_DIR" == /* ]] || STATE_DIR="$PWD/$STATE_DIR"
REGISTRY="localhost:${REGISTRY_PORT}"
REGISTRY_URL="http://127.0.0.1:${REGISTRY_PORT}"
BUILDER="${ERT_BUILDKIT_BUILDER:-ert-buildkit}"
WORK="${STATE_DIR}/buildkit"
IMAGE_FILE="${WORK}/image"
BUILD_LOG="${WORK}/build.log"

log() { printf '[buildkit-remote] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s; }
elapsed_since() { echo "$(($(now) - $1))s"; }

image_in_registry() {
  local ref=$1 repo tag
  repo=${ref#*/}
  tag=${repo##*:}
  repo=${repo%:*}
  curl -fsS -o /dev/null --max-time 5 -I \
    -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "${REGISTRY_URL}/v2/${repo}/manifests/${tag}" 2>/dev/null
}

builder_image() {
  docker buildx inspect "$BUILDER" 2>/dev/null | sed -n 's/.*image="\([^"]*\)".*/\1/p' | head -1
}

REMOTE_NAME="${ERT_BUILDKIT_REMOTE_NAME:-ert-buildkit-remote}"
REMOTE_PORT="${ERT_BUILDKIT_REMOTE_PORT:-1234}"
REMOTE_ADDR="tcp://127.0.0.1:${REMOTE_PORT}"
# The daemon's state outlives the container, as a shared builder's cache outlives a redeploy.
REMOTE_VOLUME="${REMOTE_NAME}-state"
CERT_DIR="${WORK}/certs"
REMOTE_CONFIG="${WORK}/remote-buildkitd.toml"
# Leaf certificates are renewed when they have less than this left (seconds).
CERT_MIN_LEFT=$((30 * 24 * 3600))

# A CA, the daemon's certificate (for 127.0.0.1 and localhost) and a client certificate, in the
# layout BuildKit's examples use: {ca,daemon,client}/, each leaf dir with its own copy of ca.pem.
ensure_certs() {
  local t0 d
  t0=$(now)
  if certs_valid; then
    log "certificates in $CERT_DIR valid"
    return
  fi
  rm -rf "$CERT_DIR"
  mkdir -p "$CERT_DIR"/{ca,daemon,client}
  chmod 700 "$CERT_DIR"
  d=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=ert-buildkit test CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$CERT_DIR/ca/key.pem" -out "$CERT_DIR/ca/ca.pem" 2>>"$BUILD_LOG" || die "openssl: CA failed"
  issue_cert daemon "/CN=ert-buildkit-remote" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature" "$d"
  issue_cert client "/CN=ert-buildkit-client" \
    "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature" "$d"
  rm -rf "$d"
  chmod 600 "$CERT_DIR"/*/key.pem
  certs_valid || die "generated certificates do not verify against their CA"
  log "certificates generated under $CERT_DIR in $(elapsed_since "$t0")"
}

issue_cert() {
  local who=$1 subject=$2 ext=$3 tmp=$4
  printf "$ext\n" >"$tmp/$who.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subject" \
    -keyout "$CERT_DIR/$who/key.pem" -out "$tmp/$who.csr" 2>>"$BUILD_LOG" || die "openssl: $who key failed"
  openssl x509 -req -in "$tmp/$who.csr" -CA "$CERT_DIR/ca/ca.pem" -CAkey "$CERT_DIR/ca/key.pem" \
    -CAcreateserial -CAserial "$tmp/ca.srl" -days 825 -extfile "$tmp/$who.ext" \
    -out "$CERT_DIR/$who/cert.pem" 2>>"$BUILD_LOG" || die "openssl: $who certificate failed"
  cp "$CERT_DIR/ca/ca.pem" "$CERT_DIR/$who/ca.pem"
}

certs_valid() {
  local who
  for who in daemon client; do
    [[ -s "$CERT_DIR/$who/key.pem" && -s "$CERT_DIR/$who/ca.pem" ]] || return 1
    openssl verify -CAfile "$CERT_DIR/ca/ca.pem" "$CERT_DIR/$who/cert.pem" >/dev/null 2>&1 || return 1
    openssl x509 -checkend "$CERT_MIN_LEFT" -noout -in "$CERT_DIR/$who/cert.pem" >/dev/null 2>&1 || return 1
  done
}

# The image the container builder runs (both builders then run the same buildkitd), else the one
# buildkit-image.sh last built. Building it is that script's job.
remote_image() {
  local ref
  ref=$(builder_image)
  if [[ -z "$ref" ]] || ! image_in_registry "$ref"; then
    ref=$(cat "$IMAGE_FILE" 2>/dev/null) && image_in_registry "$ref" ||
      die "no BuildKit image in the registry; run: bash scripts/buildkit-image.sh up"
  fi
  echo "$ref"
}

buildctl_workers() {
  local ref=$1
  docker run --rm --network host -v "$CERT_DIR/client:/certs:ro" --entrypoint buildctl "$ref" \
    --addr "$REMOTE_ADDR" --tlscacert /certs/ca.pem --tlscert /certs/cert.pem --tlskey /certs/key.pem \
    debug workers
}

# What the running container was started with; a change recreates it.
remote_signature() {
  local ref=$1
  printf '%s\n' "$ref" "$REMOTE_PORT" "$(cat "$CERT_DIR/daemon/cert.pem" "$REMOTE_CONFIG" | sha256sum | cut -c1-16)" |
    sha256sum | cut -c1-16
}

ensure_remote() {
  local ref=$1 sig current t0 i
  t0=$(now)
  printf '[registry."%s"]\n  http = true\n\n[registry."127.0.0.1:%s"]\n  http = true\n' "$REGISTRY" "$REGISTRY_PORT" >"$REMOTE_CONFIG"
  sig=$(remote_signature "$ref")
  current=$(docker inspect --format '{{index .Config.Labels "ert.signature"}} {{.State.Running}}' "$REMOTE_NAME" 2>/dev/null || true)
  if [[ "$current" == "$sig true" ]] && buildctl_workers "$ref" >/dev/null 2>&1; then
    log "remote builder $REMOTE_NAME running at $REMOTE_ADDR"
    return
  fi
  [[ -z "$current" ]] || { log "remote builder $REMOTE_NAME is stale or down; recreating it"; docker rm -f "$REMOTE_NAME" >/dev/null; }
  # --privileged: the OCI worker runs runc and mounts overlays, as in the docker-container driver.
  # --restart: a dockerd restart brings it back, as a service manager would on an instance.
  docker run -d --name "$REMOTE_NAME" --network host --privileged --restart unless-stopped \
    --label "ert.signature=$sig" \
    -v "$REMOTE_VOLUME:/var/lib/buildkit" \
    -v "$CERT_DIR/daemon:/certs:ro" \
    -v "$REMOTE_CONFIG:/etc/buildkit/buildkitd.toml:ro" \
    "$ref" --addr "$REMOTE_ADDR" \
    --tlscacert /certs/ca.pem --tlscert /certs/cert.pem --tlskey /certs/key.pem \
    --allow-insecure-entitlement network.host >/dev/null 2>>"$BUILD_LOG" ||
    { tail -n 20 "$BUILD_LOG" >&2; die "could not start $REMOTE_NAME"; }
  for i in $(seq 1 30); do
    buildctl_workers "$ref" >/dev/null 2>&1 && break
    [[ $i -lt 30 ]] || { docker logs --tail 20 "$REMOTE_NAME" >&2; die "$REMOTE_NAME does not answer buildctl at $REMOTE_ADDR"; }
    sleep 1
  done
  log "remote builder $REMOTE_NAME started at $REMOTE_ADDR in $(elapsed_since "$t0")"
}

cmd_remote_up() {
  local t0 ref
  t0=$(now)
  command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
  ensure_certs
  ref=$(remote_image)
  ensure_remote "$ref"
  log "remote up done in $(elapsed_since "$t0") (certificates: $CERT_DIR/client)"
}

cmd_remote_status() {
  local ref state
  state=$(docker inspect --format '{{.State.Status}}' "$REMOTE_NAME" 2>/dev/null || echo MISSING)
  echo "remote builder: $REMOTE_NAME ($REMOTE_ADDR, mutual TLS) $state"
  echo "certificates:   $CERT_DIR/{ca,daemon,client}"
  [[ $state == running ]] || return 1
  ref=$(docker inspect --format '{{.Config.Image}}' "$REMOTE_NAME")
  if buildctl_workers "$ref" >/dev/null 2>&1; then
    echo "buildctl:       workers listed over mutual TLS"
  else
    echo "buildctl:       NO ANSWER at $REMOTE_ADDR"
    return 1
  fi
}

cmd_remote_down() {
  docker rm -f "$REMOTE_NAME" >/dev/null 2>&1 && log "removed $REMOTE_NAME" || log "no $REMOTE_NAME"
}

main() {
  mkdir -p "$WORK"
  case "${1:-}" in
    up | status | down) "cmd_remote_$1" ;;
    *) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; return 2 ;;
  esac
}

main "$@"
