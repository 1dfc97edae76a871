#!/usr/bin/env bash
# Quick start: the message service on this machine against the local AWS emulator.
# Installs and starts the emulator, creates a queue on it, runs the service on port 5000 (PORT
# overrides), exercises POST and GET /message, then keeps serving until Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
port="${PORT:-5000}"

scripts/moto.sh start
eval "$(scripts/moto.sh env)"
cargo build --locked -p app

queue_url=$(.venv/bin/python - <<PY
import boto3
sqs = boto3.client("sqs", endpoint_url="$AWS_ENDPOINT_URL", region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
print(sqs.create_queue(QueueName="quickstart-messages")["QueueUrl"])
PY
)
echo "queue: $queue_url"

ENV=devel PORT="$port" SQS_QUEUE_URL="$queue_url" "$CARGO_TARGET_DIR/debug/app" &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthcheck" 2>/dev/null && break
  kill -0 "$app" 2>/dev/null || { echo "the service exited; is port $port in use? (PORT=... picks another)"; exit 1; }
  sleep 0.1
done

set -x
curl -sS "http://127.0.0.1:$port/healthcheck"; echo
curl -sS -H "Content-Type: application/json" -XPOST "http://127.0.0.1:$port/message" --data '{ "message": "hello" }'; echo
curl -sS -XGET "http://127.0.0.1:$port/message"; echo
{ set +x; } 2>/dev/null
echo
echo "The service is running at http://127.0.0.1:$port (Ctrl-C stops it; scripts/moto.sh stop stops the emulator)."
wait "$app"
