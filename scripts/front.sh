# Sourced by the benchmarks that play AWS's pace (bench-critical-path.sh, bench-scale.sh).
#
#   front_start PORT SCALE LOG
#
# Starts the emulator and, in front of it on PORT, awsfront playing AWS's timings and request
# rates at SCALE (one line per call in LOG), then points stackctl at it with its polls and its
# own request rates on the same clock. Sets `front` (the pid to kill on exit) and
# `emulator_url` (the emulator, without the model). Expects `bin`,
# the folder of the release binaries.
front_start() {
  local port=$1 scale=$2 log=$3
  scripts/moto.sh start >&2
  eval "$(scripts/moto.sh env)"
  "$bin/awsfront" serve --listen "127.0.0.1:$port" --upstream "$AWS_ENDPOINT_URL" \
    --scale "$scale" --log 2>"$log" &
  front=$!
  # The emulator itself, for runs that measure what it alone costs.
  emulator_url=$AWS_ENDPOINT_URL
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  # Polls keep their real-AWS share of the waits at every scale.
  STACKCTL_POLL_SECONDS=$(python3 -c "print(5 * $scale)")
  export STACKCTL_POLL_SECONDS
  # AWS's request rates refill at the model's pace too (crates/infra/src/rates.rs).
  export STACKCTL_RATE_SCALE="$scale"
}
