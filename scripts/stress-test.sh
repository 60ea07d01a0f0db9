#!/usr/bin/env bash
# The whole test suite, several times in a row, beside two processes that keep both cores busy: a
# test that depends on timing it does not control fails here. `npm run test:stress [-- RUNS]`
# (default 5 runs). Builds and lints once, then runs the suite RUNS times (`npm test` without its
# pretest step), and prints one line per run and a summary; exits 1 if any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"

npm run build
npm run lint

burners=()
stop_burners() { for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_burners EXIT
for _ in 1 2; do
  node -e 'for (;;) {}' &
  burners+=("$!")
done
echo "stress: ${#burners[@]} CPU burners running (pids ${burners[*]}), $(nproc) cores"

failed=0
log_dir="$(mktemp -d -t dynastack-stress-XXXXXX)"
for run in $(seq 1 "$runs"); do
  start=$(date +%s)
  if npm test --ignore-scripts >"$log_dir/run-$run.log" 2>&1; then status=pass; else status=FAIL; failed=$((failed + 1)); fi
  summary=$(grep -E '^# (tests|pass|fail|skipped) ' "$log_dir/run-$run.log" | awk '{printf "%s %s  ", $2, $3}')
  echo "stress run $run/$runs: $status in $(($(date +%s) - start)) s — $summary"
  if [ "$status" = FAIL ]; then grep -E '^not ok' "$log_dir/run-$run.log" | sed 's/^/    /' || true; fi
done
echo "stress: $((runs - failed))/$runs runs passed (logs in $log_dir)"
[ "$failed" -eq 0 ]
