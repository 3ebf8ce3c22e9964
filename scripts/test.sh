#!/usr/bin/env bash
# Runs the whole test suite: hermetic (in-process Redis, httptest fakes of
# Slack and Telegram) and again against a real redis-server, which it
# installs from Debian's packages and starts when it is missing, as it
# installs chromium for the dashboard's browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Go is at /usr/local/go on the project's machines, not always on PATH.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "== installing redis-server"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-server >/dev/null; fi
fi

# The dashboard's browser test drives Debian's chromium headless; without it
# that one test would only be skipped.
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi

# A port of our own, so that a Redis already running (or another test run)
# is never touched.
port=${DATOSBOT_TEST_REDIS_PORT:-}
if [ -z "$port" ]; then
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 20000))
    redis-cli -p "$port" ping >/dev/null 2>&1 || break
  done
fi
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'kill "$(cat "$dir/redis.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start:"; cat "$dir/redis.log"; exit 1; }

echo "== go vet"
go vet ./...
echo "== go test -race (hermetic)"
go test -race -count=1 ./...
echo "== go test -race (real redis-server on 127.0.0.1:$port)"
DATOSBOT_TEST_REDIS_URL="redis://127.0.0.1:$port/0" go test -race -count=1 ./...
echo "== build (as the Dockerfile does)"
CGO_ENABLED=0 go build -trimpath -o /dev/null ./cmd/datosbot
echo "== all tests passed"
