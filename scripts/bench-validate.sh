#!/usr/bin/env bash
# `stackctl validate` on hostile stack files: thousands of problems, megabyte keys and values.
# Every problem must be found and placed in time linear in the file, and so must a file of
# thousands of [queues.*] and [services.*] tables. Prints Markdown.
#
#   scripts/bench-validate.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
# The whole workspace, as the suite builds it: one feature set, no second build of the SDK.
cargo build --release --locked --workspace >&2
bin="$CARGO_TARGET_DIR/release/stackctl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import sys, os
w = sys.argv[1]
head = '[stack]\nname = "bench"\n'
def write(name, text):
    with open(os.path.join(w, name), "w") as f:
        f.write(text)
write("valid.toml", head + '[service]\nimage = "registry.example/messages:1"\n')
write("keys-20000.toml", head + "[service]\n" + "".join(f"unknown_key_{i} = 1\n" for i in range(20000)))
write("keys-200000.toml", head + "[service]\n" + "".join(f"unknown_key_{i} = 1\n" for i in range(200000)))
write("key-1mb.toml", head + "k" * 1_000_000 + " = 1\n")
write("image-1mb.toml", head + '[service]\nimage = "' + "a" * 1_000_000 + '"\n')
for n in (5000, 20000):
    write(f"queues-{n}.toml", head + "".join(f"[queues.q{i}]\n" for i in range(n)))
    write(f"services-{n}.toml", head + "".join(
        f'[queues.q{i}]\n[services.s{i}]\nkind = "web"\nsends_to = ["q{i}"]\npaths = ["/s{i}/*"]\n'
        for i in range(n)))
write("tags-20000.toml", '[stack]\nname = "bench"\n[stack.tags]\n' + "".join(f'"bad key {i}!" = "x"\n' for i in range(20000)))
PY

echo "| file | problems reported | time |"
echo "|---|---|---|"
for file in valid keys-20000 keys-200000 key-1mb image-1mb tags-20000 queues-5000 queues-20000 services-5000 services-20000; do
  start=$(date +%s%N)
  set +e
  out=$("$bin" validate -f "$work/$file.toml" 2>&1)
  set -e
  end=$(date +%s%N)
  problems=$(grep -c "^  $work/$file.toml:" <<<"$out" || true)
  ms=$(( (end - start) / 1000000 ))
  echo "| \`$file\` | $problems | $ms ms |"
done
