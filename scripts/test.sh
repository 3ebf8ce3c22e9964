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

# redis-sentinel (Debian's package of that name) for the Sentinel failover
# test of the real-Redis run.
if ! command -v redis-sentinel >/dev/null 2>&1; then
  echo "== installing redis-sentinel"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-sentinel >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-sentinel >/dev/null; fi
fi

# The dashboard's browser test drives Debian's chromium headless; without it
# that one test would only be skipped (and here it fails instead).
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
export DATOSBOT_REQUIRE_CHROMIUM=1 # the browser test fails instead of skipping

# promtool (Debian's prometheus package) checks a scrape of /metrics.
if ! command -v promtool >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  echo "== installing promtool"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq prometheus curl >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq prometheus curl >/dev/null; fi
fi
export DATOSBOT_REQUIRE_PROMTOOL=1 # the Go tests that run promtool fail instead of skipping

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
# A count of inputs, not a duration, by default: with a duration Go 1.26's
# fuzz coordinator can fail a target with a bare "context deadline
# exceeded" at the end of its time on a loaded machine, having found
# nothing (golang/go#75804, fixed in Go 1.27).
echo "== fuzz targets, ${DATOSBOT_FUZZTIME:-3000x} each (corpora in each package's testdata/fuzz)"
for target in .:FuzzValidateDataURL .:FuzzValidateEvidenceURL ./commands:FuzzParse ./commands:FuzzParseAnnouncement \
  ./bot/slack:FuzzCommandBody ./bot/slack:FuzzInteractionBody ./bot/slack:FuzzBlocks ./bot/telegram:FuzzRender; do
  go test -run='^$' -fuzz="^${target#*:}\$" -fuzztime="${DATOSBOT_FUZZTIME:-3000x}" -fuzzminimizetime=2s "${target%%:*}"
done
echo "== go test -race (real redis-server on 127.0.0.1:$port, and a Sentinel failover)"
# DATOSBOT_TEST_SENTINEL: redis-server, redis-sentinel and redis-cli are on
# PATH, so TestSentinelFailoverKeepsAcknowledgedRegistrations runs.
DATOSBOT_TEST_REDIS_URL="redis://127.0.0.1:$port/0" DATOSBOT_TEST_SENTINEL=1 go test -race -count=1 ./...
echo "== build (as the Dockerfile does)"
CGO_ENABLED=0 go build -trimpath -o "$dir/datosbot" ./cmd/datosbot

echo "== promtool check metrics (a scrape of the binary on the real redis-server)"
# The portal is off: no test dials datos.gob.mx (its metrics are linted by TestPortalWiring on a fake).
for _ in $(seq 50); do
  http_port=$((20000 + RANDOM % 20000))
  curl -s "http://127.0.0.1:$http_port/" >/dev/null 2>&1 || break
done
REDIS_URL="redis://127.0.0.1:$port/15" DATOSBOT_ADDR="127.0.0.1:$http_port" DATOSBOT_CONSOLE=0 DATOSBOT_CKAN_URL=off \
  "$dir/datosbot" >"$dir/bot.log" 2>&1 &
bot_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null
curl -sf "http://127.0.0.1:$http_port/metrics" >"$dir/metrics.txt" || { kill "$bot_pid"; cat "$dir/bot.log"; exit 1; }
kill "$bot_pid"; wait "$bot_pid" 2>/dev/null || true
grep -q '^datosbot_outbox_sent_total ' "$dir/metrics.txt" || { echo "the scrape lacks the outbox figures:"; cat "$dir/metrics.txt"; exit 1; }
promtool check metrics <"$dir/metrics.txt"
echo "== all tests passed"
