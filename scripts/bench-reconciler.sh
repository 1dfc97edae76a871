#!/usr/bin/env bash
# Times the reconciler on the local emulator: `up` from empty, a no-op `up` (median of 5),
# and `down`, with the AWS calls each made, by operation. Prints Markdown.
#
#   scripts/bench-reconciler.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
# The whole workspace, as the suite builds it: one feature set, no second build of the SDK.
cargo build --release --locked --workspace >&2
bin="$CARGO_TARGET_DIR/release/stackctl"
scripts/moto.sh start >&2
eval "$(scripts/moto.sh env)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stack="bench$(date +%s)"
printf '[stack]\nname = "%s"\n' "$stack" >"$work/stack.toml"

# run LABEL ARGS...: wall time in ms and the JSON answer in $work/LABEL.json
run() {
  local label=$1; shift
  local start end
  start=$(date +%s%N)
  (cd "$work" && "$bin" "$@" --json >"$work/$label.json")
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

calls() { # label -> "N reads, M mutating" and the per-operation list
  python3 - "$work/$1.json" <<'PY'
import json, sys
calls = json.load(open(sys.argv[1]))["aws_calls"]
read = lambda op: op.split(":")[-1].startswith(("Describe", "Get", "List"))
reads = sum(n for op, n in calls.items() if read(op))
muts = sum(n for op, n in calls.items() if not read(op))
print(f"{reads} reads, {muts} mutating")
PY
}

ops() {
  python3 - "$work/$1.json" <<'PY'
import json, sys
for op, n in sorted(json.load(open(sys.argv[1]))["aws_calls"].items()):
    print(f"| {op} | {n} |")
PY
}

up_ms=$(run up up)
noop=()
for i in 1 2 3 4 5; do noop+=("$(run noop up)"); done
noop_ms=$(printf '%s\n' "${noop[@]}" | sort -n | sed -n 3p)
down_ms=$(run down down --yes)

echo "| run | wall time | AWS calls |"
echo "|---|---|---|"
echo "| \`up\` from empty (16 resources) | ${up_ms} ms | $(calls up) |"
echo "| no-op \`up\` (median of 5: ${noop[*]} ms) | ${noop_ms} ms | $(calls noop) |"
echo "| \`down\` | ${down_ms} ms | $(calls down) |"
echo
echo "No-op \`up\`, calls by operation:"
echo
echo "| operation | calls |"
echo "|---|---|"
ops noop
