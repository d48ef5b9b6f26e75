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
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="segpipe" \
      org.opencontainers.image.description="B2B SaaS customer segmentation as a batch ETL job: CRM, billing and support exports to a Parquet lake, DuckDB segment tables for BI tools" \
      org.opencontainers.image.source="https://github.com/segpipe/segpipe" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/segpipe --create-home segpipe
COPY --from=build /out/segpipe /usr/local/bin/segpipe
COPY config/ /etc/segpipe/
USER 10001:10001
WORKDIR /var/lib/segpipe
ENV SEGPIPE_CONFIG=/etc/segpipe/segpipe.yaml
# segpipe serve's ops port (/healthz, /readyz, /metrics); set serve.address: 0.0.0.0:9464 in
# the config so it is reachable from outside the container.
EXPOSE 9464
ENTRYPOINT ["segpipe"]
CMD ["--help"]
