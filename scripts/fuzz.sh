#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) on the stable toolchain: the targets
# in fuzz/fuzz_targets are built with sanitizer-coverage but no sanitizer
# (`--sanitizer none`, the one mode that needs no nightly), then run.
#
#   scripts/fuzz.sh smoke [SECONDS]            # every target SECONDS (default 5) each: what scripts/test.sh runs
#   scripts/fuzz.sh run SECONDS [TARGET...]    # long runs, up to 10 M execs per target (docs/fuzzing.md)
#   scripts/fuzz.sh repro TARGET FILE          # run one input again (a crash from fuzz/artifacts)
#   scripts/fuzz.sh build | list
#
# FUZZ_PROFILE=release|dev (default release: see docs/fuzzing.md for why).
# Installs cargo-fuzz (`cargo install cargo-fuzz --locked`) when it is
# missing, and g++ (libFuzzer is C++) through apt when run as root.
# Exits non-zero, naming the target and the saved input, on any crash.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/fuzz"
CALLER_DIR="$PWD"
cd "$FUZZ" || exit 2
say() { echo "fuzz.sh: $*" >&2; }

PROFILE="${FUZZ_PROFILE:-release}"
case "$PROFILE" in
  release) build_flag="--debug-assertions" out_dir=release ;; # optimised, overflow checks on
  dev) build_flag="--dev" out_dir=debug ;;
  *) say "FUZZ_PROFILE must be release or dev, not '$PROFILE'"; exit 2 ;;
esac

need_tools() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "cargo-fuzz is not installed: installing it (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked >&2 || { say "installing cargo-fuzz failed"; exit 2; }
  fi
  if ! command -v c++ >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "no C++ compiler (libfuzzer-sys builds libFuzzer): installing g++ with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q g++ >&2 ||
        { say "apt-get install g++ failed"; exit 2; }
    else
      say "no C++ compiler: libfuzzer-sys needs one to build libFuzzer; install it: sudo apt-get install g++"
      exit 2
    fi
  fi
}

targets() { cargo fuzz list; }

build() {
  need_tools
  local t0=$SECONDS
  # --sanitizer none: stable Rust has no -Zsanitizer; coverage-guided
  # fuzzing still works, and every target checks its own invariants.
  cargo fuzz build --sanitizer none "$build_flag" >&2 || { say "building the fuzz targets failed"; exit 1; }
  say "built the fuzz targets ($PROFILE) in $((SECONDS - t0)) s"
}

binary() {
  echo "$FUZZ/target/$(rustc -vV | sed -n 's/^host: //p')/$out_dir/$1"
}

# run TARGET SECONDS RUNS: one libFuzzer run on the target's corpus; prints
# a summary line, and on failure the crash file and how to reproduce it.
run_target() {
  local t=$1 seconds=$2 runs=$3 log
  mkdir -p "target/corpus/$t" "corpus/$t" artifacts
  log="target/fuzz-$t.log"
  # New inputs go to target/corpus (not committed); corpus/ holds the seeds.
  "$(binary "$t")" -max_total_time="$seconds" -runs="$runs" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t-" \
    "target/corpus/$t" "corpus/$t" >"$log" 2>&1
  local rc=$?
  local execs rate corpus
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  corpus=$(find "target/corpus/$t" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    local crash
    crash=$(grep -o "artifacts/$t-[a-z]*-[0-9a-f]*" "$log" | tail -1)
    grep -E -A12 "panicked at|ERROR: libFuzzer" "$log" | head -30 >&2
    say "$t FAILED (exit $rc): input saved in fuzz/${crash:-artifacts/}; log fuzz/$log"
    say "  reproduce: scripts/fuzz.sh repro $t fuzz/${crash:-artifacts/...}"
    return 1
  fi
  echo "fuzz: $t ok: ${execs:-?} execs, ${rate:-?} exec/s, corpus $corpus inputs, 0 crashes"
}

cmd=${1:-smoke}
shift || true
case "$cmd" in
  build) build ;;
  list) targets ;;
  smoke | run)
    if [ "$cmd" = smoke ]; then
      seconds=${1:-5}
      runs=-1
      shift || true
    else
      seconds=${1:?usage: scripts/fuzz.sh run SECONDS [TARGET...]}
      runs=10000000
      shift
    fi
    build
    list=("$@")
    [ ${#list[@]} -gt 0 ] || mapfile -t list < <(targets)
    failed=()
    for t in "${list[@]}"; do
      run_target "$t" "$seconds" "$runs" || failed+=("$t")
    done
    if [ ${#failed[@]} -gt 0 ]; then
      say "FAILED targets: ${failed[*]} (crash inputs in fuzz/artifacts/)"
      exit 1
    fi
    ;;
  repro)
    t=${1:?usage: scripts/fuzz.sh repro TARGET FILE}
    file=${2:?usage: scripts/fuzz.sh repro TARGET FILE}
    file=$(cd "$CALLER_DIR" && realpath "$file")
    build
    RUST_BACKTRACE=1 "$(binary "$t")" "$file"
    ;;
  *)
    say "unknown command '$cmd': smoke, run, repro, build or list"
    exit 2
    ;;
esac
