#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (the emulator's virtualenv,
# Debian's docker-registry), starts the local AWS emulator and registry, runs the checks, and
# stops what it started.
#
#   scripts/test.sh
#
# Uses one shared build folder ($CARGO_TARGET_DIR, default ~/.cache/stackctl-target) so that
# the AWS SDK crates are compiled once for development, tests and CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

moto_started=false
if ! scripts/moto.sh status >/dev/null 2>&1; then
  scripts/moto.sh start
  moto_started=true
fi
registry_started=false
if ! scripts/registry.sh status >/dev/null 2>&1; then
  scripts/registry.sh start
  registry_started=true
fi
cleanup() {
  if $moto_started; then scripts/moto.sh stop; fi
  if $registry_started; then scripts/registry.sh stop; fi
}
trap cleanup EXIT

# Every AWS call of the tests goes to the emulator on loopback, never to a real account;
# image pushes go to the local registry.
eval "$(scripts/moto.sh env)"
eval "$(scripts/registry.sh env)"

# The checks themselves are the stages of ci.yml, run by stackctl's own pipeline runner.
cargo build --workspace --locked
"$CARGO_TARGET_DIR/debug/stackctl" ci --file ci.yml --timings
