#!/usr/bin/env bash
# Makes a Docker engine reachable for the container tests and benchmarks, and names the
# clients to use. Sourced by the other scripts here and run by .ci/run:
#
#   bash scripts/docker/engine.sh          # install what is missing, start dockerd, report
#   source scripts/docker/engine.sh        # the same, then use $PICKET_DOCKER and $PICKET_COMPOSE
#
# What it installs, only when missing, from Debian's packages: docker.io (the engine and a
# BuildKit-capable client), docker-compose (Compose v1, used only where no `docker compose`
# v2 plugin exists) and debootstrap (for base-image.sh). It starts dockerd as root when no
# engine answers. Quick when everything is there: a few `command -v` and one `docker info`.
set -euo pipefail

picket_engine_log() { echo "picket/docker: $*" >&2; }

picket_engine_install() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  # Debian's docker.io brings /usr/bin/docker; a client elsewhere on PATH may lack BuildKit.
  [ -x /usr/bin/docker ] || missing+=(docker.io)
  if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    missing+=(docker-compose)
  fi
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # shellcheck disable=SC2207
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  picket_engine_log "installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

picket_engine_start() {
  if docker info >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    picket_engine_log "no Docker engine answers and dockerd needs root: start it yourself (sudo dockerd)"
    return 1
  fi
  local log=/var/log/picket-dockerd.log
  picket_engine_log "starting dockerd (log: $log)"
  # setsid: the engine outlives this script and is not in its process group.
  setsid dockerd >"$log" 2>&1 </dev/null &
  local i
  for i in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  picket_engine_log "dockerd did not answer within 30 s; the end of its log:"
  tail -20 "$log" >&2
  return 1
}

# A client that builds with BuildKit (needed for the Dockerfile's secret mount): one with the
# buildx plugin, or a client older than 23 (Debian's 20.10), which has BuildKit built in.
picket_engine_pick_client() {
  local c v
  for c in "$(command -v docker || true)" /usr/bin/docker; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    if "$c" buildx version >/dev/null 2>&1; then echo "$c"; return 0; fi
    v=$("$c" version --format '{{.Client.Version}}' 2>/dev/null || true)
    case "$v" in 1[0-9].*|2[0-2].*) echo "$c"; return 0 ;; esac
  done
  picket_engine_log "no Docker client here can build with BuildKit (install docker.io or the buildx plugin)"
  return 1
}

picket_engine_pick_compose() {
  if docker compose version >/dev/null 2>&1; then echo "docker compose"; return 0; fi
  if command -v docker-compose >/dev/null 2>&1; then echo "docker-compose"; return 0; fi
  picket_engine_log "neither 'docker compose' nor docker-compose is installed"
  return 1
}

picket_engine_install
picket_engine_start
PICKET_DOCKER=$(picket_engine_pick_client)
PICKET_COMPOSE=$(picket_engine_pick_compose)
export PICKET_DOCKER PICKET_COMPOSE DOCKER_BUILDKIT=1

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  picket_engine_log "engine $("$PICKET_DOCKER" version --format '{{.Server.Version}}'), client $PICKET_DOCKER, compose: $PICKET_COMPOSE"
fi
