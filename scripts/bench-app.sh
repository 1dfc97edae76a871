#!/usr/bin/env bash
# Benchmarks the message service's release build with wrk, on loopback only:
#   1. the in-memory queue (ENV=devel), 2. the emulator's SQS (moto).
# Prints a Markdown table: requests/s and p99 latency for GET /healthcheck and for a
# POST+GET pair, the idle RSS after start-up and the peak RSS (VmHWM) after the load.
#
#   scripts/bench-app.sh            # 10 s per run
#   DURATION=30s scripts/bench-app.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
duration="${DURATION:-10s}"
port="${BENCH_PORT:-5077}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --locked -p app >&2
bin="$CARGO_TARGET_DIR/release/app"

pid=""
stop_app() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap stop_app EXIT

start_app() { # env assignments...
  env -i PATH="$PATH" PORT="$port" LOG_FORMAT=json RUST_LOG=warn "$@" "$bin" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthcheck" 2>/dev/null && break
    sleep 0.1
  done
  sleep 1
}

rss_kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$pid/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# wrk prints "Requests/sec: N" and, with --latency, a "99% X" line.
run_wrk() { # connections script-or-empty path
  local out
  if [ -n "$2" ]; then
    out=$(wrk -t2 -c"$1" -d"$duration" --latency -s "$2" "http://127.0.0.1:$port$3")
  else
    out=$(wrk -t2 -c"$1" -d"$duration" --latency "http://127.0.0.1:$port$3")
  fi
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
  echo "$rps|$p99|${errors:-0}"
}

row() { # label connections script path
  local r
  r=$(run_wrk "$2" "$3" "$4")
  IFS='|' read -r rps p99 errors <<<"$r"
  echo "| $1 | $2 | $rps | $p99 | $errors |"
}

echo "| run | connections | requests/s | p99 latency | non-2xx |"
echo "|---|---|---|---|---|"

start_app ENV=devel SQS_WAIT_SECS=0
idle_mem=$(rss_kib VmRSS)
row "in-memory: GET /healthcheck" 64 "" /healthcheck
row "in-memory: POST+GET pair" 64 scripts/bench/post-get.lua /message
peak_mem=$(rss_kib VmHWM)
stop_app

scripts/moto.sh start >&2
queue_url=$(.venv/bin/python - <<PY
import boto3
sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url="http://127.0.0.1:${MOTO_PORT:-5055}",
                   aws_access_key_id="test", aws_secret_access_key="test")
print(sqs.create_queue(QueueName="bench-app")["QueueUrl"])
PY
)
start_app ENV=bench SQS_QUEUE_URL="$queue_url" SQS_WAIT_SECS=0 AWS_ENDPOINT_URL="http://127.0.0.1:${MOTO_PORT:-5055}" \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
sqs_idle=$(rss_kib VmRSS)
row "SQS (moto): GET /healthcheck" 64 "" /healthcheck
row "SQS (moto): POST+GET pair" 8 scripts/bench/post-get.lua /message
sqs_peak=$(rss_kib VmHWM)
stop_app

echo
echo "| memory | in-memory queue | SQS (moto) |"
echo "|---|---|---|"
echo "| idle RSS after start-up | $(mib "$idle_mem") | $(mib "$sqs_idle") |"
echo "| peak RSS (VmHWM) after load | $(mib "$peak_mem") | $(mib "$sqs_peak") |"
