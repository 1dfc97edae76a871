#!/usr/bin/env bash
# Quick start: the whole default stack (stack.toml) on this machine, no AWS account needed.
#
#   scripts/quickstart.sh         install and start the local AWS emulator if needed, build
#                                 stackctl and the service, and run `stackctl up --local`:
#                                 provision the stack on the emulator, then run the service as
#                                 its task definition describes it and exercise it
#   scripts/quickstart.sh stop    stop the service and run `stackctl down` (the emulator keeps
#                                 running; `scripts/moto.sh stop` stops it)
#   scripts/quickstart.sh [stop] examples/api-and-workers
#                                 the same for another stack file (or a folder holding one):
#                                 every service of it runs here, web ones behind a local router
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
stackctl="$CARGO_TARGET_DIR/debug/stackctl"

scripts/moto.sh start
eval "$(scripts/moto.sh env)"
# The whole workspace at once, as the test suite builds it: one feature set (see Cargo.toml), so
# the suite after a quick start (or a quick start after the suite) compiles nothing again.
cargo build --workspace --locked

action=up
file=stack.toml
for arg in "$@"; do
  case "$arg" in
    up|stop) action="$arg" ;;
    *)
      if [ -d "$arg" ]; then file="$arg/stack.toml"; else file="$arg"; fi
      [ -f "$file" ] || { echo "no stack file at $file" >&2; exit 2; }
      ;;
  esac
done

case "$action" in
  up)
    "$stackctl" up --local --yes -f "$file"
    echo
    "$stackctl" status -f "$file"
    stop_args=""
    [ "$file" = stack.toml ] || stop_args=" $file"
    cat <<EOF

stackctl is built at $stackctl. To run the commands above as \`stackctl ...\`:
  export PATH="$(dirname "$stackctl"):\$PATH"    # in this shell
  cargo install --path crates/stackctl --locked    # or for good, into ~/.cargo/bin
The emulator is on: eval "\$(scripts/moto.sh env)" points a shell at it.
Stop the services and remove the stack: scripts/quickstart.sh stop$stop_args
EOF
    ;;
  stop)
    "$stackctl" down --local --yes -f "$file"
    echo "The emulator is still running; scripts/moto.sh stop stops it."
    ;;
esac
