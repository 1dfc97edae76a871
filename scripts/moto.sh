#!/usr/bin/env bash
# The local AWS emulator (moto) used by every integration test and by the quick start.
#
#   scripts/moto.sh install   create .venv and install moto[server]==5.2.5 (once)
#   scripts/moto.sh start     install if needed, start on 127.0.0.1:$MOTO_PORT, wait until it answers
#   scripts/moto.sh stop      stop the emulator this script started (by its PID file)
#   scripts/moto.sh reset     forget every resource (POST /moto-api/reset)
#   scripts/moto.sh status    say whether it is running
#   scripts/moto.sh env       print the environment that points the AWS SDK at it (eval "$(...)")
#
# MOTO_PORT (default 5055) picks the port. moto runs through scripts/moto_server.py, which makes
# an ECS service run exactly the tasks it wants at once (moto runs none), so that rollouts of
# any size complete and `status` shows consistent counts.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
run="$root/.run"
port="${MOTO_PORT:-5055}"
pidfile="$run/moto-$port.pid"
logfile="$run/moto-$port.log"
endpoint="http://127.0.0.1:$port"
moto_version="5.2.5"

log() { printf 'moto: %s\n' "$*" >&2; }

install() {
  if [ -x "$venv/bin/moto_server" ] && "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null; then
    return
  fi
  log "installing moto[server]==$moto_version into $venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 ships venv separately.
    log "python3 -m venv failed; installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
}

# The dashboard page is cheap (data.json grows with every resource moto holds).
answering() { curl -fsS -o /dev/null --max-time 5 "$endpoint/moto-api/" 2>/dev/null; }

running_pid() {
  local pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
    return
  fi
  # A stale or missing PID file: look for our own server (this venv, this port) by command line.
  pid=$(pgrep -f "moto_server.py -H 127.0.0.1 -p $port\$" | head -1) || true
  [ -n "$pid" ] && echo "$pid" >"$pidfile" && echo "$pid"
}

start() {
  mkdir -p "$run"
  if running_pid >/dev/null && answering; then
    log "already running at $endpoint (pid $(cat "$pidfile"))"
    return
  fi
  if answering; then
    log "something else already answers at $endpoint; using it (not started by this script)"
    return
  fi
  install
  log "starting at $endpoint (log: $logfile)"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true \
    nohup "$venv/bin/python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if answering; then log "ready"; return; fi
    if ! running_pid >/dev/null; then
      rm -f "$pidfile"
      log "exited during start-up; last lines of $logfile:"; tail -20 "$logfile" >&2; exit 1
    fi
    sleep 0.5
  done
  log "did not answer within 60 s; see $logfile"; stop; exit 1
}

stop() {
  local pid
  if pid=$(running_pid); then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped (pid $pid)"
  else
    log "not running"
  fi
  rm -f "$pidfile"
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  reset) curl -fsS -X POST "$endpoint/moto-api/reset" >/dev/null && log "reset" ;;
  status) if answering; then echo "running at $endpoint"; else echo "not running"; exit 1; fi ;;
  env)
    echo "export AWS_ENDPOINT_URL=$endpoint"
    echo "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1"
    ;;
  *) echo "usage: $0 install|start|stop|reset|status|env" >&2; exit 2 ;;
esac
