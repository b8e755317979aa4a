#!/usr/bin/env bash
# `make bench`: the pages in one process and under gunicorn driven by wrk, delivery by real RQ
# workers to a local SMTP server, the scan at growing sizes, the token API
# under gunicorn driven by wrk; then RESULTS.md.
# `bash bench/run.sh --quick`: a smoke check of these scripts (5 s per
# endpoint, small worlds), results in bench/out/RESULTS-quick.md.
# `BENCH_STEPS="api" bash bench/run.sh`: only some of the steps (pages,
# delivery, scan, api); RESULTS.md keeps the sections of the others as an
# earlier run wrote them.
#
# What is measured is the last commit (HEAD), copied to bench/out/src with
# these scripts as they are: files being edited meanwhile are not measured
# half-done, and RESULTS.md names the commit.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
OUT=$ROOT/bench/out
SIZES=10000,100000,1000000 DUE=1000 MANY_DUE=10000 MESSAGES=10000 RESULTS=bench/RESULTS.md
API_ROUNDS=6 API_ROUND=5s PAGE_ROUNDS=6 PAGE_ROUND=5s PAGE_RENDER_ROUNDS=7
if [ "${1:-}" = --quick ]; then
  SIZES=1000,10000 DUE=100 MANY_DUE=1000 MESSAGES=1000 RESULTS=bench/out/RESULTS-quick.md
  API_ROUNDS=1 PAGE_ROUNDS=1 PAGE_RENDER_ROUNDS=2
fi
if ! command -v wrk >/dev/null; then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  { $sudo apt-get install -y wrk || { $sudo apt-get update && $sudo apt-get install -y wrk; }; } > /dev/null \
    || { echo "Install Debian's wrk: apt-get install -y wrk" >&2; exit 1; }
fi

STEPS=${BENCH_STEPS:-pages delivery scan api}
step() { [[ " $STEPS " == *" $1 "* ]]; }

RESULTS=$ROOT/$RESULTS
rm -rf "$OUT"
mkdir -p "$OUT/instance" "$OUT/src/bench"
git archive HEAD | tar -x -C "$OUT/src" --exclude=bench
cp -r bench/*.py bench/*.sh bench/*.lua bench/templates "$OUT/src/bench/"
git rev-parse --short HEAD > "$OUT/commit"
cd "$OUT/src"
if compgen -G "portal/translations/*/LC_MESSAGES/messages.po" > /dev/null; then "$ROOT/.venv/bin/pybabel" compile -d portal/translations > /dev/null; fi
export BENCH_OUT=$OUT
# Redis database 14 and a queue of this run's own: nothing shared with the
# tests (database 15) or a running portal (database 0).
export KEEPALIVE_INSTANCE=$OUT/instance SANDBOX=0 REDIS_URL=redis://127.0.0.1:6379/14
export QUEUE_NAME=bench-$$ RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/14

# What else the machine is doing (the second frame of top: current CPU use).
load() { { date -u +%FT%TZ; cat /proc/loadavg; top -b -c -n2 -d1 -w 400 | awk '/^top -/{n++} n==2' | sed -n '7,14p'; } > "$OUT/load-$1.txt"; }
load start
date -u +"%F %T UTC" > "$OUT/started"

