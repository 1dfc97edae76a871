#!/usr/bin/env bash
# The README's timeline picture: `up` of a stack with a service and a queue, against the
# emulator with AWS's timings played in front of it (awsfront) at SCALE, drawn by
# `stackctl history --chart`. SCALE 0.1 (the default) runs ten times faster than AWS, so the
# picture's seconds are a tenth of AWS's; 1.0 takes AWS's own minutes.
#
#   scripts/timeline.sh [SCALE] [FILE]     # FILE: docs/images/up-timeline.svg
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scale="${1:-0.1}"
out="$(pwd)/${2:-docs/images/up-timeline.svg}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
cargo build --locked --workspace >&2
bin="$CARGO_TARGET_DIR/debug"
source scripts/front.sh
front_start 5058 "$scale" /dev/null
work=$(mktemp -d)
cleanup() {
  (cd "$work" && "$bin/stackctl" down --yes >/dev/null 2>&1) || true
  kill "$front" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/stack.toml" <<TOML
[stack]
name = "timeline$(date +%s)"
[queue]
[service]
image = "registry.example/messages:1"
TOML
(cd "$work" && "$bin/stackctl" up --yes >/dev/null 2>"$work/up.log") || { cat "$work/up.log" >&2; exit 1; }
(cd "$work" && "$bin/stackctl" history --chart "$out")
