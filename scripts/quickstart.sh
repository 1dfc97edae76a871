#!/usr/bin/env bash
# Quick start: the whole default stack (stack.toml) on this machine, no AWS account needed.
#
#   scripts/quickstart.sh         install and start the local AWS emulator if needed, build
#                                 stackctl and the service, and run `stackctl up --local`:
#                                 provision the stack on the emulator, then run the service as
#                                 its task definition describes it and exercise it
#   scripts/quickstart.sh stop    stop the service and run `stackctl down` (the emulator keeps
#                                 running; `scripts/moto.sh stop` stops it)
#   scripts/quickstart.sh [stop] examples/api-and-workers
#                                 the same for another stack file (or a folder holding one):
#                                 every service of it runs here, web ones behind a local router
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
stackctl="$CARGO_TARGET_DIR/debug/stackctl"

scripts/moto.sh start
eval "$(scripts/moto.sh env)"
# Built one at a time: the same feature sets as the test suite uses, so nothing is rebuilt.
cargo build --locked -p stackctl
cargo build --locked -p app

action=up
file=stack.toml
for arg in "$@"; do
  case "$arg" in
    up|stop) action="$arg" ;;
    *)
      if [ -d "$arg" ]; then file="$arg/stack.toml"; else file="$arg"; fi
      [ -f "$file" ] || { echo "no stack file at $file" >&2; exit 2; }
      ;;
  esac
done

case "$action" in
  up)
    "$stackctl" up --local --yes -f "$file"
    echo
    "$stackctl" status -f "$file"
    ;;
  stop)
    "$stackctl" down --local --yes -f "$file"
    echo "The emulator is still running; scripts/moto.sh stop stops it."
    ;;
esac
