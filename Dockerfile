# One recipe for every Picket service image. Pick the service with a build argument:
#
#   docker build --build-arg SERVICE=camera -t picket-camera .
#
# SERVICE is one of camera, pir, bot, stream, web (docker-compose.yml builds these five, a
# device's stack), fleet (a hub's failure detector) or ha (the Home Assistant bridge).
# Behind a TLS-intercepting proxy, hand npm the machine's CA bundle as an optional BuildKit
# secret (never stored in an image):
#
#   docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt --build-arg SERVICE=pir .
#
# Without the secret, npm trusts what Node trusts by default, as anywhere else.
#
# BASE_IMAGE: any Debian bookworm image with Node 20 (20.19 or newer) and npm in /usr/local,
# as the official node images have them. The default is the official slim image. Where no
# image can be pulled, scripts/docker/base-image.sh makes one (picket-node:20-bookworm) from
# Debian's archive and this machine's Node, and scripts/docker/build-images.sh builds the
# five images on it (docs/deploy.md, "Building the images without a registry").
#
# The camera's `rpicam` source needs rpicam-vid and libcamera built for the Raspberry Pi.
# They come from Raspberry Pi OS's own apt repository (archive.raspberrypi.com), not from
# Debian, so the default base image below can run every other source (test, file:, rtsp://,
# http://, v4l2:) but not `rpicam`. For the Pi camera, build the camera image on a base that
# is Raspberry Pi OS Bookworm (arm64) with Node 20 and that repository configured, e.g.
#
#   docker build --build-arg SERVICE=camera --build-arg BASE_IMAGE=<that image> .
#
# and the runtime stage installs rpicam-apps-lite from it (see docs/deploy.md).
ARG BASE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------
# toolchain: the base plus what compiles native modules, and the workspace manifests.
FROM ${BASE_IMAGE} AS toolchain

