#!/usr/bin/env bash
# The TLS rows of the bench (issue 20): STARTTLS + AUTH bulk to the rig's
# Postfix (submission port, Maildir counted) over 1 and 4 connections, with
# no added latency and through the 20 ms delay relay, next to lettre's pool
# and Python's smtplib doing the same; TLS 1.3 session resumption (CPU per
# connection and round trips to the post-TLS EHLO, with and without,
# against Postfix and against aiosmtpd, which renews tickets); the
# memory of an idle pooled TLS connection; and the round trips per message
# of bulk sending with reconnection every 100 messages, with the successor
# opened ahead (a pool of 2 for one worker) and without (a pool of 1 leaves
# no room for it: the behaviour before opening ahead existed).
#
#   scripts/bench-tls.sh                 # ~5 minutes; also run at the end of scripts/bench.sh
#   BENCH_TLS_ROUNDS=3 scripts/bench-tls.sh
#
# Method and figures: docs/benchmarks.md. Exits 1 when a client fails or
# the server counts another number of messages than were sent, 2 when peers
# or tools are missing.
set -euo pipefail

if [ -z "${BENCH_RENICED:-}" ] && [ "$(id -u)" = 0 ] && [ "${BENCH_NICE:--10}" != 0 ]; then
  BENCH_RENICED=1 exec nice -n "${BENCH_NICE:--10}" "$0" "$@"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_ENV="${SMTP_PEERS_ENV:-${PEERS_DIR:-/tmp/smtp-peers}/peers.env}"
RTT_MS="${BENCH_RTT_MS:-20}"
ROUNDS="${BENCH_TLS_ROUNDS:-1}"
SIZE="${BENCH_SIZE:-1024}"
N_LOCAL="${BENCH_TLS_LOCAL_MESSAGES:-600}"   # per client, no added latency
N_RELAY="${BENCH_TLS_RELAY_MESSAGES:-200}"   # ours through the relay
N_PEER_RELAY="${BENCH_TLS_PEER_RELAY_MESSAGES:-60}" # lettre, smtplib through the relay
N_CONN="${BENCH_TLS_NEWCONN:-60}"            # new TLS connection per message
N_IDLE="${BENCH_TLS_IDLE_SESSIONS:-20}"      # idle sessions held for the memory row
N_AHEAD="${BENCH_AHEAD_MESSAGES:-1000}"      # bulk with reconnection every 100, smtp-sink
N_AHEAD_TLS="${BENCH_AHEAD_TLS_MESSAGES:-500}" # the same, STARTTLS+AUTH to Postfix
PYTHON="${PYTHON:-python3}"

say() { echo "bench-tls.sh: $*" >&2; }
die() { say "$*"; exit 2; }

[ -s "$PEERS_ENV" ] || die "no $PEERS_ENV: start the test peers with 'sudo scripts/peers/start.sh'"
# shellcheck disable=SC1090
. "$PEERS_ENV"
HOST="${PEERS_HOST:-127.0.0.1}"
PF_SUB="${PEERS_POSTFIX_SUBMISSION_PORT:?peers.env lacks PEERS_POSTFIX_SUBMISSION_PORT}"
PF_TLS13="${PEERS_POSTFIX_TLS13_STARTTLS_PORT:?peers.env lacks PEERS_POSTFIX_TLS13_STARTTLS_PORT}"
MAILDIR="${PEERS_POSTFIX_MAILDIR:?peers.env lacks PEERS_POSTFIX_MAILDIR}/new"
# aiosmtpd (Python's ssl on OpenSSL) issues a TLS 1.3 ticket on resumed
# handshakes too, which Postfix never does: the resumption rows run on both.
AIO_TLS="${PEERS_AIOSMTPD_STARTTLS_PORT:?peers.env lacks PEERS_AIOSMTPD_STARTTLS_PORT}"
AIO_MAILDIR="${PEERS_AIOSMTPD_MAILDIR:?peers.env lacks PEERS_AIOSMTPD_MAILDIR}/new"
CA="${PEERS_CA_CERT:?peers.env lacks PEERS_CA_CERT}"
TLS_NAME="${PEERS_TLS_NAME:-localhost}"
export BENCH_SMTP_USER="${PEERS_SMTP_USER:?peers.env lacks PEERS_SMTP_USER}"
export BENCH_SMTP_PASS="${PEERS_SMTP_PASS:?peers.env lacks PEERS_SMTP_PASS}"
for port in "$PF_SUB" "$PF_TLS13" "$AIO_TLS"; do
  (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null ||
    die "Postfix does not answer on $HOST:$port: start the test peers with 'sudo scripts/peers/start.sh'"
done
SINK_BIN="$(command -v smtp-sink || echo /usr/sbin/smtp-sink)"
[ -x "$SINK_BIN" ] || die "smtp-sink not found (Debian package 'postfix')"
"$PYTHON" -c 'import smtplib, ssl, os; os.wait4' 2>/dev/null ||
  die "$PYTHON with smtplib and ssl is needed (Debian package python3)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/smtp-bench-tls.XXXXXX")"
