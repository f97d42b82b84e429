#!/usr/bin/env bash
# The project's test command: installs and starts the real test peers
# (Postfix, Dovecot, aiosmtpd, proxies, ...), runs every test of the
# workspace against them, stops the peers, and exits non-zero if anything
# failed. Works on a fresh Debian 12 machine, as root.
#
#   sudo scripts/test.sh                          # everything
#   sudo scripts/test.sh -E 'package(smtp-core)'  # extra args go to nextest
#
# PEERS_DIR (default /tmp/smtp-peers) is where the peers live; the tests find
# them through SMTP_PEERS_ENV=$PEERS_DIR/peers.env. PEERS_REUSE=1 uses peers
# that already run there (starting them only if they do not) and leaves them
# running; by default they are restarted, so the run sees the current scripts.
# Without root the peers must already run (PEERS_REUSE is implied).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
PEERS="$ROOT/scripts/peers"
export PEERS_DIR="${PEERS_DIR:-/tmp/smtp-peers}"
export SMTP_PEERS_ENV="$PEERS_DIR/peers.env"
LOGS="$(mktemp -d "${TMPDIR:-/tmp}/smtp-test.XXXXXX")"

say() { echo "test.sh: $*" >&2; }

peers_running() { # the env file exists and its SMTP port answers
  [ -s "$SMTP_PEERS_ENV" ] || return 1
  local port
  port="$(sed -n "s/^PEERS_POSTFIX_PLAIN_PORT='\([0-9]*\)'$/\1/p" "$SMTP_PEERS_ENV")"
  [ -n "$port" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

started=""
stop_peers() {
  if [ -n "$started" ]; then
    started=""
    "$PEERS/stop.sh" >"$LOGS/stop.log" 2>&1 || { say "stop.sh failed:"; cat "$LOGS/stop.log" >&2; }
  fi
}
# Also on Ctrl-C or a failure in between: never leave our peers behind.
trap 'stop_peers' EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
  if peers_running; then
    say "not root: using the peers already running in $PEERS_DIR"
  else
    say "the test peers are not running and starting them needs root:"
    say "  run 'sudo scripts/test.sh' (installs and starts them), or 'sudo scripts/peers/install.sh && sudo scripts/peers/start.sh' once"
    exit 2
  fi
else
  t0=$SECONDS
  if ! "$PEERS/install.sh" >"$LOGS/install.log" 2>&1; then
    cat "$LOGS/install.log" >&2
    say "installing the test peers failed (log above)"
    exit 2
  fi
  say "peer packages ready ($((SECONDS - t0)) s)"
  if [ -n "${PEERS_REUSE:-}" ] && peers_running; then
    say "PEERS_REUSE: using the peers already running in $PEERS_DIR"
  else
    t0=$SECONDS
    started=1
    if ! "$PEERS/start.sh" >"$LOGS/start.log" 2>&1; then
      cat "$LOGS/start.log" >&2
      say "starting the test peers failed (log above)"
      exit 2
    fi
    say "peers started in $PEERS_DIR ($((SECONDS - t0)) s)"
    [ -n "${PEERS_REUSE:-}" ] && started=""
  fi
fi

status=0
load=skipped
nextest() { # log-file args...
  local log=$1
  shift
  cargo nextest run --workspace --no-fail-fast \
    --tool-config-file "smtp-test:$ROOT/scripts/nextest.toml" "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}
if cargo nextest --version >/dev/null 2>&1; then
  if [ $# -eq 0 ]; then
    # The 10,000-message load test floods Postfix's queue, which would delay
    # every other test's delivery: it runs alone, after the rest.
    LOAD='binary_id(smtp-core::load)'
    nextest "$LOGS/nextest.log" -E "not $LOAD"
    unit=$?
    nextest "$LOGS/load.log" -E "$LOAD"
    load=$?
    [ "$load" -eq 0 ] || unit=1
  else
    nextest "$LOGS/nextest.log" "$@"
    unit=$?
  fi
else
  say "cargo-nextest is not installed: falling back to 'cargo test' (install it: cargo install cargo-nextest)"
  cargo test --workspace --no-fail-fast --all-targets "$@" 2>&1 | tee "$LOGS/nextest.log"
  unit=${PIPESTATUS[0]}
fi
[ "$unit" -eq 0 ] || status=1

cargo test --workspace --doc >"$LOGS/doc.log" 2>&1
doc=$?
if [ "$doc" -ne 0 ]; then
  cat "$LOGS/doc.log"
  status=1
fi
doc_passed=$(awk '/^test result:/ { n += $4 } END { print n + 0 }' "$LOGS/doc.log")

stop_peers

# The lean builds an integrator gets with features off (docs/library.md,
# "What features cost"): they compile, and the tests of what a missing
# feature does (MechanismNotBuilt, PlatformRootsNotBuilt, an empty
# certificate list) pass. The workspace run above has every feature on.
{
  cargo test -p smtp-auth --no-default-features --lib &&
    cargo test -p smtp-transport-tls --no-default-features --features ring --lib --test platform_roots &&
    cargo check -p smtp-config --no-default-features
} >"$LOGS/features.log" 2>&1
features=$?
if [ "$features" -ne 0 ]; then
  cat "$LOGS/features.log"
  status=1
fi

# Fuzz smoke: every cargo-fuzz target for FUZZ_SECONDS (default 5) on the
# stable toolchain; a crash fails the run, naming the target and the saved
# input (scripts/fuzz.sh, docs/fuzzing.md). Needs no peers.
"$ROOT/scripts/fuzz.sh" smoke "${FUZZ_SECONDS:-5}" >"$LOGS/fuzz.log" 2>&1
fuzz=$?
if [ "$fuzz" -ne 0 ]; then
  cat "$LOGS/fuzz.log"
  status=1
fi

# Publishability: every publishable crate packages (manifest metadata,
# included files, path dependencies with versions). --no-verify: verifying
# would build every crate once more from its .crate in target/package (a
# second full build for CI); the sources it would compile are the ones the
# tests above just built. --offline: the workspace crates are packaged
# together against a local overlay, so crates.io needs not have them.
cargo package -q --workspace --exclude smtp-bench --exclude smtp-testkit \
  --no-verify --allow-dirty --offline >"$LOGS/package.log" 2>&1
package=$?
if [ "$package" -ne 0 ]; then
  cat "$LOGS/package.log"
  status=1
fi

# Licences: no GPL code outside smtp-proxy and the builds that enable it
# (scripts/license-check.py; cargo tree, no extra tool).
"$ROOT/scripts/license-check.py" >"$LOGS/license.log" 2>&1
license=$?
if [ "$license" -ne 0 ]; then
  cat "$LOGS/license.log"
  status=1
fi

# Repeat the runner's summary so the run ends with it, whatever printed after.
echo
echo "== scripts/test.sh: doc tests $([ "$doc" -eq 0 ] && echo ok || echo FAILED) ($doc_passed passed); logs in $LOGS"
if [ "$load" != skipped ]; then
  echo "== scripts/test.sh: load test (run alone) $([ "$load" -eq 0 ] && echo ok || echo FAILED): $(grep -E '^ +Summary' "$LOGS/load.log" | tail -1 | sed 's/^ *//')"
fi
echo "== scripts/test.sh: cargo package $([ "$package" -eq 0 ] && echo ok || echo FAILED); $(tail -1 "$LOGS/license.log")"
echo "== scripts/test.sh: lean feature sets $([ "$features" -eq 0 ] && echo ok || echo FAILED) ($(awk '/^test result:/ { n += $4 } END { print n + 0 }' "$LOGS/features.log") tests passed)"
echo "== scripts/test.sh: fuzz smoke $([ "$fuzz" -eq 0 ] && echo ok || echo FAILED) ($(grep -c '^fuzz: .* ok:' "$LOGS/fuzz.log") targets passed)"
sep=$(grep -n '^────────────$' "$LOGS/nextest.log" | tail -1 | cut -d: -f1)
if [ -n "$sep" ]; then
  tail -n +"$((sep + 1))" "$LOGS/nextest.log"
else
  grep -E '^test result:|^error' "$LOGS/nextest.log" | tail -5
fi
exit "$status"
