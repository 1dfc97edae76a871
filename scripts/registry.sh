#!/usr/bin/env bash
# A local container registry (Debian's docker-registry) on loopback, for the image push tests
# (moto does not serve the registry API).
#
#   scripts/registry.sh start    install if needed, start on 127.0.0.1:$REGISTRY_PORT (default 5078)
#   scripts/registry.sh stop
#   scripts/registry.sh status
#   scripts/registry.sh env      print STACKCTL_TEST_REGISTRY=127.0.0.1:PORT
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run="$root/.run"
port="${REGISTRY_PORT:-5078}"
pidfile="$run/registry-$port.pid"
logfile="$run/registry-$port.log"
config="$run/registry-$port.yml"
address="127.0.0.1:$port"

log() { printf 'registry: %s\n' "$*" >&2; }

install() {
  command -v docker-registry >/dev/null && return
  log "installing Debian's docker-registry"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
}

answering() { curl -fsS -o /dev/null --max-time 3 "http://$address/v2/" 2>/dev/null; }

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  mkdir -p "$run"
  if answering; then log "already running at $address"; return; fi
  install
  cat >"$config" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $run/registry-$port-data
  delete:
    enabled: true
http:
  addr: $address
YML
  log "starting at $address (log: $logfile)"
  nohup docker-registry serve "$config" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 60); do
    if answering; then log "ready"; return; fi
    running_pid >/dev/null || { log "exited during start-up:"; tail -20 "$logfile" >&2; rm -f "$pidfile"; exit 1; }
    sleep 0.25
  done
  log "did not answer within 15 s; see $logfile"; exit 1
}

stop() {
  local pid
  if pid=$(running_pid); then kill "$pid"; log "stopped (pid $pid)"; else log "not running"; fi
  rm -f "$pidfile"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if answering; then echo "running at $address"; else echo "not running"; exit 1; fi ;;
  env) echo "export STACKCTL_TEST_REGISTRY=$address" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