free_port() { $PYTHON -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if step pages; then
echo "== pages"
export DATABASE_URL=sqlite:///$OUT/pages.sqlite
$PYTHON -m bench.pages seed "$DATABASE_URL"
# In one process first (nothing else of this run competing), each page and its baseline in turns.
$PYTHON -m bench.pages render "$PAGE_RENDER_ROUNDS"
# Then under gunicorn as the product runs: no page kept, every answer rendered, but an unchanged
# repeat view (If-None-Match: the ETag of the page) answered 304.
PORT=$(free_port)
"$ROOT/.venv/bin/gunicorn" --workers 2 --bind "127.0.0.1:$PORT" --error-logfile "$OUT/gunicorn-pages.log" \
  bench.wsgi_bench:app &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -so /dev/null "http://127.0.0.1:$PORT/login" && break
  sleep 0.1
done
COOKIE=$($PYTHON -m bench.pages signin "http://127.0.0.1:$PORT")
page_headers() {  # the headers of endpoint kind $1
  headers=(-H "Cookie: $COOKIE")
  [ "$1" = htmx ] && headers+=(-H "HX-Request: true")
  [ "$1" = conditional ] && headers+=(-H "If-None-Match: $(cat "$OUT/accounts-etag")")
  return 0
}
while read -r name path kind; do
  page_headers "$kind"
  wrk -t2 -c10 -d2s "${headers[@]}" "http://127.0.0.1:$PORT$path" > /dev/null  # warm both workers up
done < <($PYTHON -m bench.pages endpoints)
load pages
# Each page right before its baseline, in rounds of a few seconds, so that what else the machine
# does falls on both alike; the report takes the median of the rounds.
for round in $(seq "$PAGE_ROUNDS"); do
  while read -r name path kind; do
    page_headers "$kind"
    [ "$kind" = conditional ] && export WRK_COUNT_STATUS=1
    wrk -t2 -c10 -d"$PAGE_ROUND" --timeout 10s --latency -s "$ROOT/bench/percentiles.lua" "${headers[@]}" \
      "http://127.0.0.1:$PORT$path" > "$OUT/wrk-$name-$round.txt"
    unset WRK_COUNT_STATUS
    tail -n1 "$OUT/wrk-$name-$round.txt" > "$OUT/wrk-$name-$round.json"
    echo "$name ($round): $(cat "$OUT/wrk-$name-$round.json")"
  done < <($PYTHON -m bench.pages endpoints)
done
kill $GUNICORN
wait $GUNICORN 2>/dev/null || true
unset DATABASE_URL
fi

if step delivery; then
echo "== delivery"
$PYTHON -m bench.delivery "$MESSAGES" sqlite
$PYTHON -m bench.delivery "$MESSAGES" postgresql
load delivery
fi

if step scan; then
echo "== scan"
$PYTHON -m bench.scan "$SIZES" "$DUE" "$MANY_DUE"
fi

if step api; then
echo "== api"
# The token API and its baselines (bench/baseline.py) on one server, gunicorn with 2 workers, as the pages.
export DATABASE_URL=sqlite:///$OUT/api.sqlite
$PYTHON -m bench.api seed "$DATABASE_URL" > "$OUT/api-endpoints.txt"
PORT=$(free_port)
# shellcheck disable=SC2046
env $($PYTHON -m bench.api environment) "$ROOT/.venv/bin/gunicorn" --workers 2 --bind "127.0.0.1:$PORT" \
  --error-logfile "$OUT/gunicorn-api.log" bench.wsgi_bench:app &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -so /dev/null "http://127.0.0.1:$PORT/api/v1/openapi.json" && break
  sleep 0.1
done
# shellcheck disable=SC2046
$PYTHON -m bench.api check "http://127.0.0.1:$PORT" $(awk '{print $2}' "$OUT/api-endpoints.txt")
AUTHORIZATION="Authorization: Bearer $(cat "$OUT/api-key")"
while read -r name path; do
  wrk -t2 -c10 -d2s -H "$AUTHORIZATION" "http://127.0.0.1:$PORT$path" > /dev/null  # warm both workers up
done < "$OUT/api-endpoints.txt"
load api
# Each endpoint and its baseline in turns of a few seconds, so that what else the machine does falls on
# both alike; the report takes the median of the rounds.
for round in $(seq "$API_ROUNDS"); do
  while read -r name path; do
    wrk -t2 -c10 -d"$API_ROUND" --timeout 10s --latency -s "$ROOT/bench/percentiles.lua" -H "$AUTHORIZATION" \
      "http://127.0.0.1:$PORT$path" > "$OUT/wrk-$name-$round.txt"
    tail -n1 "$OUT/wrk-$name-$round.txt" > "$OUT/wrk-$name-$round.json"
    echo "$name ($round): $(cat "$OUT/wrk-$name-$round.json")"
  done < "$OUT/api-endpoints.txt"
done
kill $GUNICORN
wait $GUNICORN 2>/dev/null || true
unset DATABASE_URL
fi
load end

$PYTHON -m bench.report "$RESULTS"
echo "written: $RESULTS"
