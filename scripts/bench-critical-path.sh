#!/usr/bin/env bash
# `up` and `down` against the critical-path bound, with AWS's own timings played in front of
# the emulator by awsfront (crates/awsfront): the default stack with a prebuilt image, with
# and without a NAT gateway, a stack of several services (a default and a routed web service,
# an internal one found by name, a worker), and a service with a domain over HTTPS (its hosted
# zone made on the emulator first). Prints Markdown.
#
#   scripts/bench-critical-path.sh [SCALE] [VARIANT…]   # SCALE 1.0 (default) is AWS's pace:
#                                                       # ~12 min; VARIANTs: all by default
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scale="${1:-1.0}"
shift || true
variants=("prebuilt image" "prebuilt image, NAT gateway" "several services" "a domain over HTTPS")
(($# > 0)) && variants=("$@")
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl-target}"
# The whole workspace, as the suite builds it: one feature set, no second build of the SDK.
cargo build --release --locked --workspace >&2
bin="$CARGO_TARGET_DIR/release"
source scripts/front.sh
front_start 5057 "$scale" /dev/null
work=$(mktemp -d)
trap 'kill $front 2>/dev/null; rm -rf "$work"' EXIT

seconds() { python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / 1e9 / $scale:.1f}')" "$@"; }

echo "| stack | run | stackctl | critical-path bound | ratio |"
echo "|---|---|---|---|---|"
for variant in "${variants[@]}"; do
  stack="crit$(date +%s)"
  nat=false
  [[ "$variant" == *NAT* ]] && nat=true
  if [[ "$variant" == several* ]]; then
    cat >"$work/stack.toml" <<EOF
[stack]
name = "$stack"
[queues.jobs]
[services.web]
image = "registry.example/messages:1"
sends_to = ["jobs"]
[services.api]
image = "registry.example/messages:1"
port = 8080
paths = ["/api/*"]
[services.store]
image = "registry.example/messages:1"
kind = "internal"
port = 7000
[services.worker]
image = "registry.example/messages:1"
kind = "worker"
consumes = ["jobs"]
command = ["worker"]
EOF
  elif [[ "$variant" == *domain* ]]; then
    # The zone is the account's: made on the emulator directly, not through the model.
    AWS_ENDPOINT_URL="$emulator_url" .venv/bin/python -c '
import sys, boto3
boto3.client("route53", region_name="us-east-1").create_hosted_zone(
    Name=sys.argv[1], CallerReference=sys.argv[1])' "$stack.example"
    printf '[stack]\nname = "%s"\n[service]\nimage = "registry.example/messages:1"\ndomain = "api.%s.example"\n' \
      "$stack" "$stack" >"$work/stack.toml"
  else
    printf '[stack]\nname = "%s"\n[network]\nnat_gateway = %s\n[service]\nimage = "registry.example/messages:1"\n' \
      "$stack" "$nat" >"$work/stack.toml"
  fi
  bounds=$("$bin/awsfront" bound -f "$work/stack.toml")
  up_bound=$(awk '$1 == "up" {print $2}' <<<"$bounds")
  down_bound=$(awk '$1 == "down" {print $2}' <<<"$bounds")
  start=$(date +%s%N)
  (cd "$work" && "$bin/stackctl" up --yes >/dev/null 2>"$work/up.log")
  end=$(date +%s%N)
  up=$(seconds "$start" "$end")
  start=$(date +%s%N)
  (cd "$work" && "$bin/stackctl" down --yes >/dev/null 2>"$work/down.log")
  end=$(date +%s%N)
  down=$(seconds "$start" "$end")
  if [[ "$variant" == *domain* ]]; then
    # `down` left the zone as it found it: empty, so it goes.
    AWS_ENDPOINT_URL="$emulator_url" .venv/bin/python -c '
import sys, boto3
r53 = boto3.client("route53", region_name="us-east-1")
zone = r53.list_hosted_zones_by_name(DNSName=sys.argv[1])["HostedZones"][0]["Id"]
r53.delete_hosted_zone(Id=zone)' "$stack.example"
  fi
  for run in up down; do
    measured=${!run}
    bound_var="${run}_bound"
    bound=${!bound_var}
    ratio=$(python3 -c "print(f'{$measured / $bound:.2f}')")
    echo "| $variant | \`$run\` | ${measured} s | ${bound} s | ${ratio}× |"
  done
done
echo
echo "Bound paths (scale $scale, seconds at scale 1.0):"
echo
echo '```'
echo "$bounds"
echo '```'
