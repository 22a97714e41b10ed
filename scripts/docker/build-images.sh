#!/usr/bin/env bash
# Builds the five Picket service images from this checkout on the local base image, where
# no image can be pulled (CI, the container tests and benchmarks):
#
#   bash scripts/docker/build-images.sh            # picket-<service>:local, base made if absent
#
# Every image is the Dockerfile with BASE_IMAGE=picket-node:20-bookworm, built with
# BuildKit and the machine's CA bundle as the `ca` secret (npm behind a TLS-intercepting
# proxy). Docker's layer cache makes a rebuild after a source edit take seconds: the
# dependency layers change only with package.json / package-lock.json.
#
# PICKET_IMAGE_TAG (default: local) names the tag; PICKET_BASE_IMAGE another base.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=engine.sh
source scripts/docker/engine.sh

base=${PICKET_BASE_IMAGE:-picket-node:20-bookworm}
tag=${PICKET_IMAGE_TAG:-local}
if [ -z "${PICKET_BASE_IMAGE:-}" ]; then bash scripts/docker/base-image.sh; fi

ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$ca" ] && secret=(--secret "id=ca,src=$ca")

for service in camera pir bot stream web; do
  started=$(date +%s)
  if ! "$PICKET_DOCKER" build --progress=plain "${secret[@]}" \
      --build-arg BASE_IMAGE="$base" --build-arg SERVICE="$service" --label org.picket.service="$service" \
      -t "picket-$service:$tag" . >"/tmp/picket-build-$service.log" 2>&1; then
    tail -40 "/tmp/picket-build-$service.log" >&2
    echo "picket/build: picket-$service:$tag failed (whole log: /tmp/picket-build-$service.log)" >&2
    exit 1
  fi
  size=$("$PICKET_DOCKER" image inspect --format '{{.Size}}' "picket-$service:$tag")
  echo "picket/build: picket-$service:$tag $(( size / 1000000 )) MB in $(( $(date +%s) - started )) s" >&2
done
# The images these builds replaced (untagged now), and only those: a machine that builds on
# every CI run would otherwise fill its disk.
"$PICKET_DOCKER" image prune -f --filter label=org.picket.service >/dev/null
