#!/usr/bin/env bash
# Stacks of 1 to 50 services at AWS's pace: `up`, a no-op `up` and `down` through awsfront
# (crates/awsfront, AWS's timings and rate limits played in front of the emulator) against the
# critical-path bound, with the calls each run makes, stackctl's peak memory and the time of
# `validate`; and the same no-op `up` straight to the emulator (what its own answers cost). Each stack has N services, every other one a web service (the first takes what
# no rule matches, the others a path each) and the rest workers, and a queue each. Prints
# Markdown.
#
#   scripts/bench-scale.sh [SCALE] [SIZES]    # defaults: 0.25 and "1 10 25 50"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scale="${1:-0.25}"
sizes="${2:-1 10 25 50}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
cargo build --release --locked --workspace >&2
bin="$CARGO_TARGET_DIR/release"
# Every call the front answers, to count the ones it throttled (AWS's rates, as modelled).
front_log=$(mktemp)
source scripts/front.sh
front_start 5058 "$scale" "$front_log"
work=$(mktemp -d)
trap 'kill $front 2>/dev/null; rm -rf "$work" "$front_log"' EXIT

# A stack of $1 services named $2.
stack_file() {
  local n=$1 name=$2
  printf '[stack]\nname = "%s"\n' "$name"
  for i in $(seq 1 "$n"); do
    printf '\n[queues.q%s]\n\n[services.s%s]\nimage = "registry.example/messages:1"\n' "$i" "$i"
    if (( i % 2 == 1 )); then
      printf 'kind = "web"\nsends_to = ["q%s"]\n' "$i"
      if (( i > 1 )); then printf 'paths = ["/s%s/*"]\n' "$i"; fi
    else
      printf 'kind = "worker"\nconsumes = ["q%s"]\ncommand = ["worker"]\n' "$i"
    fi
  done
}

# Runs stackctl "$@" in the work folder with --json; sets secs, rss_mb, reads, writes and
# throttled (the calls the front refused for going past AWS's rates).
timed() {
  local start end before
  before=$(grep -c OverRate "$front_log" || true)
  start=$(date +%s%N)
  (cd "$work" && /usr/bin/time -f '%M' -o "$work/rss" "$bin/stackctl" "$@" --json >"$work/out.json" 2>"$work/err.log") || {
    echo "stackctl $* failed:" >&2; tail -20 "$work/err.log" >&2; exit 1; }
  end=$(date +%s%N)
  throttled=$(( $(grep -c OverRate "$front_log" || true) - before ))
  secs=$(python3 -c "print(f'{($end - $start) / 1e9 / $scale:.1f}')")
  rss_mb=$(python3 -c "print(f'{$(tail -1 "$work/rss") / 1024:.0f}')")
  read -r reads writes < <(python3 - "$work/out.json" <<'EOF'
import json, sys
calls = json.load(open(sys.argv[1])).get("aws_calls", {})
reads = sum(n for op, n in calls.items() if op.split(":")[-1].startswith(("Describe", "List", "Get")))
print(reads, sum(calls.values()) - reads)
EOF
)
}

echo "| services | resources | run | stackctl | bound | ratio | reads | mutating | throttled | peak memory |"
echo "|---|---|---|---|---|---|---|---|---|---|"
validate_rows=()
for n in $sizes; do
  name="scale$n-$(date +%s)"
  stack_file "$n" "$name" >"$work/stack.toml"
  bounds=$("$bin/awsfront" bound -f "$work/stack.toml")
  up_bound=$(awk '$1 == "up" {print $2}' <<<"$bounds")
  down_bound=$(awk '$1 == "down" {print $2}' <<<"$bounds")
  best=999999999999
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    (cd "$work" && "$bin/stackctl" validate >/dev/null)
    end=$(date +%s%N)
    best=$(( (end - start) < best ? (end - start) : best ))
  done
  validate_rows+=("| $n | $(python3 -c "print(f'{$best / 1e6:.1f}')") ms |")
  resources=""
  for run in up noop emulator down; do
    case $run in
      up) timed up --yes; bound=$up_bound
          resources=$(cd "$work" && "$bin/stackctl" status --json 2>/dev/null |
            python3 -c "import json, sys; print(len(json.load(sys.stdin)['resources']))") ;;
      noop) timed up --yes; bound="" ;;
      # The same no-op straight to the emulator: what its own answers cost, at its pace (the
      # time is not divided by the scale).
      emulator) AWS_ENDPOINT_URL=$emulator_url timed up --yes; bound=""
          secs=$(python3 -c "print(f'{$secs * $scale:.1f}')")
          cp "$work/out.json" "$work/calls-$n.json" ;;
      down) timed down --yes; bound=$down_bound ;;
    esac
    if [ -n "$bound" ]; then
      ratio="$(python3 -c "print(f'{$secs / $bound:.2f}')")×"
      shown_bound="$bound s"
    else
      ratio="–"; shown_bound="–"
    fi
    label=$run; [ "$run" = noop ] && label="no-op up"
    [ "$run" = emulator ] && label="no-op up, emulator alone"
    echo "| $n | $resources | \`$label\` | $secs s | $shown_bound | $ratio | $reads | $writes | $throttled | $rss_mb MB |"
  done
done
echo
echo "\`validate\` of the same files (best of 5, release build):"
echo
echo "| services | validate |"
echo "|---|---|"
printf '%s\n' "${validate_rows[@]}"

# The no-op `up`'s calls by operation, at the smallest and the largest size.
first=$(awk '{print $1}' <<<"$sizes"); last=$(awk '{print $NF}' <<<"$sizes")
echo
echo "No-op \`up\` on the emulator, calls by operation:"
echo
python3 - "$first" "$work/calls-$first.json" "$last" "$work/calls-$last.json" <<'EOF'
import json, sys
a, b = (json.load(open(p))["aws_calls"] for p in (sys.argv[2], sys.argv[4]))
print(f"| operation | {sys.argv[1]} service(s) | {sys.argv[3]} services |")
print("|---|---|---|")
for op in sorted(set(a) | set(b)):
    print(f"| {op} | {a.get(op, 0)} | {b.get(op, 0)} |")
print(f"| **all** | **{sum(a.values())}** | **{sum(b.values())}** |")
EOF
