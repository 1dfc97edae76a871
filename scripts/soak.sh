#!/usr/bin/env bash
# The soak run: many seeded `up`/`down` cycles of a whole stack (with its service) through a
# hostile network played by awsfront in front of the emulator (lost answers, throttling,
# 500/503, reset connections, slow answers), some runs killed with SIGKILL at a random call.
# Prints one line per cycle, then converged / duplicates / leaked / panics as Markdown
# (the last result is in docs/reliability.md). Exits non-zero if a target is missed.
#
#   scripts/soak.sh                     # 100 cycles, 20% faults, 10 kills, seed 1: ~15 min
#   SOAK_CYCLES=10 SOAK_SEED=7 scripts/soak.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
scripts/moto.sh start >&2
eval "$(scripts/moto.sh env)"
export SOAK_CYCLES="${SOAK_CYCLES:-100}" SOAK_KILLS="${SOAK_KILLS:-10}" \
  SOAK_RATE="${SOAK_RATE:-0.2}" SOAK_SEED="${SOAK_SEED:-1}"
exec cargo test --locked --workspace --test it soak::soak -- --ignored --exact --nocapture
