#!/usr/bin/env bash
# The smtp binary (`smtp send`, crate smtp-cli) as a user runs it, next to
# Postfix's smtp-source in the same run, every message counted by the
# server (an smtp-sink this script starts on loopback, no relay):
#
#   (i) a 50 MiB attachment (--attach, base64 on the fly): peak RSS
#   (j) 10 MiB messages (--raw of a 10 MiB .eml; --attach of a file whose
#       base64 is 10 MiB): MB/s against smtp-source -l 10485760
#   (k) --to-file with a list of 1,000,000 recipients: peak RSS, msgs/s
#   (l) --to-file, 1 KiB body: CPU per message against smtp-source
#   (m) (i) DKIM-signed (RSA-2048, --dkim-*): peak RSS, and its wall time
#       against (i)'s (the hashing pass reads the message once more)
#
# Prints a table in the format of scripts/bench.sh (which runs this at its
# end, BENCH_CLI_ROWS=0 there leaves it out); method and results:
# docs/benchmarks.md, "The command line: streaming and bulk".
#
#   scripts/bench-cli.sh                        # ~4 minutes (1,000,000: ~2 of them)
#   BENCH_CLI_BULK_RECIPIENTS=200000 scripts/bench-cli.sh
#
# Peak RSS is GNU time's %M (ru_maxrss of the smtp process; time forks and
# execs it, so no bigger image is counted before the exec). Wall and CPU
# (user+sys) come from wait4(2) as in bench.sh. Exits 1 if a run failed or
# the sink counted another number of messages than were sent, 2 if tools
# are missing; unmet targets show as NO in the table.
set -euo pipefail

if [ -z "${BENCH_RENICED:-}" ] && [ "$(id -u)" = 0 ] && [ "${BENCH_NICE:--10}" != 0 ]; then
  BENCH_RENICED=1 exec nice -n "${BENCH_NICE:--10}" "$0" "$@"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST=127.0.0.1
REPS="${BENCH_CLI_REPS:-5}"                        # (i), (j), (l): median of these
ATTACH_MIB="${BENCH_CLI_ATTACH_MIB:-50}"           # (i)
N_BIG="${BENCH_CLI_BIG_MESSAGES:-20}"              # (j): messages of 10 MiB per run
N_BULK="${BENCH_CLI_BULK_RECIPIENTS:-1000000}"     # (k)
N_CPU="${BENCH_CLI_CPU_MESSAGES:-20000}"           # (l)
SIZE="${BENCH_SIZE:-1024}"                         # (l): body / smtp-source -l
BIG=10485760                                       # (j): 10 MiB
PYTHON="${PYTHON:-python3}"

say() { echo "bench-cli.sh: $*" >&2; }
die() { say "$*"; exit 2; }

SOURCE="$(command -v smtp-source || echo /usr/sbin/smtp-source)"
SINK_BIN="$(command -v smtp-sink || echo /usr/sbin/smtp-sink)"
TIME_BIN=/usr/bin/time
{ [ -x "$SOURCE" ] && [ -x "$SINK_BIN" ]; } ||
  die "smtp-source/smtp-sink not found (Debian package 'postfix')"
[ -x "$TIME_BIN" ] && "$TIME_BIN" -f %M true >/dev/null 2>&1 ||
  die "GNU time (/usr/bin/time, Debian package 'time') is needed for peak RSS"
