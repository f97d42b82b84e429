#!/usr/bin/env bash
# Throughput of the smtp-core engine against Postfix's own load generator,
# smtp-source, both sending to smtp-sink (a discarding server) in the same
# run, interleaved, so both see the same machine load. Prints medians and
# ratios (ours / smtp-source); method and figures: docs/performance.md.
#
#   scripts/bench.sh                       # 10,000 x 1 KiB, 3 rounds, 50 MiB message
#   BENCH_ROUNDS=5 BENCH_MESSAGES=20000 scripts/bench.sh
#
# Needs the test peers (smtp-sink on 2526 and 2527): sudo scripts/peers/start.sh
# Exits 1 if a run failed or the 50 MiB message raised the bench's peak RSS
# above BENCH_MAX_RSS_MIB (default 16); 2 if the peers or tools are missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_ENV="${SMTP_PEERS_ENV:-${PEERS_DIR:-/tmp/smtp-peers}/peers.env}"
MESSAGES="${BENCH_MESSAGES:-10000}"
SIZE="${BENCH_SIZE:-1024}"
ROUNDS="${BENCH_ROUNDS:-3}"
BIG_MIB="${BENCH_BIG_MIB:-50}"
MAX_RSS_MIB="${BENCH_MAX_RSS_MIB:-16}"
PY_MESSAGES="${BENCH_PY_MESSAGES:-1000}"
PYTHON="${PYTHON:-python3}"

say() { echo "bench.sh: $*" >&2; }
die() { say "$*"; exit 2; }

