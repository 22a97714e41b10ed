#!/usr/bin/env bash
# Makes Picket's base images here, where no image can be pulled from a registry:
#
#   picket-debian:bookworm   Debian bookworm (minbase), debootstrapped from Debian's archive
#                            and imported with `docker import`;
#   picket-node:20-bookworm  that, plus Node 20 and npm: the BASE_IMAGE of every service image
#                            (the official node:20-bookworm-slim's place);
#   picket-nats:2.9-bookworm that, plus Debian's nats-server: the bus (the official
#                            nats:2.9-alpine's place).
#
#   bash scripts/docker/base-image.sh           # makes what is missing, else says so
#   bash scripts/docker/base-image.sh --force   # makes all three again
#
# Node: Debian bookworm's nodejs is 18, and Picket needs 20.19 or newer, so the Node 20 of
# this machine (the `node` on PATH, its npm, and its headers for native modules) is copied
# into the image, laid out as the official node images lay it out (/usr/local). Debian's
# packages downloaded by debootstrap are kept in /var/cache/picket/debootstrap for the next
# run; nothing else is cached outside Docker's own image store.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=engine.sh
source scripts/docker/engine.sh

DEBIAN_IMAGE=picket-debian:bookworm
NODE_IMAGE=picket-node:20-bookworm
NATS_IMAGE=picket-nats:2.9-bookworm
MIRROR=http://deb.debian.org/debian
CACHE=/var/cache/picket/debootstrap
force=0
[ "${1:-}" = "--force" ] && force=1
log() { echo "picket/base: $*" >&2; }
old_ids=$("$PICKET_DOCKER" image inspect --format '{{.Id}}' picket-debian:bookworm picket-node:20-bookworm picket-nats:2.9-bookworm 2>/dev/null || true)
label() { "$PICKET_DOCKER" image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

node_version=$(node --version)
npm_version=$(npm --version 2>/dev/null)
nats_version() { "$PICKET_DOCKER" run --rm "$NATS_IMAGE" --version 2>/dev/null | sed -n 's/^nats-server: v//p'; }
case "$node_version" in
  v20.*) ;;
  *) log "this machine's node is $node_version; the images need Node 20 (20.19 or newer)"; exit 1 ;;
esac

work=$(mktemp -d /var/tmp/picket-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- Debian ----------------------------------------------------------------------------
if [ "$force" = 1 ] || [ -z "$(label "$DEBIAN_IMAGE" org.picket.debian)" ]; then
  started=$(date +%s)
  rootfs="$work/rootfs"
  mkdir -p "$CACHE" "$rootfs"
  log "debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase --cache-dir="$CACHE" bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; exit 1; }
  # What the official Debian images do: no docs, manuals or translations from later
  # installs, no package archives or lists kept in layers, no recommends by default.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/picket-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
  cat >"$rootfs/etc/apt/apt.conf.d/picket-slim" <<'CFG'
APT::Install-Recommends "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<CFG
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/{man,info,groff,lintian,linda,locale}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/* "$rootfs"/tmp/* \
    "$rootfs"/etc/machine-id "$rootfs"/etc/hostname
  debian_version=$(cat "$rootfs/etc/debian_version")
  tar -C "$rootfs" --numeric-owner -c . | "$PICKET_DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL org.picket.debian=$debian_version" \
    - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "$DEBIAN_IMAGE: Debian $debian_version in $(( $(date +%s) - started )) s"
  force=1
else
  log "$DEBIAN_IMAGE: there (Debian $(label "$DEBIAN_IMAGE" org.picket.debian))"
fi

# --- Node 20 ---------------------------------------------------------------------------
if [ "$force" = 1 ] || [ "$(label "$NODE_IMAGE" org.picket.node)" != "$node_version" ] || [ "$(label "$NODE_IMAGE" org.picket.npm)" != "$npm_version" ]; then
  started=$(date +%s)
  ctx="$work/node"
  mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules" "$ctx/usr/local/include"
  # Without its symbol table and debug sections (-12 MB); native modules link against the
  # dynamic symbols, which stay.
  if command -v strip >/dev/null 2>&1; then
    strip -o "$ctx/usr/local/bin/node" "$(readlink -f "$(command -v node)")"
  else
    cp "$(readlink -f "$(command -v node)")" "$ctx/usr/local/bin/node"
  fi
  cp -a "$(npm root -g 2>/dev/null)/npm" "$ctx/usr/local/lib/node_modules/npm"
  rm -rf "$ctx/usr/local/lib/node_modules/npm/docs" "$ctx/usr/local/lib/node_modules/npm/man"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  # Headers, so npm builds native modules (onoff's epoll) without downloading them. OpenSSL's
  # per-platform configuration is kept for this machine's platform only (2.7 of 53 MB).
  headers="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
  if [ -f "$headers/node.h" ]; then
    cp -a "$headers" "$ctx/usr/local/include/node"
    case "$(uname -m)" in x86_64) keep=linux-x86_64 ;; aarch64) keep=linux-aarch64 ;; armv7l) keep=linux-armv4 ;; *) keep=none ;; esac
    find "$ctx/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 -not -name "$keep" -exec rm -rf {} +
  else
    log "no Node headers beside $(command -v node): native modules will not build in the image"
  fi
  "$PICKET_DOCKER" build -q -f scripts/docker/node.Dockerfile \
    --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" \
    --label org.picket.node="$node_version" --label org.picket.npm="$npm_version" \
    -t "$NODE_IMAGE" "$ctx" >/dev/null
  log "$NODE_IMAGE: Node $node_version, npm $npm_version in $(( $(date +%s) - started )) s"
else
  log "$NODE_IMAGE: there (Node $node_version, npm $npm_version)"
fi

# --- nats-server -----------------------------------------------------------------------
if [ "$force" = 1 ] || ! "$PICKET_DOCKER" image inspect "$NATS_IMAGE" >/dev/null 2>&1; then
  started=$(date +%s)
  mkdir -p "$work/nats"
  "$PICKET_DOCKER" build -q -f scripts/docker/nats.Dockerfile \
    --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" -t "$NATS_IMAGE" "$work/nats" >/dev/null
  log "$NATS_IMAGE: nats-server $(nats_version) in $(( $(date +%s) - started )) s"
else
  log "$NATS_IMAGE: there"
fi

# Images of these names that a rebuild replaced, if nothing uses them any more.
for id in $old_ids; do
  if ! "$PICKET_DOCKER" image inspect --format '{{.RepoTags}}' "$id" 2>/dev/null | grep -q picket-; then
    "$PICKET_DOCKER" image rm "$id" >/dev/null 2>&1 || true
  fi
done
