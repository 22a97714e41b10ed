#!/usr/bin/env bash
# docker-compose.yml on a machine without a registry or Pi hardware (a PC, CI): builds the
# images locally, writes the local variant of the file (scripts/docker/local-compose.ts says
# what differs) and hands the arguments to Compose:
#
#   bash scripts/docker/compose.sh up -d        # build what changed, then start
#   bash scripts/docker/compose.sh ps
#   bash scripts/docker/compose.sh logs -f camera
#   bash scripts/docker/compose.sh down         # add -v to drop the JetStream volume too
#
# Settings come from the shell or a .env file here, as with docker-compose.yml itself; the
# web UI is on 127.0.0.1:8080 (PICKET_WEB_PUBLISH=0.0.0.0:8080 for every interface).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=engine.sh
source scripts/docker/engine.sh

case "${1:-}" in
  up|create|start|restart|run) bash scripts/docker/build-images.sh ;;
esac
dir=${TMPDIR:-/tmp}/picket-compose
mkdir -p "$dir"
[ -d node_modules/yaml ] || npm ci --no-audit --no-fund --loglevel=error
node --import tsx scripts/docker/local-compose.ts --web "${PICKET_WEB_PUBLISH:-127.0.0.1:8080}" >"$dir/docker-compose.yml"
# shellcheck disable=SC2086
exec $PICKET_COMPOSE -p picket --project-directory . -f "$dir/docker-compose.yml" "$@"
