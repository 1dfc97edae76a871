#!/usr/bin/env bash
# Even-sum jobs over HTTP in ENV=devel (API and workers in one process, a local folder for
# inputs and records): a BIG_MB file end to end (upload, summing, result), then fairness: a
# 1 MB job of a second client on an idle service and while the big job runs
# (scripts/bench/jobs.py says how each is timed). The files are generated and removed here,
# never committed. Prints Markdown.
#
#   scripts/bench-jobs.sh [BIG_MB]   # default 100; 5120 for 5 GB (needs 11 GB free in TMPDIR)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
big_mb="${1:-100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
cargo build --release --locked -p app >&2
bin="$CARGO_TARGET_DIR/release/app"
work=$(mktemp -d "${TMPDIR:-/tmp}/even-sum-jobs.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
python3 scripts/bench/even_sum_input.py "$big_mb" "$work/big.txt"
python3 scripts/bench/even_sum_input.py 1 "$work/small.txt" 6
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ENV=devel PORT="$port" JOBS_DIR="$work/jobs" RUST_LOG=warn "$bin" >"$work/app.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthcheck" >/dev/null 2>&1 && break
  sleep 0.05
done
echo "| what | time | upload | summing (execution_ms) | notes |"
echo "|---|---|---|---|---|"
python3 scripts/bench/jobs.py "http://127.0.0.1:$port" "$work/big.txt" "$work/small.txt" "$pid"
