#!/usr/bin/env bash
# Quick start: the default stack (stack.toml) provisioned on the local AWS emulator with
# stackctl, and the message service running against the stack's own queue.
#
# Installs and starts the emulator, builds stackctl and the service, runs `stackctl up`,
# starts the service on port 5000 (PORT overrides) with the queue URL stackctl reports,
# exercises POST and GET /message, then keeps serving until Ctrl-C.
# `stackctl down --yes` (with scripts/moto.sh env) removes the stack; `scripts/moto.sh stop`
# stops the emulator.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
port="${PORT:-5000}"

scripts/moto.sh start
eval "$(scripts/moto.sh env)"
# Built one at a time: the same feature sets as the test suite uses, so nothing is rebuilt.
cargo build --locked -p stackctl
cargo build --locked -p app
stackctl="$CARGO_TARGET_DIR/debug/stackctl"

# No container engine is needed: on the emulator the ECS service is only described, and the
# service itself runs below as a local process with the task definition's settings.
"$stackctl" up --yes --image stackctl.local/messages:quickstart
queue_url=$("$stackctl" status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["outputs"]["queue_url"])')

if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
  echo "error: port $port is in use; run PORT=5001 $0 to use another" >&2
  exit 1
fi
ENV=devel PORT="$port" SQS_QUEUE_URL="$queue_url" "$CARGO_TARGET_DIR/debug/app" &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthcheck" 2>/dev/null && break
  kill -0 "$app" 2>/dev/null || { echo "error: the service exited during start-up" >&2; exit 1; }
  sleep 0.1
done

echo
set -x
curl -sS "http://127.0.0.1:$port/healthcheck"; echo
curl -sS -H "Content-Type: application/json" -XPOST "http://127.0.0.1:$port/message" --data '{ "message": "hello" }'; echo
curl -sS -XGET "http://127.0.0.1:$port/message"; echo
{ set +x; } 2>/dev/null
echo
echo "The service is running at http://127.0.0.1:$port on queue $queue_url (Ctrl-C stops it)."
wait "$app"
