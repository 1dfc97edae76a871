#!/usr/bin/env bash
# Even-sum jobs as they run on AWS, against the local emulator: the API keeps inputs and
# records in a bucket and sends parts to a queue; WORKERS `app worker` processes (two parts at
# a time each, as in examples/even-sum) sum them from S3 ranges. A BIG_MB file end to end, then
# a second client's 1 MB job idle and beside the big one (scripts/bench/jobs.py). The emulator
# wrapper (scripts/moto_server.py) delivers a standard queue's messages as SQS fair queues do,
# a message group per client. Files are generated and removed here. Prints Markdown.
# LATENCY_MS (default 0) runs the jobs on an emulator of their own (port 5056, stopped after)
# that makes each call wait that long first, as a call to AWS takes tens of milliseconds
# (scripts/moto_server.py, EMULATOR_LATENCY_MS).
#
#   scripts/bench-jobs-aws.sh [BIG_MB] [WORKERS] [LATENCY_MS]   # defaults 100, 2 and 0
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
big_mb="${1:-100}"
workers="${2:-2}"
latency_ms="${3:-0}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
cargo build --release --locked -p app >&2
bin="$CARGO_TARGET_DIR/release/app"
if [ "$latency_ms" != 0 ]; then
  export MOTO_PORT=5056 EMULATOR_LATENCY_MS="$latency_ms"
fi
scripts/moto.sh start >&2
eval "$(scripts/moto.sh env)"
work=$(mktemp -d "${TMPDIR:-/tmp}/even-sum-aws.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  if [ "$latency_ms" != 0 ]; then scripts/moto.sh stop >&2; fi
}
trap cleanup EXIT
name="bench-$(date +%s)"
read -r bucket queue < <(.venv/bin/python - "$name" <<'PY'
import json, os, sys, boto3
name = sys.argv[1]
at = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
s3 = boto3.client("s3", **at)
sqs = boto3.client("sqs", **at)
s3.create_bucket(Bucket=f"{name}-jobs")
dlq = sqs.create_queue(QueueName=f"{name}-parts-dlq")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
url = sqs.create_queue(QueueName=f"{name}-parts", Attributes={
    "VisibilityTimeout": "60",
    "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"}),
})["QueueUrl"]
print(f"{name}-jobs", url)
PY
)
python3 scripts/bench/even_sum_input.py "$big_mb" "$work/big.txt"
python3 scripts/bench/even_sum_input.py 1 "$work/small.txt" 6
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ENV=bench S3_BUCKET_JOBS="$bucket" SQS_QUEUE_URL="$queue" RUST_LOG=warn
PORT="$port" "$bin" >"$work/api.log" 2>&1 &
api=$!
pids+=("$api")
for n in $(seq "$workers"); do
  WORKER_CONCURRENCY=2 "$bin" worker >"$work/worker-$n.log" 2>&1 &
  pids+=("$!")
done
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthcheck" >/dev/null 2>&1 && break
  sleep 0.05
done
echo "| what | time | upload | summing (execution_ms) | notes |"
echo "|---|---|---|---|---|"
POLL_MS=50 python3 scripts/bench/jobs.py "http://127.0.0.1:$port" "$work/big.txt" "$work/small.txt" "$api"