"$PYTHON" -c 'import os; os.wait4' 2>/dev/null || die "$PYTHON is needed"
command -v openssl >/dev/null || die "openssl is needed for the DKIM key of (m)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/smtp-bench-cli.XXXXXX")"
SINK_PID=""
cleanup() {
  [ -z "$SINK_PID" ] || kill "$SINK_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
RAW="$WORK/raw.txt" # "<key> <value>" per measurement

# The same build as bench.sh (same packages, so the same features and no
# rebuild between the two); BENCH_CLI_NO_BUILD=1 when bench.sh just built.
if [ "${BENCH_CLI_NO_BUILD:-0}" != 1 ]; then
  say "building (release): smtp-bench, smtp-delay-relay, smtp-chunk-sink, smtp"
  (cd "$ROOT" && cargo build --quiet --release -p smtp-bench -p smtp-testkit -p smtp-cli --bins)
fi
SMTP="${CARGO_TARGET_DIR:-$ROOT/target}/release/smtp"
[ -x "$SMTP" ] || die "no $SMTP: build it (cargo build --release -p smtp-cli)"

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK="$(free_port)"
"$SINK_BIN" -c -u nobody -h sink.example.test "$HOST:$SINK" 1024 >"$WORK/sink.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$HOST/$SINK") 2>/dev/null && break; sleep 0.05; done

# smtp-sink -c rewrites one counter line ("\r...mesg=N"): the file's tail
# is enough, even after a million messages.
sink_count() { tail -c 300 "$WORK/sink.out" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | grep . || echo 0; }
expect_count() { # label expected
  local got
  for _ in $(seq 1 40); do
    got="$(sink_count)"
    [ "$got" -ge "$2" ] && break
    sleep 0.25
  done
  if [ "$got" != "$2" ]; then
    say "FAIL: $1: the sink counted $got messages, expected $2"
    exit 1
  fi
}

# Runs a command with stdout to a file; appends "MEASURE wall= cpu=
# rss_kib=": wall and user+sys of the whole process tree from wait4(2)
# (GNU time's own share is ~1 ms), the peak RSS of the command from GNU
# time. stdout may instead be filtered: FILTER='grep -c x' keeps only that.
measure() { # outfile cmd...
  local out="$1"
  shift
  "$PYTHON" - "$out" "$TIME_BIN" -o "$out.rss" -f %M "$@" <<'EOF'
import os, subprocess, sys, time
out = sys.argv[1]
filt = os.environ.get("FILTER")
t0 = time.perf_counter()
with open(out, "w") as f:
    if filt:
        p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE)
        q = subprocess.Popen(filt, shell=True, stdin=p.stdout, stdout=f)
        p.stdout.close()
    else:
        p = subprocess.Popen(sys.argv[2:], stdout=f)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if filt:
        q.wait()
code = os.waitstatus_to_exitcode(status)
rss = open(out + ".rss").read().split()[-1]
with open(out, "a") as f:
    print(f"MEASURE wall={wall:.6f} cpu={ru.ru_utime + ru.ru_stime:.6f} rss_kib={rss}", file=f)
