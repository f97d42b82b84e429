#!/usr/bin/env bash
# Round trips per message, throughput, CPU and memory of the smtp-core engine
# over a WAN-like path (a userspace delay relay adding BENCH_RTT_MS of round
# trip), next to Postfix's smtp-source and Python's smtplib in the same run,
# every message counted on the server side. Prints one table of the targets
# (issue 8) and the raw figures; method and results: docs/benchmarks.md.
#
#   scripts/bench.sh                          # one round, ~3 minutes (+ ~3 for bench-cli.sh)
#   BENCH_ROUNDS=3 scripts/bench.sh           # medians of 3 rounds
#   BENCH_CLI_ROWS=0 scripts/bench.sh         # without scripts/bench-cli.sh's rows
#   BENCH_TLS_ROWS=0 scripts/bench.sh         # without scripts/bench-tls.sh's rows
#
# Then runs scripts/bench-cli.sh (the smtp binary: a 50 MiB attachment,
# 10 MiB messages, a 1,000,000-recipient --to-file, CPU per message, each
# next to smtp-source on a loopback smtp-sink) with the same build, which
# prints its own table in the same format.
#
# Starts its own servers and relays: an smtp-sink (Postfix's discarding
# server, PIPELINING, no CHUNKING), smtp-chunk-sink (testkit: PIPELINING +
# CHUNKING), and one smtp-delay-relay in front of each, plus relays to the
# rig's Postfix smtpd on 2525 (CHUNKING, delivers to a Maildir) and 2513
# (STARTTLS, TLS 1.3 only): those need the test peers (sudo scripts/peers/start.sh).
# Exits 1 if a run failed or a server counted another number of messages
# than were sent, 2 if peers or tools are missing. Targets not met are
# reported in the table, not as a failure.
set -euo pipefail

# Other jobs on a shared machine delay every wake-up of the clients, sinks
# and relays alike; as root the whole bench (every side of it) runs at a
# higher priority so that the figures depend less on them. BENCH_NICE=0: off.
if [ -z "${BENCH_RENICED:-}" ] && [ "$(id -u)" = 0 ] && [ "${BENCH_NICE:--10}" != 0 ]; then
  BENCH_RENICED=1 exec nice -n "${BENCH_NICE:--10}" "$0" "$@"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_ENV="${SMTP_PEERS_ENV:-${PEERS_DIR:-/tmp/smtp-peers}/peers.env}"
RTT_MS="${BENCH_RTT_MS:-20}"
ROUNDS="${BENCH_ROUNDS:-1}"
SIZE="${BENCH_SIZE:-1024}"
N_PIPE="${BENCH_PIPELINING_MESSAGES:-500}"   # ours, PIPELINING, one connection
N_CHUNK="${BENCH_CHUNKING_MESSAGES:-2000}"   # ours, CHUNKING, one connection
N_POSTFIX="${BENCH_POSTFIX_MESSAGES:-300}"   # ours, CHUNKING, Postfix smtpd
N_SOURCE="${BENCH_SOURCE_MESSAGES:-150}"     # smtp-source, one connection
N_PY="${BENCH_PY_MESSAGES:-100}"             # Python smtplib, one connection
N_LETTRE="${BENCH_LETTRE_MESSAGES:-100}"     # lettre (Rust, crates.io), one connection
N_NEWCONN="${BENCH_NEWCONN_MESSAGES:-50}"    # ours, a connection per message
N_TLS="${BENCH_TLS_CONNECTIONS:-20}"         # STARTTLS set-ups
N_POOL="${BENCH_POOL_MESSAGES:-10000}"       # pool of 8
POOL_BATCH="${BENCH_POOL_BATCH:-50}"         # messages per send_batch in the pool
N_SCALE="${BENCH_SCALE_MESSAGES:-1600}"      # pools of 1, 2, 4
N_LOCAL="${BENCH_LOCAL_MESSAGES:-10000}"     # no relay: CPU per message
N_CLI="${BENCH_CLI_MESSAGES:-300}"           # the smtp binary, send --to-file
BIG_MIB="${BENCH_BIG_MIB:-50}"
PYTHON="${PYTHON:-python3}"

say() { echo "bench.sh: $*" >&2; }
die() { say "$*"; exit 2; }