PIDS="$WORK/pids"
cleanup() {
  local pid
  if [ -s "$PIDS" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$PIDS"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
RAW="$WORK/raw.txt"

BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
if [ -z "${BENCH_CLI_NO_BUILD:-}" ]; then
  say "building (release): smtp-bench, smtp-delay-relay"
  (cd "$ROOT" && cargo build --quiet --release -p smtp-bench -p smtp-testkit --bins)
fi
BENCH="$BIN_DIR/smtp-bench"
LETTRE=""
if [ "${BENCH_LETTRE:-1}" != 0 ]; then
  if [ -z "${BENCH_CLI_NO_BUILD:-}" ]; then
    say "building (release): bench/lettre-client (lettre from crates.io)"
    (cd "$ROOT/bench/lettre-client" && cargo build --quiet --release) ||
      die "bench/lettre-client did not build (crates.io reachable?); BENCH_LETTRE=0 skips it"
  fi
  LETTRE="${CARGO_TARGET_DIR:-$ROOT/bench/lettre-client/target}/release/lettre-client"
fi

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
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
relay() { start_listener "$1" "$BIN_DIR/smtp-delay-relay" --upstream "$HOST:$2" --rtt-ms "$RTT_MS" --connect-rtts 1.5; }

SINK="$(free_port)"
"$SINK_BIN" -c -u nobody -h sink.example.test "$HOST:$SINK" 1024 >"$WORK/sink.out" 2>&1 &
echo "$!" >>"$PIDS"
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$HOST/$SINK") 2>/dev/null && break; sleep 0.05; done
R_SINK="$(relay relay-sink "$SINK")"
R_SUB="$(relay relay-sub "$PF_SUB")"
R_TLS="$(relay relay-tls13 "$PF_TLS13")"
R_AIO="$(relay relay-aio "$AIO_TLS")"
say "smtp-sink :$SINK (relay :$R_SINK), Postfix submission :$PF_SUB (relay :$R_SUB)," \
  "TLS 1.3 :$PF_TLS13 (relay :$R_TLS), aiosmtpd STARTTLS :$AIO_TLS (relay :$R_AIO); RTT ${RTT_MS} ms"

sink_count() { tr '\r' '\n' <"$WORK/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | grep . || echo 0; }
# Other tests share the Maildir and delete their files while we search it.
maildir_files() { grep -rlsF "Subject: $1" "$MAILDIR" || true; }
maildir_count() { maildir_files "$1" | wc -l; }
forget() { maildir_files "$1" | xargs -r rm -f; } # counted: keep the Maildir small
aio_files() { grep -rlsF "Subject: $1" "$AIO_MAILDIR" || true; }
aio_count() { aio_files "$1" | wc -l; }
expect_count() { # label counter-fn expected [arg] [tries]
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

measure() { # outfile cmd...: wall time and CPU (user+sys, wait4) of the process
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
marginal_cpu() { calc "($(field cpu "$1") - $(field cpu "$3")) * 1e6 / ($2 - 1)" 1; }

cat >"$WORK/smtplib_tls.py" <<'EOF'
# N messages over K connections (threads), STARTTLS (the rig's CA) + AUTH.
import os, smtplib, ssl, sys, threading
host, port, n, size, k, ca, name, subject = sys.argv[1:9]
port, n, size, k = int(port), int(n), int(size), int(k)
body, left = "", size
while left >= 2:
    m = min(left, 78)
    body += "x" * (m - 2) + "\r\n"
    left -= m
body += "x" * left
msg = ("From: <sender@example.test>\r\nTo: <bench@example.test>\r\nSubject: "
       + subject + "\r\n\r\n" + body).encode()
ctx = ssl.create_default_context(cafile=ca)  # checks the name connected to (host)
lock, left, failed = threading.Lock(), [n], []
def take():
    with lock:
        if left[0] == 0:
            return False
        left[0] -= 1
        return True
def run():
    try:
        with smtplib.SMTP(host, port, local_hostname="bench.example") as s:
            s.starttls(context=ctx)
            s.login(os.environ["BENCH_SMTP_USER"], os.environ["BENCH_SMTP_PASS"])
            while take():
                s.sendmail("sender@example.test", ["bench@example.test"], msg)
    except Exception as e:
        failed.append(repr(e))
threads = [threading.Thread(target=run) for _ in range(k)]
for t in threads: t.start()
for t in threads: t.join()
if failed:
    sys.exit("smtplib: " + failed[0])
EOF

# One client's STARTTLS+AUTH bulk run of n messages over c connections to
# port; every message counted in the Maildir by its Subject.
tls_client() { # who port n c tag
  local who="$1" port="$2" n="$3" c="$4" tag="$5" out="$WORK/$1-$5.txt"
  case "$who" in
    ours) measure "$out" "$BENCH" pool --port "$port" --security starttls --auth plain \
      --ca-file "$CA" --tls-name "$TLS_NAME" --sessions "$c" --messages "$n" --batch 50 \
      --from sender@example.test --to bench@example.test --tag "$tag" --size "$SIZE" ;;
    lettre) measure "$out" "$LETTRE" "$HOST" "$port" "$n" "$SIZE" --connections "$c" \
      --starttls "$CA" "$TLS_NAME" --subject "$tag" ;;
    smtplib) measure "$out" "$PYTHON" "$WORK/smtplib_tls.py" "$HOST" "$port" "$n" "$SIZE" "$c" \
      "$CA" "$TLS_NAME" "$tag" ;;
  esac || { cat "$out" >&2; say "FAIL: $who to $port"; exit 1; }
  expect_count "$who, STARTTLS+AUTH to $port, $c connection(s)" maildir_count "$n" "$tag" 400
  forget "$tag"
  echo "$out"
}

one_round() {
  local r="$1" out one rtt path port n who c key base
  out="$WORK/probe-$r.txt"
  measure "$out" "$BENCH" probe --port "$R_SINK" --messages 50 || die "probe failed"
  rtt="$(field rtt_ms "$out")"
  record rtt_ms "$rtt"
  say "round $r: measured RTT $rtt ms, load $(cut -d' ' -f1 /proc/loadavg)"

  # STARTTLS + AUTH bulk: ours, lettre, smtplib; 1 and 4 connections;
  # loopback and relay. msgs/s from the wall time, CPU per message marginal
  # (N messages less 1: takes off start-up, connection, TLS and AUTH).
  for path in local relay; do
    port="$PF_SUB"
    [ "$path" = relay ] && port="$R_SUB"
    for who in ours lettre smtplib; do
      [ "$who" = lettre ] && [ -z "$LETTRE" ] && continue
      n="$N_LOCAL"
      if [ "$path" = relay ]; then
        n="$N_PEER_RELAY"
        [ "$who" = ours ] && n="$N_RELAY"
      fi
      for c in 1 4; do
        key="${who}_${path}_c$c"
        out="$(tls_client "$who" "$port" "$n" "$c" "b20-$$-$r-$key")"
        one="$(tls_client "$who" "$port" 1 1 "b20-$$-$r-$key-1")"
        record "${key}_msgs_s" "$(calc "$n / $(field wall "$out")" 1)"
        record "${key}_cpu_us" "$(marginal_cpu "$out" "$n" "$one")"
        record "${key}_whole_cpu_us" "$(calc "$(field cpu "$out") * 1e6 / $n" 1)"
        if [ "$path" = relay ] && [ "$who" = ours ]; then
          record "${key}_rtt_per_msg" "$(calc "($(field wall "$out") - $(field wall "$one")) * 1000 / ($n - 1) / $rtt" 3)"
        fi
      done
    done
  done

  # TLS 1.3 resumption: a new connection per message (STARTTLS, one
  # message, QUIT) with the shared session cache and without: CPU per
  # connection (N less 1), and round trips to the post-TLS EHLO.
  for resume in yes no; do
    base="$(maildir_count "b20r-$$-$r-$resume")"
    out="$WORK/newconn-$resume-$r.txt"
    measure "$out" "$BENCH" newconn --port "$PF_TLS13" --security starttls --ca-file "$CA" \
      --tls-name "$TLS_NAME" --resume "$resume" --messages "$N_CONN" \
      --from sender@example.test --to bench@example.test --tag "b20r-$$-$r-$resume" ||
      { cat "$out" >&2; say "FAIL: newconn TLS"; exit 1; }
    one="$WORK/newconn1-$resume-$r.txt"
    measure "$one" "$BENCH" newconn --port "$PF_TLS13" --security starttls --ca-file "$CA" \
      --tls-name "$TLS_NAME" --resume "$resume" --messages 1 \
      --from sender@example.test --to bench@example.test --tag "b20r-$$-$r-$resume" ||
      { cat "$one" >&2; say "FAIL: newconn TLS"; exit 1; }
    expect_count "new TLS connection per message, resume=$resume" maildir_count \
      $((base + N_CONN + 1)) "b20r-$$-$r-$resume" 400
    forget "b20r-$$-$r-$resume"
    record "newconn_tls_${resume}_cpu_us" "$(marginal_cpu "$out" "$N_CONN" "$one")"
    record "newconn_tls_${resume}_resumed" "$(field tls_resumed "$out")"
    out="$WORK/starttls-$resume-$r.txt"
    measure "$out" "$BENCH" starttls --port "$R_TLS" --messages 20 --ca-file "$CA" \
      --tls-name "$TLS_NAME" --resume "$resume" || { cat "$out" >&2; say "FAIL: starttls"; exit 1; }
    record "starttls_${resume}_rtts" "$(calc "$(field setup_median_secs "$out") * 1000 / $rtt" 2)"
    record "starttls_${resume}_resumed" "$(field resumed "$out")"
  done

  # The same against aiosmtpd, which renews tickets on resumption (and
  # requires AUTH: PLAIN, the same credentials): every connection after
  # the first can resume. The 1-message run is a full handshake, so the
  # marginal figure is per resumed connection when all N-1 resume.
  for resume in yes no; do
    tag="b20a-$$-$r-$resume"
    out="$WORK/aio-newconn-$resume-$r.txt"
    measure "$out" "$BENCH" newconn --port "$AIO_TLS" --security starttls --auth plain --ca-file "$CA" \
      --tls-name "$TLS_NAME" --resume "$resume" --messages "$N_CONN" \
      --from sender@example.test --to bench@example.test --tag "$tag" ||
      { cat "$out" >&2; say "FAIL: newconn aiosmtpd"; exit 1; }
    one="$WORK/aio-newconn1-$resume-$r.txt"
    measure "$one" "$BENCH" newconn --port "$AIO_TLS" --security starttls --auth plain --ca-file "$CA" \
      --tls-name "$TLS_NAME" --resume "$resume" --messages 1 \
      --from sender@example.test --to bench@example.test --tag "$tag" ||
      { cat "$one" >&2; say "FAIL: newconn aiosmtpd"; exit 1; }
    expect_count "aiosmtpd: new TLS connection per message, resume=$resume" aio_count \
      $((N_CONN + 1)) "$tag" 400
    aio_files "$tag" | xargs -r rm -f
    record "aio_newconn_${resume}_cpu_us" "$(marginal_cpu "$out" "$N_CONN" "$one")"
    record "aio_newconn_${resume}_resumed" "$(field tls_resumed "$out")"
    out="$WORK/aio-starttls-$resume-$r.txt"
    measure "$out" "$BENCH" starttls --port "$R_AIO" --messages 20 --ca-file "$CA" \
      --tls-name "$TLS_NAME" --resume "$resume" || { cat "$out" >&2; say "FAIL: starttls aiosmtpd"; exit 1; }
    record "aio_starttls_${resume}_rtts" "$(calc "$(field setup_median_secs "$out") * 1000 / $rtt" 2)"
    record "aio_starttls_${resume}_resumed" "$(field resumed "$out")"
  done

  # Memory per idle pooled connection: STARTTLS + AUTH, and plain.
  out="$WORK/idle-tls-$r.txt"
  measure "$out" "$BENCH" idle --port "$PF_SUB" --security starttls --auth plain --ca-file "$CA" \
    --tls-name "$TLS_NAME" --sessions "$N_IDLE" --from sender@example.test --to bench@example.test \
    --tag "b20i-$$-$r" || { cat "$out" >&2; say "FAIL: idle"; exit 1; }
  expect_count "idle TLS sessions" maildir_count $((N_IDLE + 1)) "b20i-$$-$r" 400
  forget "b20i-$$-$r"
  record idle_tls_kib "$(field rss_per_session_kib "$out")"
  base="$(sink_count)"
  out="$WORK/idle-plain-$r.txt"
  measure "$out" "$BENCH" idle --port "$SINK" --sessions "$N_IDLE" || { cat "$out" >&2; exit 1; }
  expect_count "idle plain sessions" sink_count $((base + N_IDLE + 1))
  record idle_plain_kib "$(field rss_per_session_kib "$out")"

  # Bulk with a reconnection every 100 messages (the default cap), one
  # worker, through the relay: RTT per message, batches of 100; a pool of
  # 2 (the successor opened ahead) and of 1 (no room for it: connect,
  # EHLO (+ STARTTLS + AUTH) before every 100th message).
  local pool
  for pool in 2 1; do
    base="$(sink_count)"
    out="$WORK/ahead-$pool-$r.txt"
    measure "$out" "$BENCH" pool --port "$R_SINK" --sessions 1 --max-connections "$pool" --batch 100 \
      --max-per-connection 100 --messages "$N_AHEAD" || { cat "$out" >&2; exit 1; }
    expect_count "reconnecting bulk (pool of $pool)" sink_count $((base + N_AHEAD))
    record "ahead_pool${pool}_rtt_per_msg" "$(calc "$(field secs "$out") * 1000 / $N_AHEAD / $rtt" 4)"
    out="$WORK/ahead-tls-$pool-$r.txt"
    measure "$out" "$BENCH" pool --port "$R_SUB" --security starttls --auth plain --ca-file "$CA" \
      --tls-name "$TLS_NAME" --sessions 1 --max-connections "$pool" --messages "$N_AHEAD_TLS" \
      --batch 100 --max-per-connection 100 --from sender@example.test --to bench@example.test \
      --tag "b20a-$$-$r-$pool" || { cat "$out" >&2; exit 1; }
    expect_count "reconnecting STARTTLS bulk (pool of $pool)" maildir_count "$N_AHEAD_TLS" "b20a-$$-$r-$pool" 400
    forget "b20a-$$-$r-$pool"
    record "ahead_tls_pool${pool}_rtt_per_msg" "$(calc "$(field secs "$out") * 1000 / $N_AHEAD_TLS / $rtt" 4)"
  done
}

say "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do one_round "$round"; done

v() { # median of a key's values
  awk -v k="$1" '$1 == k { print $2 }' "$RAW" | sort -g |
    awk '{ x[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print x[(NR + 1) / 2]; else printf "%.4g\n", (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
row() { printf '| %-62s | %12s | %-10s | %-3s |\n' "$1" "$2" "$3" "$4"; }
met() { awk -v x="$1" "BEGIN { print (($2) ? \"yes\" : \"NO\") }"; }
echo
echo "TLS rows (issue 20): 1 KiB, 1 recipient, STARTTLS + AUTH PLAIN to Postfix $PF_SUB (Maildir counted)," \
  "RTT ${RTT_MS} ms relay (measured $(v rtt_ms) ms), median of $ROUNDS round(s)"
echo
row "row" "measured" "limit" "met"
echo "|----------------------------------------------------------------|--------------|------------|-----|"
for path in local relay; do
  for c in 1 4; do
    row "msgs/s, $path, $c conn: ours / lettre / smtplib" \
      "$(v "ours_${path}_c${c}_msgs_s")/$(v "lettre_${path}_c${c}_msgs_s")/$(v "smtplib_${path}_c${c}_msgs_s")" "-" "-"
    row "CPU µs/msg (marginal), $path, $c conn: ours / lettre / smtplib" \
      "$(v "ours_${path}_c${c}_cpu_us")/$(v "lettre_${path}_c${c}_cpu_us")/$(v "smtplib_${path}_c${c}_cpu_us")" "-" "-"
  done
done
row "RTT/message, ours, STARTTLS+AUTH, relay, 1 / 4 connections" "$(v ours_relay_c1_rtt_per_msg)/$(v ours_relay_c4_rtt_per_msg)" "-" "-"
x="$(v newconn_tls_yes_cpu_us)"; y="$(v newconn_tls_no_cpu_us)"
row "new TLS 1.3 connection per message: CPU µs, resumed / full" "$x/$y" "-" "-"
row "  connections resumed (of $N_CONN), with / without the cache" "$(v newconn_tls_yes_resumed)/$(v newconn_tls_no_resumed)" "-" "-"
x="$(v starttls_yes_rtts)"
row "STARTTLS set-up to the post-TLS EHLO, RTT, resumed" "$x" "6 (floor)" "$(met "$x" "x < 6.5")"
row "STARTTLS set-up to the post-TLS EHLO, RTT, full handshake" "$(v starttls_no_rtts)" "6 (floor)" "-"
x="$(v aio_newconn_yes_resumed)"
row "aiosmtpd (renews tickets): connections resumed of $N_CONN, cache / off" "$x/$(v aio_newconn_no_resumed)" "$((N_CONN - 1))" "$(met "$x" "x >= $((N_CONN - 1))")"
row "aiosmtpd: new TLS 1.3 connection: CPU µs, resumed / full" "$(v aio_newconn_yes_cpu_us)/$(v aio_newconn_no_cpu_us)" "-" "-"
row "aiosmtpd: STARTTLS set-up to post-TLS EHLO, RTT, resumed / full" "$(v aio_starttls_yes_rtts)/$(v aio_starttls_no_rtts)" "6 (floor)" "-"
row "aiosmtpd: set-ups resumed (of 20), cache / off" "$(v aio_starttls_yes_resumed)/$(v aio_starttls_no_resumed)" "-" "-"
x="$(v idle_tls_kib)"
row "memory per idle pooled TLS connection, KiB (RSS)" "$x" "<= 64" "$(met "$x" "x <= 64")"
row "memory per idle pooled plain connection, KiB (RSS)" "$(v idle_plain_kib)" "-" "-"
row "RTT/msg, reconnect every 100, smtp-sink: opened ahead / not" "$(v ahead_pool2_rtt_per_msg)/$(v ahead_pool1_rtt_per_msg)" "-" "-"
row "RTT/msg, same, STARTTLS+AUTH to Postfix: opened ahead / not" "$(v ahead_tls_pool2_rtt_per_msg)/$(v ahead_tls_pool1_rtt_per_msg)" "-" "-"
if [ "$ROUNDS" -gt 1 ]; then
  echo
  echo "raw values (per round):"
  awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print "  " k ":" a[k] }' "$RAW" | sort
fi
