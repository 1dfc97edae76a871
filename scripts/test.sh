#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (the emulator's virtualenv),
# starts the local AWS emulator, runs the checks, and stops the emulator it started.
#
#   scripts/test.sh
#
# Uses one shared build folder ($CARGO_TARGET_DIR, default ~/.cache/stackctl-target) so that
# the AWS SDK crates are compiled once for development, tests and CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

started_here=false
if ! scripts/moto.sh status >/dev/null 2>&1; then
  scripts/moto.sh start
  started_here=true
fi
cleanup() { if $started_here; then scripts/moto.sh stop; fi; }
trap cleanup EXIT

# Every AWS call of the tests goes to the emulator on loopback, never to a real account.
eval "$(scripts/moto.sh env)"

# The checks themselves are the stages of ci.yml, run by stackctl's own pipeline runner.
cargo build --locked -p stackctl
"$CARGO_TARGET_DIR/debug/stackctl" ci --file ci.yml --timings
