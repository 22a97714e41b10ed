# One recipe for every Picket service image. Pick the service with a build argument:
#
#   docker build --build-arg SERVICE=camera -t picket-camera .
#
# SERVICE is one of camera, pir, bot, stream, web; docker-compose.yml builds all five.
# Behind a TLS-intercepting proxy, hand npm the machine's CA bundle as an optional BuildKit
# secret (never stored in an image):
#
#   docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt --build-arg SERVICE=pir .
#
# Without the secret, npm trusts what Node trusts by default, as anywhere else.
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
      camera|pir|bot|stream|web) ;; \
      *) echo "build with --build-arg SERVICE=camera|pir|bot|stream|web (got '$SERVICE')" >&2; exit 1 ;; \
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
# runtime: the same base, the app, and for the camera alone its media tools.
FROM ${BASE_IMAGE} AS runtime
ARG SERVICE

# The camera runs ffmpeg for every source and draws the test scene's clock with DejaVu
# Sans Mono. On a Raspberry Pi OS base (see the top of this file) rpicam-apps-lite is
# installable too and brings rpicam-vid; on Debian it does not exist and is skipped.
RUN if [ "$SERVICE" = camera ]; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core \
      && if apt-cache show rpicam-apps-lite >/dev/null 2>&1; then \
           DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rpicam-apps-lite; \
         fi \
      && rm -rf /var/lib/apt/lists/*; \
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

# GET /healthz on the service's own port: camera 9101, pir 9102, bot 9103 (ops ports),
# stream 8081 and web 8080 (their main ports), each overridable by its PICKET_ variable.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "\
    const ports = { camera: ['PICKET_CAMERA_OPS_PORT', 9101], pir: ['PICKET_PIR_OPS_PORT', 9102], \
      bot: ['PICKET_BOT_OPS_PORT', 9103], stream: ['PICKET_STREAM_PORT', 8081], web: ['PICKET_HTTP_PORT', 8080] }; \
    const [name, port] = ports[process.env.PICKET_SERVICE]; \
    fetch('http://127.0.0.1:' + (process.env[name] || port) + '/healthz', { signal: AbortSignal.timeout(4000) }) \
      .then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1));"]

# exec form: node is PID 1 and receives SIGTERM itself.
CMD ["node", "dist/main.js"]
