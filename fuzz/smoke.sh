#!/usr/bin/env bash
# Builds every fuzz target with cargo-fuzz on the stable toolchain, replays each target's
# committed corpus, then fuzzes each for SECONDS (default 45) from that corpus.
#   bash fuzz/smoke.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz`) and a C++ compiler.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-45}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
# cargo-fuzz passes -Zsanitizer=address and other -Z flags; RUSTC_BOOTSTRAP lets the
# stable compiler accept them (its rust-std ships the ASan runtime for x86_64 Linux).
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
log=$(mktemp)
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  echo "== $t: replay corpus/$t, then fuzz for ${secs}s"
  # New finds go to a scratch directory; the committed corpus is only read.
  if ! cargo fuzz run -O "$t" "$scratch" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $t failed: the input is in fuzz/artifacts/$t/"
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|^Done' "$log" || true
  rm -rf "$scratch"
done
rm -f "$log"
echo "fuzz smoke: ${#targets[@]} targets passed"
