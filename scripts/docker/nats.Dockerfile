# The bus for machines that cannot pull nats:2.9-alpine: Debian bookworm's nats-server
# (2.9.10) on Picket's local Debian image, built by scripts/docker/base-image.sh. It behaves
# as the official image does where docker-compose.yml relies on it: `nats-server` is the
# entrypoint (the compose `command` is its flags), it runs as root with its store in /data,
# and `wget` answers the healthcheck (busybox's, as in the alpine image).
ARG DEBIAN_IMAGE=picket-debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nats-server busybox \
    && ln -s /bin/busybox /usr/local/bin/wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data
EXPOSE 4222 6222 8222
ENTRYPOINT ["nats-server"]
CMD ["-js", "-sd", "/data", "-m", "8222"]