sys.exit(code)
EOF
}
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" "$2" | tail -n 1; }
record() { echo "$1 $2" >>"$RAW"; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
v() { # median of a key's values
  awk -v k="$1" '$1 == k { print $2 }' "$RAW" | sort -g |
    awk '{ x[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print x[(NR + 1) / 2]; else printf "%.4g\n", (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
vals() { awk -v k="$1" '$1 == k { printf "%s%s", s, $2; s = " " }' "$RAW"; }

# The smtp binary with no config files (HOME is the work directory).
smtp() { # out-name args... -> out file
  local out="$WORK/$1.txt"
  shift
  measure "$out" env -i PATH="$PATH" HOME="$WORK" "$SMTP" send --host "$HOST" --port "$SINK" \
    --security none "$@" 2>"$out.err" || { cat "$out.err" >&2; say "FAIL: smtp send $*"; exit 1; }
  echo "$out"
}
source_run() { # out-name messages size
  local out="$WORK/$1.txt"
  measure "$out" "$SOURCE" -s 1 -d -m "$2" -l "$3" -f s@example.net -t r@example.org "$HOST:$SINK" ||
    { cat "$out" >&2; say "FAIL: smtp-source"; exit 1; }
  echo "$out"
}
list() { # n -> path
  local l="$WORK/list-$1.txt"
  [ -s "$l" ] || seq 1 "$1" | sed 's/^/r/; s/$/@example.org/' >"$l"
  echo "$l"
}
sent_lines() { grep -c '"status":"sent"' "$1" || true; }

say "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "smtp-sink :$SINK; binary $SMTP built $(date -r "$SMTP" '+%F %T'), HEAD $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"

# Inputs: random bytes for the attachments; the .eml as bench.sh's big.eml
# (base64 lines, CRLF) cut to exactly 10 MiB; a 7,662,630-byte attachment
# is 10,485,760 bytes as base64 in 76-character lines.
head -c $((ATTACH_MIB * 1048576)) /dev/urandom >"$WORK/attach-big.bin"
head -c $((BIG * 57 / 78)) /dev/urandom >"$WORK/attach-10m.bin"
{
  printf 'From: <s@example.net>\r\nTo: <r@example.org>\r\nSubject: big\r\n\r\n'
  head -c $((BIG * 3 / 4)) /dev/urandom | base64 -w 76 | sed 's/$/\r/'
} >"$WORK/big10.eml"
truncate -s "$BIG" "$WORK/big10.eml"
head -c "$SIZE" /dev/zero | tr '\0' x | fold -w 76 >"$WORK/body.txt"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.pem" 2>/dev/null
RAWS=()
for _ in $(seq 1 "$N_BIG"); do RAWS+=(--raw "$WORK/big10.eml"); done

for r in $(seq 1 "$REPS"); do
  # (i) one 50 MiB attachment.
  base="$(sink_count)"
  out="$(smtp attach-"$r" --from a@x --to b@x --subject s --body b --attach "$WORK/attach-big.bin")"
  expect_count "smtp send --attach ${ATTACH_MIB} MiB" $((base + 1))
  record attach_rss_mib "$(calc "$(field rss_kib "$out") / 1024" 1)"
  record attach_mb_s "$(calc "$ATTACH_MIB * 1048576 * 78 / 57 / 1e6 / $(field wall "$out")" 0)"

  # (m) the same, DKIM-signed: a hashing pass, then the sending pass.
  base="$(sink_count)"
  out="$(smtp dkim-"$r" --from a@x --to b@x --subject s --body b --attach "$WORK/attach-big.bin" \
    --dkim-domain example.test --dkim-selector bench --dkim-key "$WORK/dkim.pem")"
  expect_count "smtp send --attach ${ATTACH_MIB} MiB --dkim-*" $((base + 1))
  record dkim_rss_mib "$(calc "$(field rss_kib "$out") / 1024" 1)"
  record dkim_wall_ratio "$(calc "$(field wall "$out") / $(field wall "$WORK/attach-$r.txt")" 2)"

  # (j) 10 MiB messages, N_BIG on one connection each way; MB/s of
  # 10 MiB per message over the process's wall time.
  base="$(sink_count)"
  out="$(smtp raw-"$r" --from a@x --to b@x --json "${RAWS[@]}")"
  expect_count "smtp send --raw 10 MiB x $N_BIG" $((base + N_BIG))
  [ "$(sent_lines "$out")" = "$N_BIG" ] || { say "FAIL: smtp send --raw: not all sent"; exit 1; }
  record raw_mb_s "$(calc "$N_BIG * $BIG / 1e6 / $(field wall "$out")" 1)"
  record raw_cpu_s "$(calc "$(field cpu "$out")" 2)"
  base="$(sink_count)"
  out="$(smtp att10-"$r" --from a@x --subject s --body b --attach "$WORK/attach-10m.bin" \
    --to-file "$(list "$N_BIG")" --json)"
  expect_count "smtp send --attach 10 MiB x $N_BIG" $((base + N_BIG))
  [ "$(sent_lines "$out")" = "$N_BIG" ] || { say "FAIL: smtp send --attach: not all sent"; exit 1; }
  record att10_mb_s "$(calc "$N_BIG * $BIG / 1e6 / $(field wall "$out")" 1)"
  record att10_cpu_s "$(calc "$(field cpu "$out")" 2)"
  base="$(sink_count)"
  out="$(source_run source-big-"$r" "$N_BIG" "$BIG")"
  expect_count "smtp-source 10 MiB x $N_BIG" $((base + N_BIG))
  record source_big_mb_s "$(calc "$N_BIG * $BIG / 1e6 / $(field wall "$out")" 1)"
  record source_big_cpu_s "$(calc "$(field cpu "$out")" 2)"
  # The same round's pair (the load of a shared machine drifts between rounds).
  record raw_ratio "$(calc "$(field wall "$out") / $(field wall "$WORK/raw-$r.txt")" 2)"
  record att10_ratio "$(calc "$(field wall "$out") / $(field wall "$WORK/att10-$r.txt")" 2)"

  # (l) CPU per message, 1 KiB, one connection each: whole process, and
  # marginal (N messages less 1 message, / N-1).
  base="$(sink_count)"
  out="$(smtp cpu-"$r" --from s@example.net --subject bench --body-file "$WORK/body.txt" \
    --to-file "$(list "$N_CPU")" --json)"
  expect_count "smtp send --to-file x $N_CPU" $((base + N_CPU))
  [ "$(sent_lines "$out")" = "$N_CPU" ] || { say "FAIL: smtp send --to-file: not all sent"; exit 1; }
  one="$(smtp cpu1-"$r" --from s@example.net --subject bench --body-file "$WORK/body.txt" \
    --to-file "$(list 1)" --json)"
  expect_count "smtp send --to-file x 1" $((base + N_CPU + 1))
  record cli_cpu_us "$(calc "$(field cpu "$out") * 1e6 / $N_CPU" 1)"
  record cli_marginal_cpu_us "$(calc "($(field cpu "$out") - $(field cpu "$one")) * 1e6 / ($N_CPU - 1)" 1)"
  record cli_msgs_s "$(calc "$N_CPU / $(field wall "$out")" 0)"
  base="$(sink_count)"
  out="$(source_run source-cpu-"$r" "$N_CPU" "$SIZE")"
  one="$(source_run source-cpu1-"$r" 1 "$SIZE")"
  expect_count "smtp-source x $N_CPU" $((base + N_CPU + 1))
  record source_cpu_us "$(calc "$(field cpu "$out") * 1e6 / $N_CPU" 1)"
  record source_marginal_cpu_us "$(calc "($(field cpu "$out") - $(field cpu "$one")) * 1e6 / ($N_CPU - 1)" 1)"
  record source_msgs_s "$(calc "$N_CPU / $(field wall "$out")" 0)"
  say "round $r of $REPS done (load $(cut -d' ' -f1-3 /proc/loadavg))"
done

# (k) one message per line of a list of N_BULK (a one-line body), the
# JSON lines counted as they stream out (not kept: ~200 bytes each).
say "bulk: $N_BULK recipients (load $(cut -d' ' -f1-3 /proc/loadavg))"
base="$(sink_count)"
bulk="$WORK/bulk.txt"
export FILTER="grep -c '\"status\":\"sent\"'"
measure "$bulk" env -i PATH="$PATH" HOME="$WORK" "$SMTP" send \
  --host "$HOST" --port "$SINK" --security none --from a@x --subject s --body b \
  --to-file "$(list "$N_BULK")" --json 2>"$bulk.err" || { tail -n 5 "$bulk.err" >&2; say "FAIL: smtp send --to-file $N_BULK"; exit 1; }
unset FILTER
expect_count "smtp send --to-file x $N_BULK" $((base + N_BULK))
bulk_sent="$(head -n 1 "$bulk")"
[ "$bulk_sent" = "$N_BULK" ] || { say "FAIL: smtp send --to-file: $bulk_sent of $N_BULK sent"; exit 1; }
record bulk_rss_mib "$(calc "$(field rss_kib "$bulk") / 1024" 1)"
record bulk_msgs_s "$(calc "$N_BULK / $(field wall "$bulk")" 0)"
record bulk_cpu_us "$(calc "$(field cpu "$bulk") * 1e6 / $N_BULK" 1)"
record bulk_counted "$(($(sink_count) - base))"
say "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"

row() { # target measured limit met-expression (awk, x = measured; "-": reported only)
  local met=-
  [ "$4" = - ] || met="$(awk -v x="$2" "BEGIN { print (($4) ? \"yes\" : \"NO\") }")"
  printf '| %-58s | %10s | %-14s | %-3s |\n' "$1" "$2" "$3" "$met"
}
echo
echo "Targets (the smtp binary, smtp send): loopback smtp-sink, no relay, median of $REPS run(s); bulk: 1 run"
echo
printf '| %-58s | %10s | %-14s | %-3s |\n' "target" "measured" "limit" "met"
echo "|------------------------------------------------------------|------------|----------------|-----|"
row "(i) --attach ${ATTACH_MIB} MiB file: peak RSS, MiB" "$(v attach_rss_mib)" "<= 16" "x <= 16"
row "(m) --attach ${ATTACH_MIB} MiB, DKIM-signed: peak RSS, MiB" "$(v dkim_rss_mib)" "<= 16" "x <= 16"
row "(m) DKIM-signed / unsigned (i): wall time" "$(v dkim_wall_ratio)" "(reported)" "-"
row "(j) 10 MiB --raw .eml x $N_BIG: MB/s ours / smtp-source" "$(calc "$(v raw_mb_s) / $(v source_big_mb_s)" 2)" ">= 1.0" "x >= 1.0"
row "(j) 10 MiB via --attach x $N_BIG: MB/s ours / smtp-source" "$(calc "$(v att10_mb_s) / $(v source_big_mb_s)" 2)" ">= 1.0" "x >= 1.0"
row "(k) --to-file, $N_BULK recipients: peak RSS, MiB" "$(v bulk_rss_mib)" "<= 64" "x <= 64"
row "(k) --to-file, $N_BULK: messages the sink counted" "$(v bulk_counted)" "= $N_BULK" "x == $N_BULK"
row "(k) --to-file, $N_BULK: msgs/s" "$(v bulk_msgs_s)" "(reported)" "-"
row "(l) --to-file CPU/message / smtp-source, whole process" "$(calc "$(v cli_cpu_us) / $(v source_cpu_us)" 2)" "(reported)" "-"
row "(l) --to-file CPU/message / smtp-source, marginal" "$(calc "$(v cli_marginal_cpu_us) / $(v source_marginal_cpu_us)" 2)" "(reported)" "-"
echo
echo "Figures (medians; per run in brackets): (i) peak RSS $(v attach_rss_mib) MiB ($(vals attach_rss_mib))," \
  "$(v attach_mb_s) MB/s on the wire"
echo "  (j) MB/s, $N_BIG x 10 MiB: --raw $(v raw_mb_s) ($(vals raw_mb_s)), --attach $(v att10_mb_s) ($(vals att10_mb_s))," \
  "smtp-source $(v source_big_mb_s) ($(vals source_big_mb_s)); CPU s: --raw $(v raw_cpu_s), --attach $(v att10_cpu_s)," \
  "smtp-source $(v source_big_cpu_s); ratio per round: --raw $(vals raw_ratio), --attach $(vals att10_ratio)"
echo "  (k) $N_BULK: peak RSS $(v bulk_rss_mib) MiB, $(v bulk_msgs_s) msgs/s, CPU $(v bulk_cpu_us) µs/message," \
  "sink counted $(v bulk_counted), JSON 'sent' lines $bulk_sent"
echo "  (l) $N_CPU x $SIZE B: CPU µs/message whole process (marginal): ours $(v cli_cpu_us) ($(v cli_marginal_cpu_us))," \
  "smtp-source $(v source_cpu_us) ($(v source_marginal_cpu_us)); msgs/s ours $(v cli_msgs_s), smtp-source $(v source_msgs_s)"