[ -s "$PEERS_ENV" ] || die "no $PEERS_ENV: start the test peers with 'sudo scripts/peers/start.sh'"
# shellcheck disable=SC1090
. "$PEERS_ENV"
SINK="${PEERS_SMTP_SINK_PORT:?peers.env lacks PEERS_SMTP_SINK_PORT}"
NOPIPE="${PEERS_SMTP_SINK_NOPIPE_PORT:?peers.env lacks PEERS_SMTP_SINK_NOPIPE_PORT}"
HOST="${PEERS_HOST:-127.0.0.1}"
for port in "$SINK" "$NOPIPE"; do
  (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null ||
    die "smtp-sink does not answer on $HOST:$port: start the test peers with 'sudo scripts/peers/start.sh'"
done
SOURCE="$(command -v smtp-source || echo /usr/sbin/smtp-source)"
[ -x "$SOURCE" ] || die "smtp-source not found (Debian package 'postfix'; scripts/peers/install.sh installs it)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/smtp-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
RAW="$WORK/raw.txt" # one line per run: "<case> <value>"

say "building the bench (release)"
(cd "$ROOT" && cargo build --quiet --release --example throughput -p smtp-core)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/throughput"

say "writing a ${BIG_MIB} MiB message"
BIG="$WORK/big.eml"
{
  printf 'From: <s@example.net>\r\nTo: <r@example.org>\r\nSubject: big\r\n\r\n'
  head -c $((BIG_MIB * 786432)) /dev/urandom | base64 -w 76 | sed 's/$/\r/'
} >"$BIG"
truncate -s $((BIG_MIB * 1048576)) "$BIG" # the base64 lines make a bit more

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
record() { echo "$1 $2" >>"$RAW"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# smtp-source: messages/s from the wall time of the whole process.
source_run() { # case sessions port
  local t0 t1
  t0="$(now)"
  "$SOURCE" -s "$2" -d -m "$MESSAGES" -l "$SIZE" -f s@example.net -t r@example.org \
    "$HOST:$3" >"$WORK/source.log" 2>&1 || { cat "$WORK/source.log" >&2; exit 1; }
  t1="$(now)"
  record "$1" "$(awk -v n="$MESSAGES" -v s="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", n / s }')"
}

# Ours: messages/s as the bench measures it (first connect to last reply).
ours_run() { # case mode sessions port
  local out
  out="$("$BIN" "$2" --host "$HOST" --port "$4" --sessions "$3" --messages "$MESSAGES" \
    --size "$SIZE" --batch 100)" || exit 1
  record "$1" "$(field msgs_per_s "$out")"
}

big_runs() {
  local out t0 t1
  out="$("$BIN" file --host "$HOST" --port "$SINK" --file "$BIG")" || exit 1
  record big_ours_mbs "$(field mb_per_s "$out")"
  record big_ours_total_mbs "$(awk -v b="$(stat -c %s "$BIG")" -v s="$(field secs "$out")" \
    'BEGIN { printf "%.2f", b / s / 1e6 }')"
  record big_ours_hwm_kib "$(field hwm_kib "$out")"
  record big_ours_base_kib "$(field hwm_before_kib "$out")"
  # smtp-source builds its payload in memory: a speed reference, not a memory one.
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%M" -o "$WORK/source.rss")
  t0="$(now)"
  "${timer[@]}" "$SOURCE" -s 1 -m 1 -l $((BIG_MIB * 1048576)) \
    -f s@example.net -t r@example.org "$HOST:$SINK" >"$WORK/source.log" 2>&1 ||
    { cat "$WORK/source.log" >&2; exit 1; }
  t1="$(now)"
  record big_source_mbs "$(awk -v b=$((BIG_MIB * 1048576)) -v s="$(elapsed "$t0" "$t1")" \
    'BEGIN { printf "%.2f", b / s / 1e6 }')"
  [ -s "$WORK/source.rss" ] && record big_source_rss_kib "$(tail -n 1 "$WORK/source.rss")"
  return 0
}

# Python smtplib: sequential sendmail on one connection (no pipelining).
python_run() {
  "$PYTHON" - "$HOST" "$SINK" "$PY_MESSAGES" "$SIZE" >>"$RAW" <<'EOF' || exit 1
import smtplib, sys, time
host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body, left = "", size  # the payload the Rust bench sends: 78-byte lines
while left >= 2:
    n = min(left, 78)
    body += "x" * (n - 2) + "\r\n"
    left -= n
body += "x" * left
msg = ("From: <s@example.net>\r\nTo: <r@example.org>\r\nSubject: bench\r\n\r\n" + body).encode()
t0 = time.perf_counter()
with smtplib.SMTP(host, port) as s:
    for _ in range(n):
        s.sendmail("s@example.net", ["r@example.org"], msg)
print(f"python_smtplib {n / (time.perf_counter() - t0):.1f}")
EOF
}

say "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds of $MESSAGES x $SIZE B"
say "versions: $(rustc -V 2>/dev/null | cut -d' ' -f1-2), postfix $(dpkg-query -W -f '${Version}' postfix 2>/dev/null || echo '?')," \
  "$("$PYTHON" --version 2>&1 || echo 'no python')"
for round in $(seq 1 "$ROUNDS"); do
  say "round $round/$ROUNDS"
  source_run source_s1 1 "$SINK"
  ours_run ours_batch_s1 batch 1 "$SINK"
  ours_run ours_send_s1 send 1 "$SINK"
  source_run source_s10 10 "$SINK"
  ours_run ours_batch_s10 batch 10 "$SINK"
  ours_run ours_send_s10 send 10 "$SINK"
  source_run source_s1_nopipe 1 "$NOPIPE"
  source_run source_s10_nopipe 10 "$NOPIPE"
  ours_run ours_batch_s1_nopipe batch 1 "$NOPIPE"
  ours_run ours_send_s1_nopipe send 1 "$NOPIPE"
  ours_run ours_send_s10_nopipe send 10 "$NOPIPE"
  big_runs
  if "$PYTHON" -c 'import smtplib' 2>/dev/null; then python_run; fi
done

median() { # case -> median of its values
  awk -v c="$1" '$1 == c { print $2 }' "$RAW" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mib() { awk -v k="$1" 'BEGIN { if (k == "n/a") print k; else printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a") print "n/a"; else printf "%.2f", a / b }'; }

slow=0
row() { # label ours-case reference-case
  local o r x
  o="$(median "$2")"; r="$(median "$3")"; x="$(ratio "$o" "$r")"
  printf '| %-44s | %9s | %9s | %5s |\n' "$1" "$o" "$r" "$x"
  if [ "$x" != n/a ] && awk -v x="$x" 'BEGIN { exit !(x < 0.5) }'; then slow=1; fi
}

echo
echo "10,000 x 1 KiB to smtp-sink, messages/s, median of $ROUNDS (ratio = ours / reference)"
echo
printf '| %-44s | %9s | %9s | %5s |\n' "case" "ours" "reference" "ratio"
echo "|----------------------------------------------|-----------|-----------|-------|"
row "1 session, send_batch (PIPELINING)" ours_batch_s1 source_s1
row "1 session, sequential send (PIPELINING)" ours_send_s1 source_s1
row "10 sessions, send_batch (PIPELINING)" ours_batch_s10 source_s10
row "10 sessions, send (PIPELINING)" ours_send_s10 source_s10
row "1 session, send_batch, no PIPELINING (2527)" ours_batch_s1_nopipe source_s1_nopipe
row "1 session, send, no PIPELINING (2527)" ours_send_s1_nopipe source_s1_nopipe
row "10 sessions, send, no PIPELINING (2527)" ours_send_s10_nopipe source_s10_nopipe
if grep -q '^python_smtplib ' "$RAW"; then
  row "1 session, send vs Python smtplib ($PY_MESSAGES msgs)" ours_send_s1 python_smtplib
fi
echo
echo "references: smtp-source -s 1 -d: $(median source_s1)/s, -s 10 -d: $(median source_s10)/s," \
  "on 2527 -s 1 -d: $(median source_s1_nopipe)/s, -s 10 -d: $(median source_s10_nopipe)/s;" \
  "Python smtplib: $(median python_smtplib)/s"

hwm="$(median big_ours_hwm_kib)"
base="$(median big_ours_base_kib)"
echo
echo "${BIG_MIB} MiB message streamed from a file (median of $ROUNDS):"
echo "  ours: $(median big_ours_mbs) MB/s sending ($(median big_ours_total_mbs) MB/s with the file scan)," \
  "peak RSS (VmHWM) $(mib "$hwm") MiB ($(mib "$base") MiB before sending)"
echo "  smtp-source -m 1 -l $((BIG_MIB * 1048576)): $(median big_source_mbs) MB/s," \
  "max RSS $(mib "$(median big_source_rss_kib)") MiB (holds the payload in memory)"
echo "  ratio ours / smtp-source: $(ratio "$(median big_ours_mbs)" "$(median big_source_mbs)")"
echo
echo "raw values (per round):"
awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print "  " k ":" a[k] }' "$RAW" | sort

status=0
if [ "$slow" = 1 ]; then
  say "NOTE: ours is more than 2x slower than the reference in at least one case (see docs/performance.md)"
fi
if [ "$hwm" -gt $((MAX_RSS_MIB * 1024)) ]; then
  say "FAIL: peak RSS ${hwm} KiB while streaming ${BIG_MIB} MiB exceeds ${MAX_RSS_MIB} MiB"
  status=1
fi
exit "$status"
