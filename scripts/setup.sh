#!/usr/bin/env bash
# Set-up shared by `npm start`, `npm test` and `npm run bench`: installs what is missing
# (Debian packages, npm dependencies) and builds. Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want=(ffmpeg nats-server)
# The tests also need a browser, and iptables to cut a network silently (test/faults).
[ "${1:-}" = "--with-browser" ] && want+=(chromium iptables prometheus mosquitto)
missing=()
for cmd in "${want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
# The test scene's clock needs a font; ffmpeg runs without it, the clock is then left out.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || missing+=(fonts-dejavu-core)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "picket: installing ${missing[*]} with apt-get" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "picket: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

npm run --silent build
