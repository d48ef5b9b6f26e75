# segpipe: multi-stage build. DuckDB is linked in with cgo, so the build stage needs gcc and the
# runtime needs glibc and libstdc++ (Debian slim has both).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/segpipe ./cmd/segpipe

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/segpipe --create-home segpipe
COPY --from=build /out/segpipe /usr/local/bin/segpipe
COPY config/ /etc/segpipe/
USER 10001:10001
WORKDIR /var/lib/segpipe
ENV SEGPIPE_CONFIG=/etc/segpipe/segpipe.yaml
ENTRYPOINT ["segpipe"]
CMD ["--help"]
