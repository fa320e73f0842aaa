# attache with the Swift runtime linked in (--static-swift-stdlib): the runtime image needs only libyaml, libcurl
# and CA certificates from Debian. Build: docker build -t attache:latest .
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libyaml-dev libcurl4-openssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --product attache --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/attache" /out/attache

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libyaml-0-2 libcurl4 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/attache /usr/local/bin/attache
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/attache"]
