#!/usr/bin/env bash
# The long run, once per release (not part of scripts/test, which runs smoke.sh): each
# fuzz target (or those named) for RUNS executions (default 10 million) from its committed
# corpus, JOBS targets at a time (default 2) under nice. Prints one row per target for the
# "Long runs" table of README.md (executions, time, coverage, features, corpus size,
# crashes) and fails if any target crashed: its input is then in artifacts/<target>/, to be
# committed as corpus/<target>/crash-* with the fix (tests/corpus.rs replays it).
#   bash fuzz/long.sh [-j JOBS] [-n RUNS] [-s SANITIZER] [TARGET...]
# Needs cargo-fuzz and a C++ compiler, as smoke.sh does. Without a sanitizer by default
# (`-s none`): wscodec has no `unsafe`, so AddressSanitizer finds nothing there that
# Rust's own checks do not, and without it a target runs about twice as fast; smoke.sh
# keeps ASan (`-s address` here too, if wanted).
set -euo pipefail
cd "$(dirname "$0")"
jobs=2
runs=10000000
sanitizer=none
while getopts "j:n:s:" opt; do
  case $opt in
    j) jobs=$OPTARG ;;
    n) runs=$OPTARG ;;
    s) sanitizer=$OPTARG ;;
    *) echo "usage: bash fuzz/long.sh [-j JOBS] [-n RUNS] [-s SANITIZER] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O -s "$sanitizer"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {
  local t=$1
  mkdir -p "$out/$t.corpus"
  # New finds go to a scratch corpus; the committed one is only read.
  if nice cargo fuzz run -O -s "$sanitizer" "$t" "$out/$t.corpus" "corpus/$t" -- \
      -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$out/$t.log" 2>&1; then
    echo 0 >"$out/$t.crashes"
  else
    echo 1 >"$out/$t.crashes"
  fi
}

running=0
for t in "${targets[@]}"; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

echo "| target | executions | time | cov | ft | corpus | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|"
failed=0
for t in "${targets[@]}"; do
  log="$out/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
  # The last status line: "#N DONE cov: C ft: F corp: K/..." (or the one before a crash).
  status=$(grep -E '^#[0-9]+' "$log" | tail -n1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$status")
  crashes=$(cat "$out/$t.crashes")
  execs=$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"${execs:-0}")
  printf '| `%s` | %s | %s s | %s | %s | %s | %s |\n' "$t" "$execs" \
    "${secs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
  if [ "$crashes" != 0 ]; then
    failed=1
    echo "fuzz target $t crashed; the input is in fuzz/artifacts/$t/:" >&2
    grep -m1 -A12 -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer)' "$log" >&2 || tail -n 40 "$log" >&2
    grep -A1 'Failing input' "$log" >&2 || true
  fi
done
exit "$failed"
