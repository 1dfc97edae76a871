#!/usr/bin/env bash
# The even-sum task's summing speed: `app even-sum FILE` on a generated file of random
# integers against `wc -l` on the same file, both from the page cache (best of 3), on one
# thread and on every core, with the app's peak memory. The files are generated here and
# removed afterwards, never committed. Prints Markdown.
#
#   scripts/bench-even-sum.sh [SIZES_MB]   # default "100"; "100 5120" adds 5 GB; a last row is
#                                          # always 100 MB of 20-digit numbers
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sizes="${1:-100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
cargo build --release --locked --workspace >&2
bin="$CARGO_TARGET_DIR/release/app"
work=$(mktemp -d "${TMPDIR:-/tmp}/even-sum.XXXXXX")
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

# $1 MB of random integers, of $2 digits each if given (scripts/bench/even_sum_input.py says
# what they are like).
generate() {
  python3 scripts/bench/even_sum_input.py "$1" "$work/input.txt" 5 ${2:+"$2"}
}

# Best of three wall-clock milliseconds of "$@" (the last run's peak memory in $work/rss).
best_of_3() {
  local best=999999 start end
  for _ in 1 2 3; do
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/out" 2>"$work/err" || {
      echo "$* failed:" >&2; cat "$work/err" >&2; exit 1; }
    end=$(date +%s%N)
    best=$(( (end - start) < best * 1000000 ? (end - start) / 1000000 : best ))
  done
  echo "$best"
}

echo "| input | \`wc -l\` | even-sum, 1 thread | vs \`wc -l\` | even-sum, $cores threads | MB/s ($cores threads) | peak memory |"
echo "|---|---|---|---|---|---|---|"
# One row: $1 MB, of $2 digits a number if given.
row() {
  local mb=$1 digits=${2:-}
  generate "$mb" "$digits"
  cat "$work/input.txt" >/dev/null  # into the page cache
  wc_ms=$(best_of_3 wc -l "$work/input.txt")
  one_ms=$(best_of_3 "$bin" even-sum "$work/input.txt" --threads 1)
  all_ms=$(best_of_3 "$bin" even-sum "$work/input.txt" --threads "$cores")
  rss_mb=$(( $(tail -1 "$work/rss") / 1024 ))
  python3 - "$mb" "$wc_ms" "$one_ms" "$all_ms" "$rss_mb" "$work/out" "$digits" <<'PY'
import json, sys
mb, wc, one, every, rss = (float(x) for x in sys.argv[1:6])
out = json.load(open(sys.argv[6]))
what = f", all of {sys.argv[7]} digits" if sys.argv[7] else ""
print(f"| {mb:.0f} MB ({out['numbers']:,} numbers{what}) | {wc / 1000:.2f} s | {one / 1000:.2f} s "
      f"| {wc / one:.2f}× its speed | {every / 1000:.2f} s | {mb / (every / 1000):.0f} | {rss:.0f} MB |")
PY
  rm -f "$work/input.txt"
}

for mb in $sizes; do
  row "$mb"
done
# Every even number past the 19 digits the fast paths take.
row 100 20
