# The HAVIP console in a container, built from this repository:
#   docker build -f contrib/docker/serve.Dockerfile -t havip .
#   docker run -d --name havip -p 3000:3000 -v havip-data:/var/lib/havip havip
#   docker logs havip | grep set-up      # the first administrator's set-up code
# Settings: HAVIP_* variables (-e HAVIP_METRICS_TOKEN=…) or a TOML file (-e HAVIP_CONFIG=…).
# It stops cleanly on `docker stop` (SIGTERM; give it --stop-timeout 20 under load).

FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# the wasm target, cargo-leptos, wasm-bindgen and binaryen, then the release binary with the
# site embedded
RUN scripts/setup.sh && scripts/build.sh && strip target/release/havip \
 && mkdir -p /out/var/lib/havip

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/havip /usr/local/bin/havip
# owned by distroless' nonroot user (65532): a new volume mounted here takes this ownership
COPY --from=build --chown=65532:65532 /out/var/lib/havip /var/lib/havip
USER nonroot
ENV HAVIP_LISTEN=0.0.0.0:3000 \
    HAVIP_DATA_DIR=/var/lib/havip/data \
    HAVIP_LOG_FORMAT=json
EXPOSE 3000
VOLUME ["/var/lib/havip"]
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/havip"]
CMD ["serve"]
