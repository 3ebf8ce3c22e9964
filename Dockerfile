# syntax=docker/dockerfile:1
# Multi-stage build of a static datosbot binary (CGO_ENABLED=0), run as a
# non-root user with CA certificates (HTTPS to Slack and Telegram). The time
# zone data is embedded in the binary (import _ "time/tzdata"), and the
# image carries /usr/share/zoneinfo as well for tools that look for it.
# CI builds the same binary with the same flags (scripts/test.sh).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/datosbot ./cmd/datosbot

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home datosbot
COPY --from=build /out/datosbot /usr/local/bin/datosbot
USER 10001:10001
WORKDIR /data
ENV DATOSBOT_ADDR=:8080 \
    DATOSBOT_DATA_FILE=/data/datosbot-data.json \
    DATOSBOT_CONSOLE=0
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/usr/local/bin/datosbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/datosbot"]
