# Node 20 on Picket's local Debian image (scripts/docker/base-image.sh makes the context:
# this machine's node, npm and headers under usr/local). The official node:20-bookworm-slim
# in miniature: same paths, so the service Dockerfile treats both alike.
ARG DEBIAN_IMAGE=picket-debian:bookworm
FROM ${DEBIAN_IMAGE}
COPY usr/local /usr/local
# npm's global config, as the official images have none: no update checks, no funding
# messages (the images never reach a registry at run time).
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
RUN node --version && npm --version >/dev/null
CMD ["node"]