[ -s "$PEERS_ENV" ] || die "no $PEERS_ENV: start the test peers with 'sudo scripts/peers/start.sh'"
# shellcheck disable=SC1090
. "$PEERS_ENV"
HOST="${PEERS_HOST:-127.0.0.1}"
PF_PLAIN="${PEERS_POSTFIX_PLAIN_PORT:?peers.env lacks PEERS_POSTFIX_PLAIN_PORT}"
PF_TLS13="${PEERS_POSTFIX_TLS13_STARTTLS_PORT:?peers.env lacks PEERS_POSTFIX_TLS13_STARTTLS_PORT}"
MAILDIR="${PEERS_POSTFIX_MAILDIR:?peers.env lacks PEERS_POSTFIX_MAILDIR}/new"
CA="${PEERS_CA_CERT:?peers.env lacks PEERS_CA_CERT}"
for port in "$PF_PLAIN" "$PF_TLS13"; do
  (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null ||
    die "Postfix does not answer on $HOST:$port: start the test peers with 'sudo scripts/peers/start.sh'"
done
SOURCE="$(command -v smtp-source || echo /usr/sbin/smtp-source)"
SINK_BIN="$(command -v smtp-sink || echo /usr/sbin/smtp-sink)"
{ [ -x "$SOURCE" ] && [ -x "$SINK_BIN" ]; } ||
  die "smtp-source/smtp-sink not found (Debian package 'postfix'; scripts/peers/install.sh installs it)"
"$PYTHON" -c 'import smtplib, os; os.wait4' 2>/dev/null ||
  die "$PYTHON with smtplib is needed (Debian package python3)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/smtp-bench.XXXXXX")"
