#!/usr/bin/env bash
# Quick start: the whole default stack (stack.toml) on this machine, no AWS account needed.
#
#   scripts/quickstart.sh         install and start the local AWS emulator if needed, build
#                                 stackctl and the service, and run `stackctl up --local`:
#                                 provision the stack on the emulator, then run the service as
#                                 its task definition describes it and exercise it
#   scripts/quickstart.sh stop    stop the service and run `stackctl down` (the emulator keeps
#                                 running; `scripts/moto.sh stop` stops it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
stackctl="$CARGO_TARGET_DIR/debug/stackctl"

scripts/moto.sh start
eval "$(scripts/moto.sh env)"
# Built one at a time: the same feature sets as the test suite uses, so nothing is rebuilt.
cargo build --locked -p stackctl
cargo build --locked -p app

case "${1:-up}" in
  up)
    "$stackctl" up --local --yes
    echo
    "$stackctl" status
    ;;
  stop)
    "$stackctl" down --local --yes
    echo "The emulator is still running; scripts/moto.sh stop stops it."
    ;;
  *) echo "usage: $0 [stop]" >&2; exit 2 ;;
esac
