# soakwatch container image: built in one Debian stage, run in another that
# holds only the shared libraries the binary links against. Runs as an
# unprivileged numeric user so Kubernetes can verify runAsNonRoot.

FROM debian:bookworm-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        cmake gcc libc6-dev make pkg-config \
        librdkafka-dev libjansson-dev libev-dev libhttp-parser-dev zlib1g-dev \
        libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build build --target soakwatch -j"$(nproc)" \
    && strip build/soakwatch

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librdkafka1 libjansson4 libev4 libhttp-parser2.9 zlib1g libcurl4 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/soakwatch /usr/local/bin/soakwatch
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/soakwatch"]
CMD ["run", "--config", "/etc/soakwatch/config.json", "--http", "0.0.0.0:9464"]