# python3, make and g++ build `epoll`, the native module behind onoff's GPIO interrupts
# (the pir service). The full node images have them; the -slim ones do not. This stage
# never reaches a runtime image.
RUN --mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt \
    if ! command -v python3 >/dev/null || ! command -v make >/dev/null || ! command -v g++ >/dev/null; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
      && rm -rf /var/lib/apt/lists/*; \
    fi

WORKDIR /src

# Manifests first: the dependency layers below are rebuilt only when one of these changes,
# not on every source edit.
COPY package.json package-lock.json ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/runtime/package.json libs/runtime/
COPY services/camera/package.json services/camera/
COPY services/pir/package.json services/pir/
COPY services/bot/package.json services/bot/
COPY services/stream/package.json services/stream/
COPY services/web/package.json services/web/
COPY services/fleet/package.json services/fleet/
COPY services/ha/package.json services/ha/
COPY tools/stack/package.json tools/stack/

# ---------------------------------------------------------------------------------------
# build: every workspace compiled once (tsc -b, then the web client bundle). Nothing here
# depends on SERVICE, so the five service builds share these layers.
FROM toolchain AS build

# The root package.json's allowScripts lets epoll and esbuild run their install scripts
# under npm versions that ask for that; older npm runs them anyway.
RUN --mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt \
    if [ -s /etc/ssl/certs/ca-certificates.crt ]; then export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt; fi; \
    if [ -d /usr/local/include/node ]; then export npm_config_nodedir=/usr/local; fi; \
    npm ci --no-audit --no-fund

COPY . .
RUN npm run build

# ---------------------------------------------------------------------------------------
# app: one service's production dependencies (a fresh install of its workspace only, so
# the bot image carries no fastify and the web image no onoff) plus the compiled output
# it runs: the two libraries and the service itself.
FROM toolchain AS app
ARG SERVICE
RUN case "$SERVICE" in \
      camera|pir|bot|stream|web|fleet|ha) ;; \
      *) echo "build with --build-arg SERVICE=camera|pir|bot|stream|web|fleet|ha (got '$SERVICE')" >&2; exit 1 ;; \
    esac

RUN --mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt \
    if [ -s /etc/ssl/certs/ca-certificates.crt ]; then export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt; fi; \
    if [ -d /usr/local/include/node ]; then export npm_config_nodedir=/usr/local; fi; \
    npm ci --omit=dev --no-audit --no-fund --workspace "services/$SERVICE" --include-workspace-root=false

COPY --from=build /src/libs/contracts/dist libs/contracts/dist
COPY --from=build /src/libs/runtime/dist libs/runtime/dist
COPY --from=build /src/services/ /tmp/built/
# dist/ for every service; public/ (the web UI's static files) only where it exists.
RUN cp -r "/tmp/built/$SERVICE/dist" "services/$SERVICE/dist" \
    && if [ -d "/tmp/built/$SERVICE/public" ]; then cp -r "/tmp/built/$SERVICE/public" "services/$SERVICE/public"; fi \
    && rm -rf /tmp/built

# ---------------------------------------------------------------------------------------
# ffmpeg (the camera's only): one ffmpeg program compiled from Debian bookworm's source
# package with only what the camera uses (H.264 decoding and libx264, MJPEG, FLV, MP4,
# rawvideo; lavfi, v4l2, RTSP, HTTP(S), files; the test scene's filters), libav* linked in,
# plus the few libraries it links that the base lacks and the clock's font: 8 MB instead
# of Debian's 229 MB (the program and its ~200 libraries). The configure line, and how to
# add a feature to it, are in scripts/docker/ffmpeg-build.sh. The stage takes 2-3 min on
# 2 cores, and Docker caches it until the base or that script changes. For every other
# service it is empty and costs nothing.
FROM ${BASE_IMAGE} AS ffmpeg
ARG SERVICE
COPY scripts/docker/ffmpeg-build.sh /tmp/
RUN if [ "$SERVICE" = camera ]; then sh /tmp/ffmpeg-build.sh; else mkdir -p /out; fi

# ---------------------------------------------------------------------------------------
# runtime: the same base, the app, and for the camera alone its media tools.
FROM ${BASE_IMAGE} AS runtime
ARG SERVICE

# The camera runs ffmpeg for every source and draws the test scene's clock with DejaVu
# Sans Mono (both from the ffmpeg stage; a one-frame encode with the clock's filter checks
# that the program finds every library and the font). On a Raspberry Pi OS base (see the
# top of this file: its apt sources name Raspberry Pi's repository) rpicam-apps-lite is
# installed too and brings rpicam-vid.
COPY --from=ffmpeg /out/ /
RUN if [ "$SERVICE" = camera ]; then \
      ldconfig \
      && ffmpeg -hide_banner -loglevel error -f lavfi \
           -i color=size=64x64:rate=1,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf:text=ok \
           -frames:v 1 -c:v libx264 -f null - \
      && if grep -rqs raspberrypi /etc/apt/sources.list /etc/apt/sources.list.d/; then \
           apt-get update \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rpicam-apps-lite \
           && rm -rf /var/lib/apt/lists/*; \
         fi; \
    fi

# An unprivileged user. It is in `video`, the group that owns /dev/video*, /dev/media* and
# (on Raspberry Pi OS) /dev/dma_heap/*, so the camera needs no root. GPIO through sysfs is
# root-only on balenaOS, so docker-compose.yml runs the pir service as root instead.
RUN getent group video >/dev/null || groupadd --system video; \
    groupadd --system picket \
    && useradd --system --gid picket --groups video --home-dir /app --no-create-home \
         --shell /usr/sbin/nologin picket

COPY --from=app /src /app

# ARG cannot be expanded inside an exec-form CMD, but WORKDIR can expand it: every image
# runs `node dist/main.js` from its own service directory.
WORKDIR /app/services/${SERVICE}
# PICKET_SERVICE only tells the healthcheck below which port to ask; no service reads it.
ENV NODE_ENV=production \
    PICKET_SERVICE=${SERVICE}
USER picket

# Every service stops in order on SIGTERM within ~8 s; the stop grace period is 10 s.
STOPSIGNAL SIGTERM

# GET /healthz on the service's own port: camera 9101, pir 9102, bot 9103, fleet 9105, ha 9106
# (ops ports), stream 8081 and web 8080 (their main ports), each overridable by its PICKET_ variable.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "\
    const ports = { camera: ['PICKET_CAMERA_OPS_PORT', 9101], pir: ['PICKET_PIR_OPS_PORT', 9102], \
      bot: ['PICKET_BOT_OPS_PORT', 9103], stream: ['PICKET_STREAM_PORT', 8081], web: ['PICKET_HTTP_PORT', 8080], \
      fleet: ['PICKET_FLEET_OPS_PORT', 9105], ha: ['PICKET_HA_OPS_PORT', 9106] }; \
    const [name, port] = ports[process.env.PICKET_SERVICE]; \
    fetch('http://127.0.0.1:' + (process.env[name] || port) + '/healthz', { signal: AbortSignal.timeout(4000) }) \
      .then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1));"]

# exec form: node is PID 1 and receives SIGTERM itself.
CMD ["node", "dist/main.js"]
