#!/usr/bin/env bash
# The even-sum task's summing speed: `app even-sum FILE` on a generated file of random
# integers against `wc -l` on the same file, both from the page cache (best of 3), on one
# thread and on every core, with the app's peak memory. The files are generated here and
# removed afterwards, never committed. Prints Markdown.
#
#   scripts/bench-even-sum.sh [SIZES_MB]   # default "100"; "100 5120" adds 5 GB
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sizes="${1:-100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
cargo build --release --locked --workspace >&2
bin="$CARGO_TARGET_DIR/release/app"
work=$(mktemp -d "${TMPDIR:-/tmp}/even-sum.XXXXXX")
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

# $1 MB of integers: a 16 MB block of random ones (signs, 1 to 19 digits, spaces and line
# breaks) written again and again; the summing speed does not depend on repetition.
generate() {
  python3 - "$1" "$work/input.txt" <<'PY'
import random, sys
size = int(sys.argv[1]) * 1024 * 1024
rng = random.Random(5)
parts, n = [], 0
while n < 16 * 1024 * 1024:
    digits = rng.choice((1, 3, 6, 9, 12, 15, 19))
    number = str(rng.randrange(10 ** (digits - 1), 10 ** digits))
    if rng.random() < 0.3:
        number = "-" + number
    sep = "\n" if rng.random() < 0.1 else " "
    parts.append(number + sep)
    n += len(number) + 1
block = "".join(parts).encode()
with open(sys.argv[2], "wb") as out:
    written = 0
    while written < size:
        chunk = block[: size - written]
        # Never end inside a number: cut at the block's last separator.
        if len(chunk) < len(block):
            chunk = chunk[: max(chunk.rfind(b" "), chunk.rfind(b"\n")) + 1]
            if not chunk:
                break
        out.write(chunk)
        written += len(chunk)
PY
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
for mb in $sizes; do
  generate "$mb"
  cat "$work/input.txt" >/dev/null  # into the page cache
  wc_ms=$(best_of_3 wc -l "$work/input.txt")
  one_ms=$(best_of_3 "$bin" even-sum "$work/input.txt" --threads 1)
  all_ms=$(best_of_3 "$bin" even-sum "$work/input.txt" --threads "$cores")
  rss_mb=$(( $(tail -1 "$work/rss") / 1024 ))
  python3 - "$mb" "$wc_ms" "$one_ms" "$all_ms" "$rss_mb" "$work/out" <<'PY'
import json, sys
mb, wc, one, every, rss = (float(x) for x in sys.argv[1:6])
out = json.load(open(sys.argv[6]))
print(f"| {mb:.0f} MB ({out['numbers']:,} numbers) | {wc / 1000:.2f} s | {one / 1000:.2f} s "
      f"| {wc / one:.2f}× its speed | {every / 1000:.2f} s | {mb / (every / 1000):.0f} | {rss:.0f} MB |")
PY
  rm -f "$work/input.txt"
done