PIDS="$WORK/pids" # the servers and relays this script started (by pid)
cleanup() {
  local pid
  if [ -s "$PIDS" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$PIDS"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
RAW="$WORK/raw.txt" # one line per measurement: "<key> <value>"

say "building (release): smtp-bench, smtp-delay-relay, smtp-chunk-sink, smtp"
(cd "$ROOT" && cargo build --quiet --release -p smtp-bench -p smtp-testkit -p smtp-cli --bins)
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
BENCH="$BIN_DIR/smtp-bench"
# lettre, the most used Rust SMTP client, from crates.io: a crate of its own
# (bench/lettre-client, its own workspace and lock file), so the project's
# build never compiles it. BENCH_LETTRE=0 leaves it out (the table says so).
LETTRE=""
if [ "${BENCH_LETTRE:-1}" != 0 ]; then
  say "building (release): bench/lettre-client (lettre from crates.io)"
  (cd "$ROOT/bench/lettre-client" && cargo build --quiet --release) ||
    die "bench/lettre-client did not build (crates.io reachable?); BENCH_LETTRE=0 skips it"
  LETTRE="${CARGO_TARGET_DIR:-$ROOT/bench/lettre-client/target}/release/lettre-client"
fi

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts a server that prints "listening ADDR" first; echoes the port.
start_listener() { # name cmd...
  local name="$1" out="$WORK/$1.out"
  shift
  "$@" >"$out" 2>"$WORK/$name.err" &
  echo "$!" >>"$PIDS"
  for _ in $(seq 1 100); do
    if grep -q '^listening ' "$out" 2>/dev/null; then
      sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$out" | head -n 1
      return 0
    fi
    sleep 0.05
  done
  cat "$WORK/$name.err" >&2
  die "$name did not start"
}
relay() { # name upstream-port
  start_listener "$1" "$BIN_DIR/smtp-delay-relay" --upstream "$HOST:$2" --rtt-ms "$RTT_MS" --connect-rtts 1.5
}

SINK="$(free_port)"
"$SINK_BIN" -c -u nobody -h sink.example.test "$HOST:$SINK" 1024 >"$WORK/sink.out" 2>&1 &
echo "$!" >>"$PIDS"
CHUNK="$(start_listener chunk-sink "$BIN_DIR/smtp-chunk-sink")"
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$HOST/$SINK") 2>/dev/null && break; sleep 0.05; done
R_SINK="$(relay relay-sink "$SINK")"
R_CHUNK="$(relay relay-chunk "$CHUNK")"
R_PF="$(relay relay-postfix "$PF_PLAIN")"
R_TLS="$(relay relay-tls13 "$PF_TLS13")"
say "smtp-sink :$SINK (relay :$R_SINK), chunk sink :$CHUNK (relay :$R_CHUNK)," \
  "Postfix :$PF_PLAIN (relay :$R_PF), :$PF_TLS13 (relay :$R_TLS); RTT ${RTT_MS} ms"

# ---- server-side counts ---------------------------------------------------
sink_count() { tr '\r' '\n' <"$WORK/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | grep . || echo 0; }
chunk_count() { sed -n 's/.*msgs=\([0-9]*\).*/\1/p' "$WORK/chunk-sink.out" | tail -n 1 | grep . || echo 0; }
maildir_count() { grep -rlF "Subject: $1" "$MAILDIR" 2>/dev/null | wc -l; }
# Waits until the counter reaches the expected value (the server may count
# a moment after the client exits); fails the bench when it does not.
expect_count() { # label counter-fn expected [arg]
  local got
  for _ in $(seq 1 "${5:-40}"); do
    got="$($2 ${4:+"$4"})"
    [ "$got" -ge "$3" ] && break
    sleep 0.25
  done
  if [ "$got" != "$3" ]; then
    say "FAIL: $1: the server counted $got messages, expected $3"
    exit 1
  fi
}

# ---- running and measuring one client process ----------------------------
# Runs a command, its stdout to a file; appends its wall time and the CPU
# (user+sys) of the process from wait4(2). (Not its ru_maxrss: that counts
# the forked Python image before exec; smtp-bench reports its own VmHWM.)
measure() { # outfile cmd...
  "$PYTHON" - "$@" <<'EOF'
import os, subprocess, sys, time
out = sys.argv[1]
t0 = time.perf_counter()
with open(out, "w") as f:
    p = subprocess.Popen(sys.argv[2:], stdout=f)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
wall = time.perf_counter() - t0
with open(out, "a") as f:
    print(f"MEASURE wall={wall:.6f} cpu={ru.ru_utime + ru.ru_stime:.6f}", file=f)
sys.exit(p.returncode)
EOF
}
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" "$2" | tail -n 1; }
record() { echo "$1 $2" >>"$RAW"; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
# CPU per message without the process's fixed costs (start-up, connect,
# EHLO, QUIT): the slope between a run of N messages and a run of 1.
marginal_cpu() { # out-of-N N out-of-1 -> microseconds
  calc "($(field cpu "$1") - $(field cpu "$3")) * 1e6 / ($2 - 1)" 2
}

ours() { # out-name args... (runs smtp-bench, fails the bench when it fails)
  local out="$WORK/$1.txt"
  shift
  measure "$out" "$BENCH" "$@" || { cat "$out" >&2; say "FAIL: smtp-bench $*"; exit 1; }
  echo "$out"
}
source_run() { # out-name port messages
  local out="$WORK/$1.txt"
  measure "$out" "$SOURCE" -s 1 -d -m "$3" -l "$SIZE" -f s@example.net -t r@example.org \
    "$HOST:$2" || { cat "$out" >&2; say "FAIL: smtp-source"; exit 1; }
  echo "$out"
}

cat >"$WORK/smtplib_client.py" <<'EOF'
import smtplib, sys
host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body, left = "", size  # the payload smtp-bench sends: 78-byte lines
while left >= 2:
    k = min(left, 78)
    body += "x" * (k - 2) + "\r\n"
    left -= k
body += "x" * left
msg = ("From: <s@example.net>\r\nTo: <r@example.org>\r\nSubject: bench\r\n\r\n" + body).encode()
with smtplib.SMTP(host, port) as s:
    for _ in range(n):
        s.sendmail("s@example.net", ["r@example.org"], msg)
EOF

# The CLI as a user runs it: one message per line of a list, no config
# files (HOME is the work directory), JSON lines out.
head -c "$SIZE" /dev/zero | tr '\0' x | fold -w 76 >"$WORK/cli-body.txt"
cli_list() { # n -> path
  local list="$WORK/cli-list-$1.txt"
  [ -s "$list" ] || seq 1 "$1" | sed 's/^/r/; s/$/@example.org/' >"$list"
  echo "$list"
}
cli_run() { # out-name port messages
  local out="$WORK/$1.txt"
  measure "$out" env -i PATH="$PATH" HOME="$WORK" "$BIN_DIR/smtp" send --host "$HOST" --port "$2" \
    --security none --from s@example.net --subject bench --body-file "$WORK/cli-body.txt" \
    --to-file "$(cli_list "$3")" --concurrency 1 --json || { cat "$out" >&2; say "FAIL: smtp send"; exit 1; }
  [ "$(grep -c '"status":"sent"' "$out")" = "$3" ] || { say "FAIL: smtp send: not all $3 sent"; exit 1; }
  echo "$out"
}
# Round trips per message from the wall time of N messages less that of one
# (process start, connect, EHLO and QUIT cancel out).
marginal_rtt() { # out-of-N N out-of-1 rtt
  calc "($(field wall "$1") - $(field wall "$3")) * 1000 / ($2 - 1) / $4" 4
}

BIG="$WORK/big.eml"
{
  printf 'From: <s@example.net>\r\nTo: <r@example.org>\r\nSubject: big\r\n\r\n'
  head -c $((BIG_MIB * 786432)) /dev/urandom | base64 -w 76 | sed 's/$/\r/'
} >"$BIG"
truncate -s $((BIG_MIB * 1048576)) "$BIG"

one_round() {
  local r="$1" out base tag rtt n s one
  # The measured round trip: the median of 100 NOOPs through the relay to
  # smtp-sink (their mean is recorded to show how busy the machine was).
  out="$(ours probe-"$r" probe --port "$R_SINK" --messages 100)"
  rtt="$(field rtt_ms "$out")"
  record rtt_ms "$rtt"
  record rtt_mean_ms "$(field rtt_mean_ms "$out")"
  record connect_greeting_rtts "$(calc "$(field connect_greeting_ms "$out") / $rtt" 2)"
  say "round $r: measured RTT $rtt ms"

  # (a) PIPELINING, one connection, smtp-sink.
  base="$(sink_count)"
  out="$(ours pipe-"$r" session --port "$R_SINK" --messages "$N_PIPE" --batch 0)"
  expect_count "ours, PIPELINING" sink_count $((base + N_PIPE))
  record pipe_rtt_per_msg "$(calc "$(field send_secs "$out") * 1000 / $N_PIPE / $rtt" 4)"
  record pipe_setup_rtts "$(calc "$(field setup_secs "$out") * 1000 / $rtt" 2)"
  record pipe_msgs_s "$(calc "$N_PIPE / $(field wall "$out")" 1)"
  record pipe_cpu_us "$(calc "$(field cpu "$out") * 1e6 / $N_PIPE" 1)"
  record pipe_marginal_cpu_us "$(marginal_cpu "$out" "$N_PIPE" \
    "$(ours pipe1-"$r" session --port "$R_SINK" --messages 1 --batch 0)")"

  # The same with a current-thread tokio runtime (one thread, no hand-offs
  # between workers): CPU only.
  base="$(sink_count)"
  out="$(ours pipe-ct-"$r" session --port "$R_SINK" --messages "$N_PIPE" --batch 0 --runtime current)"
  expect_count "ours, PIPELINING, current-thread" sink_count $((base + N_PIPE))
  record pipe_ct_marginal_cpu_us "$(marginal_cpu "$out" "$N_PIPE" \
    "$(ours pipe-ct1-"$r" session --port "$R_SINK" --messages 1 --batch 0 --runtime current)")"

  # (d) smtp-source and Python smtplib on the same path.
  base="$(sink_count)"
  out="$(source_run source-"$r" "$R_SINK" "$N_SOURCE")"
  expect_count "smtp-source" sink_count $((base + N_SOURCE))
  record source_rtt_per_msg "$(calc "$(field wall "$out") * 1000 / $N_SOURCE / $rtt" 4)"
  record source_msgs_s "$(calc "$N_SOURCE / $(field wall "$out")" 1)"
  record source_cpu_us "$(calc "$(field cpu "$out") * 1e6 / $N_SOURCE" 1)"
  record source_marginal_cpu_us "$(marginal_cpu "$out" "$N_SOURCE" \
    "$(source_run source1-"$r" "$R_SINK" 1)")"
  base="$(sink_count)"
  out="$WORK/python-$r.txt"
  measure "$out" "$PYTHON" "$WORK/smtplib_client.py" "$HOST" "$R_SINK" "$N_PY" "$SIZE" ||
    { say "FAIL: Python smtplib"; exit 1; }
  expect_count "Python smtplib" sink_count $((base + N_PY))
  record python_rtt_per_msg "$(calc "$(field wall "$out") * 1000 / $N_PY / $rtt" 4)"
  record python_msgs_s "$(calc "$N_PY / $(field wall "$out")" 1)"
  if [ -n "$LETTRE" ]; then
    base="$(sink_count)"
    out="$WORK/lettre-$r.txt"
    measure "$out" "$LETTRE" "$HOST" "$R_SINK" "$N_LETTRE" "$SIZE" || { say "FAIL: lettre"; exit 1; }
    expect_count "lettre" sink_count $((base + N_LETTRE))
    record lettre_rtt_per_msg "$(calc "$(field wall "$out") * 1000 / $N_LETTRE / $rtt" 4)"
    record lettre_msgs_s "$(calc "$N_LETTRE / $(field wall "$out")" 1)"
  fi

  # (b) CHUNKING, one connection: our sink, then Postfix smtpd (2525).
  base="$(chunk_count)"
  out="$(ours chunk-"$r" session --port "$R_CHUNK" --messages "$N_CHUNK" --batch 0)"
  expect_count "ours, CHUNKING" chunk_count $((base + N_CHUNK))
  record chunk_rtt_per_msg "$(calc "$(field send_secs "$out") * 1000 / $N_CHUNK / $rtt" 4)"
  record chunk_msgs_s "$(calc "$N_CHUNK / $(field wall "$out")" 1)"
  record chunk_cpu_us "$(calc "$(field cpu "$out") * 1e6 / $N_CHUNK" 1)"
  tag="bench-$$-$r-$(date +%s)"
  out="$(ours postfix-"$r" session --port "$R_PF" --messages "$N_POSTFIX" --batch 0 \
    --from sender@example.test --to bench@example.test --tag "$tag")"
  expect_count "Postfix 2525 (Maildir)" maildir_count "$N_POSTFIX" "$tag" 240
  grep -rlF "Subject: $tag" "$MAILDIR" | xargs -r rm -f # counted: keep the Maildir small
  record postfix_rtt_per_msg "$(calc "$(field send_secs "$out") * 1000 / $N_POSTFIX / $rtt" 4)"

  # (h) the smtp binary, bulk from a list, one connection: PIPELINING, CHUNKING.
  base="$(sink_count)"
  out="$(cli_run cli-pipe-"$r" "$R_SINK" "$N_CLI")"
  expect_count "smtp send --to-file, PIPELINING" sink_count $((base + N_CLI))
  base="$(sink_count)"
  one="$(cli_run cli-pipe1-"$r" "$R_SINK" 1)"
  record cli_pipe_rtt_per_msg "$(marginal_rtt "$out" "$N_CLI" "$one" "$rtt")"
  record cli_pipe_marginal_cpu_us "$(marginal_cpu "$out" "$N_CLI" "$one")"
  expect_count "smtp send, one message" sink_count $((base + 1))
  base="$(chunk_count)"
  out="$(cli_run cli-chunk-"$r" "$R_CHUNK" "$N_CLI")"
  expect_count "smtp send --to-file, CHUNKING" chunk_count $((base + N_CLI))
  base="$(chunk_count)"
  record cli_chunk_rtt_per_msg "$(marginal_rtt "$out" "$N_CLI" "$(cli_run cli-chunk1-"$r" "$R_CHUNK" 1)" "$rtt")"
  expect_count "smtp send, one message (CHUNKING)" chunk_count $((base + 1))

  # (c) a new connection per message (connect+greeting, EHLO, message, QUIT).
  base="$(sink_count)"
  out="$(ours newconn-"$r" newconn --port "$R_SINK" --messages "$N_NEWCONN")"
  expect_count "ours, new connection each" sink_count $((base + N_NEWCONN))
  record newconn_rtt_per_msg "$(calc "$(field msg_mean_secs "$out") * 1000 / $rtt" 3)"

  # (g) STARTTLS, TLS 1.3 only: connect to the reply to the post-TLS EHLO.
  out="$(ours tls-"$r" starttls --port "$R_TLS" --messages "$N_TLS" --ca-file "$CA")"
  record tls_setup_rtts "$(calc "$(field setup_median_secs "$out") * 1000 / $rtt" 2)"
  record tls_setup_min_rtts "$(calc "$(field setup_min_secs "$out") * 1000 / $rtt" 2)"
  # The same set-ups straight to Postfix (no relay): computing time, and
  # the 40 ms stalls of full handshakes (see docs/benchmarks.md).
  out="$(ours tls-local-"$r" starttls --port "$PF_TLS13" --messages "$N_TLS" --ca-file "$CA")"
  record tls_local_ms "$(calc "$(field setup_median_secs "$out") * 1000" 2)"
  record tls_local_min_ms "$(calc "$(field setup_min_secs "$out") * 1000" 2)"

  # (f) the pool: 8 connections, then 1, 2, 4 for the scaling.
  for s in 8 1 2 4; do
    n="$N_SCALE"
    [ "$s" = 8 ] && n="$N_POOL"
    base="$(sink_count)"
    out="$(ours "pool$s-$r" pool --port "$R_SINK" --sessions "$s" --messages "$n" --batch "$POOL_BATCH")"
    expect_count "ours, pool of $s" sink_count $((base + n))
    record "pool${s}_msgs_s" "$(field msgs_per_s "$out")"
    [ "$s" = 8 ] && record pool8_counted "$(($(sink_count) - base))"
  done

  # (d) CPU per message with no relay: 10,000 messages, one connection.
  base="$(sink_count)"
  out="$(ours local-"$r" session --port "$SINK" --messages "$N_LOCAL" --batch 0)"
  expect_count "ours, loopback" sink_count $((base + N_LOCAL))
  record local_cpu_us "$(calc "$(field cpu "$out") * 1e6 / $N_LOCAL" 2)"
  record local_msgs_s "$(calc "$N_LOCAL / $(field wall "$out")" 0)"
  record local_marginal_cpu_us "$(marginal_cpu "$out" "$N_LOCAL" \
    "$(ours local1-"$r" session --port "$SINK" --messages 1 --batch 0)")"
  base="$(sink_count)"
  out="$(ours local-ct-"$r" session --port "$SINK" --messages "$N_LOCAL" --batch 0 --runtime current)"
  expect_count "ours, loopback, current-thread" sink_count $((base + N_LOCAL))
  record local_ct_marginal_cpu_us "$(marginal_cpu "$out" "$N_LOCAL" \
    "$(ours local-ct1-"$r" session --port "$SINK" --messages 1 --batch 0 --runtime current)")"
  base="$(sink_count)"
  out="$(source_run source-local-"$r" "$SINK" "$N_LOCAL")"
  expect_count "smtp-source, loopback" sink_count $((base + N_LOCAL))
  record source_local_cpu_us "$(calc "$(field cpu "$out") * 1e6 / $N_LOCAL" 2)"
  record source_local_msgs_s "$(calc "$N_LOCAL / $(field wall "$out")" 0)"
  record source_local_marginal_cpu_us "$(marginal_cpu "$out" "$N_LOCAL" \
    "$(source_run source-local1-"$r" "$SINK" 1)")"
  if [ -n "$LETTRE" ]; then
    base="$(sink_count)"
    out="$WORK/lettre-local-$r.txt"
    measure "$out" "$LETTRE" "$HOST" "$SINK" "$N_LOCAL" "$SIZE" || { say "FAIL: lettre"; exit 1; }
    expect_count "lettre, loopback" sink_count $((base + N_LOCAL))
    record lettre_local_msgs_s "$(calc "$N_LOCAL / $(field wall "$out")" 0)"
    measure "$WORK/lettre-local1-$r.txt" "$LETTRE" "$HOST" "$SINK" 1 "$SIZE" || { say "FAIL: lettre"; exit 1; }
    record lettre_local_marginal_cpu_us "$(marginal_cpu "$out" "$N_LOCAL" "$WORK/lettre-local1-$r.txt")"
  fi

  # (e) 50 MiB from a file, no relay: peak RSS of the whole process.
  base="$(sink_count)"
  out="$(ours big-"$r" file --port "$SINK" --file "$BIG")"
  expect_count "ours, ${BIG_MIB} MiB" sink_count $((base + 1))
  record big_rss_mib "$(calc "$(field hwm_kib "$out") / 1024" 1)"
  record big_mb_s "$(field mb_per_s "$out")"
}

say "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "versions: $(rustc -V | cut -d' ' -f1-2), postfix $(dpkg-query -W -f '${Version}' postfix 2>/dev/null || echo '?'), $("$PYTHON" --version 2>&1)"
for round in $(seq 1 "$ROUNDS"); do one_round "$round"; done

v() { # median of a key's values
  awk -v k="$1" '$1 == k { print $2 }' "$RAW" | sort -g |
    awk '{ x[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print x[(NR + 1) / 2]; else printf "%.4g\n", (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
row() { # target measured limit met-expression (awk, x = measured; "-": reported only)
  local met=-
  [ "$4" = - ] || met="$(awk -v x="$2" "BEGIN { print (($4) ? \"yes\" : \"NO\") }")"
  printf '| %-58s | %10s | %-14s | %-3s |\n' "$1" "$2" "$3" "$met"
}
rtt="$(v rtt_ms)"
echo
echo "Targets (issue 8): 1 KiB, 1 recipient, RTT ${RTT_MS} ms via the delay relay (measured ${rtt} ms), median of $ROUNDS round(s)"
echo
printf '| %-58s | %10s | %-14s | %-3s |\n' "target" "measured" "limit" "met"
echo "|------------------------------------------------------------|------------|----------------|-----|"
row "(a) RTT/message, PIPELINING, 1 connection (smtp-sink)" "$(v pipe_rtt_per_msg)" "<= 1.05" "x <= 1.05"
row "(b) RTT/message, CHUNKING, 1 connection (chunk sink)" "$(v chunk_rtt_per_msg)" "<= 0.15" "x <= 0.15"
row "(b) RTT/message, CHUNKING, 1 connection (Postfix 2525)" "$(v postfix_rtt_per_msg)" "<= 0.15" "x <= 0.15"
row "(c) RTT/message, new connection each (smtp-sink)" "$(v newconn_rtt_per_msg)" "<= 5.1" "x <= 5.1"
row "(d) msgs/s ours / smtp-source, 1 connection (relay)" "$(calc "$(v pipe_msgs_s) / $(v source_msgs_s)" 2)" ">= 3" "x >= 3"
row "(d) CPU/message ours / smtp-source, whole process (relay)" "$(calc "$(v pipe_cpu_us) / $(v source_cpu_us)" 2)" "<= 0.35" "x <= 0.35"
row "(d) CPU/message ours / smtp-source, marginal (relay)" "$(calc "$(v pipe_marginal_cpu_us) / $(v source_marginal_cpu_us)" 2)" "<= 0.35" "x <= 0.35"
row "(d) CPU/message ours / smtp-source, marginal (loopback)" "$(calc "$(v local_marginal_cpu_us) / $(v source_local_marginal_cpu_us)" 2)" "<= 0.35" "x <= 0.35"
row "(d) same, ours on a current-thread runtime (relay)" "$(calc "$(v pipe_ct_marginal_cpu_us) / $(v source_marginal_cpu_us)" 2)" "<= 0.35" "x <= 0.35"
row "(d) same, ours on a current-thread runtime (loopback)" "$(calc "$(v local_ct_marginal_cpu_us) / $(v source_local_marginal_cpu_us)" 2)" "<= 0.35" "x <= 0.35"
row "(d) msgs/s ours / Python smtplib, 1 connection (relay)" "$(calc "$(v pipe_msgs_s) / $(v python_msgs_s)" 2)" "(reported)" "-"
if [ -n "$LETTRE" ]; then
  row "(d) msgs/s ours / lettre, 1 connection (relay)" "$(calc "$(v pipe_msgs_s) / $(v lettre_msgs_s)" 2)" "(reported)" "-"
  row "(d) msgs/s ours / lettre, 1 connection (loopback)" "$(calc "$(v local_msgs_s) / $(v lettre_local_msgs_s)" 2)" "(reported)" "-"
  row "(d) CPU/message ours (current-thread) / lettre, marginal (loopback)" "$(calc "$(v local_ct_marginal_cpu_us) / $(v lettre_local_marginal_cpu_us)" 2)" "(reported)" "-"
else
  row "lettre: left out (BENCH_LETTRE=0)" "-" "-" "-"
fi
row "(e) ${BIG_MIB} MiB message from a file: peak RSS, MiB" "$(v big_rss_mib)" "<= 16" "x <= 16"
row "(f) pool of 8: messages the sink counted / $N_POOL sent" "$(v pool8_counted)" "= $N_POOL" "x == $N_POOL"
row "(f) pool msgs/s vs 1 connection: 2 / 4 / 8" \
  "$(calc "$(v pool2_msgs_s) / $(v pool1_msgs_s)" 1)/$(calc "$(v pool4_msgs_s) / $(v pool1_msgs_s)" 1)/$(calc "$(v pool8_msgs_s) / $(v pool1_msgs_s)" 1)" "(reported)" "-"
row "(g) STARTTLS TLS 1.3 set-up, RTT (median; fraction = computing)" "$(v tls_setup_rtts)" "6 (floor)" "x < 6.5"
row "(h) smtp send --to-file, RTT/message, PIPELINING (smtp-sink)" "$(v cli_pipe_rtt_per_msg)" "(reported)" "-"
row "(h) smtp send --to-file, RTT/message, CHUNKING (chunk sink)" "$(v cli_chunk_rtt_per_msg)" "(reported)" "-"
row "(h) smtp send --to-file CPU/message / smtp-source, marginal (relay)" "$(calc "$(v cli_pipe_marginal_cpu_us) / $(v source_marginal_cpu_us)" 2)" "(reported)" "-"
echo
echo "Figures (medians): RTT $rtt ms (mean of the NOOPs $(v rtt_mean_ms) ms); connect+greeting $(v connect_greeting_rtts) RTT;" \
  "set-up before the first message $(v pipe_setup_rtts) RTT; STARTTLS set-up $(v tls_setup_rtts) RTT" \
  "(min $(v tls_setup_min_rtts)); without the relay: median $(v tls_local_ms) ms, min $(v tls_local_min_ms) ms"
echo "  RTT/message, 1 connection: ours PIPELINING $(v pipe_rtt_per_msg), CHUNKING $(v chunk_rtt_per_msg)," \
  "Postfix 2525 $(v postfix_rtt_per_msg); smtp-source $(v source_rtt_per_msg); Python smtplib $(v python_rtt_per_msg);" \
  "lettre $(v lettre_rtt_per_msg) (these three include their set-up)"
echo "  msgs/s, 1 connection (relay): ours $(v pipe_msgs_s) (CHUNKING $(v chunk_msgs_s)), smtp-source $(v source_msgs_s)," \
  "Python smtplib $(v python_msgs_s), lettre $(v lettre_msgs_s)"
echo "  pool msgs/s: 1: $(v pool1_msgs_s), 2: $(v pool2_msgs_s), 4: $(v pool4_msgs_s), 8: $(v pool8_msgs_s)"
echo "  CPU µs/message, whole process (marginal): relay: ours $(v pipe_cpu_us) ($(v pipe_marginal_cpu_us))," \
  "smtp-source $(v source_cpu_us) ($(v source_marginal_cpu_us)); loopback, $N_LOCAL msgs: ours $(v local_cpu_us)" \
  "($(v local_marginal_cpu_us)), smtp-source $(v source_local_cpu_us) ($(v source_local_marginal_cpu_us));" \
  "current-thread marginal: relay $(v pipe_ct_marginal_cpu_us), loopback $(v local_ct_marginal_cpu_us);" \
  "CHUNKING (relay, whole process): $(v chunk_cpu_us)" \
  "(msgs/s ours $(v local_msgs_s), smtp-source $(v source_local_msgs_s), lettre $(v lettre_local_msgs_s));" \
  "lettre marginal CPU, loopback: $(v lettre_local_marginal_cpu_us)"
echo "  ${BIG_MIB} MiB from a file: $(v big_mb_s) MB/s, peak RSS $(v big_rss_mib) MiB"
if [ "$ROUNDS" -gt 1 ]; then
  echo
  echo "raw values (per round):"
  awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print "  " k ":" a[k] }' "$RAW" | sort
fi

# Issue 20's TLS rows (STARTTLS+AUTH bulk next to lettre and smtplib,
# resumption, idle memory, connections opened ahead): their own table.
if [ "${BENCH_TLS_ROWS:-1}" != 0 ]; then
  BENCH_CLI_NO_BUILD=1 BENCH_RENICED=1 BENCH_LETTRE="$([ -n "$LETTRE" ] && echo 1 || echo 0)" "$ROOT/scripts/bench-tls.sh"
fi

# (i)-(l): the smtp binary's streaming and bulk rows, same build, its own
# sink (loopback); its exit status is the bench's.
if [ "${BENCH_CLI_ROWS:-1}" != 0 ]; then
  BENCH_CLI_NO_BUILD=1 BENCH_RENICED=1 "$ROOT/scripts/bench-cli.sh"
fi
