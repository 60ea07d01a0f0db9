#!/usr/bin/env bash
# The whole test suite, several times in a row, beside two processes that keep both cores busy: a
# test that depends on timing it does not control fails here. `npm run test:stress [-- RUNS]`
# (default 5 runs). Builds and lints once, then runs the suite RUNS times (`npm test` without its
# pretest step), and prints one line per run and a summary; exits 1 if any run failed.
#
# STRESS_STALL=1 npm run test:stress   also loads scripts/stall.mjs into every Node process and
#   worker thread of the test runs (NODE_OPTIONS="--import …"): each thread's event loop is blocked
#   for a random 50–400 ms every few hundred ms, a harsher load than the burners alone, which finds
#   races they do not (a test that waits for conditions passes under it).
#
# The burners stop with the script: the EXIT trap ends them, each checks several times a second
# that the script is still there (a SIGKILL skips the trap), and each runs under `timeout` as well,
# so none is left spinning however the script ends. The per-run summary reads the test runner's
# totals in both of its output forms ("# tests 12" from the TAP reporter, "ℹ tests 12" from the
# spec reporter that newer Node versions print by default); a run whose totals it cannot read is
# still judged by the suite's exit status, and never ends the script.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
runs="${1:-5}"
stall="${STRESS_STALL:-0}"

npm run build
npm run lint

burners=()
stop_burners() { for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_burners EXIT
# at most 20 minutes a run (far beyond a suite run), and never past the script ($$)
burn_s=$((runs * 1200))
burn='const script = Number(process.argv[1]);
for (let i = 1; ; i++)
  if (i % 2e7 === 0)
    try { process.kill(script, 0); } catch { process.exit(0); }'
for _ in 1 2; do
  timeout "$burn_s" node -e "$burn" "$$" &
  burners+=("$!")
done
echo "stress: ${#burners[@]} CPU burners running (pids ${burners[*]}, ending after ${burn_s} s at the latest), $(nproc) cores"

test_env=()
if [ "$stall" = 1 ]; then
  test_env=(env "NODE_OPTIONS=${NODE_OPTIONS:+$NODE_OPTIONS }--import \"$root/scripts/stall.mjs\"")
  echo "stress: STRESS_STALL=1: every thread of the test runs stalls 50–400 ms every few hundred ms (scripts/stall.mjs)"
fi

# the runner's totals, "tests 12  pass 12  fail 0 …", from either output form; empty if none (never fails)
totals() {
  { grep -aE '^(#|ℹ) (tests|pass|fail|cancelled|skipped) [0-9]+' "$1" || true; } | awk '{printf "%s %s  ", $2, $3}' || true
}
# the failed tests' lines: "not ok …" (TAP) or "✖ …" (spec), top level only (never fails)
failures() {
  { grep -aE '^(not ok |✖ )' "$1" || true; } | sed 's/^/    /' || true
}

failed=0
log_dir="$(mktemp -d -t dynastack-stress-XXXXXX)"
for run in $(seq 1 "$runs"); do
  start=$(date +%s)
  log="$log_dir/run-$run.log"
  if ${test_env[@]+"${test_env[@]}"} npm test --ignore-scripts >"$log" 2>&1; then status=pass; else
    status=FAIL
    failed=$((failed + 1))
  fi
  summary="$(totals "$log")"
  echo "stress run $run/$runs: $status in $(($(date +%s) - start)) s — ${summary:-no totals in the log}"
  if [ "$status" = FAIL ]; then failures "$log"; fi
done
echo "stress: $((runs - failed))/$runs runs passed (logs in $log_dir)"
[ "$failed" -eq 0 ]
