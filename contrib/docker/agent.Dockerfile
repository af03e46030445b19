# An HAVIP agent in a container. It must see the HAVIPs' L2 segment, so it shares the host's
# network, and it needs exactly one capability (a raw socket for ARP):
#   docker build -f contrib/docker/agent.Dockerfile -t havip-agent .
#   docker run -d --name havip-agent --network host --cap-drop ALL --cap-add NET_RAW \
#     -e HAVIP_INTERFACE=eth0 -e HAVIP_SERVER=wss://console.example.internal:3000 \
#     -e HAVIP_AGENT_TOKEN=hvt_… havip-agent
# (it runs as root inside the container with NET_RAW only: Docker gives added capabilities to
# root, and the image holds nothing but the binary)

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# the agent needs no web site: the plain release build
RUN cargo build --release -p havip && strip target/release/havip

FROM gcr.io/distroless/cc-debian12
COPY --from=build /src/target/release/havip /usr/local/bin/havip
ENV HAVIP_LOG_FORMAT=json
ENTRYPOINT ["/usr/local/bin/havip"]
CMD ["agent"]
