# shellcheck shell=bash
# Shared by start.sh and its parts (certs.sh, smtp.sh, proxies.sh): the fixed
# ports and credentials of the rig and the process helpers. Sourced, not run.

HOST4=127.0.0.1
# Postfix (+ Dovecot SASL)
P_PLAIN=2525           # no TLS; AUTH offered in clear; auth optional
P_SUBMISSION=2587      # STARTTLS required; AUTH required (after TLS)
P_SMTPS=2465           # implicit TLS; AUTH required
P_STARTTLS_OPT=2588    # STARTTLS offered (optional); AUTH only after TLS; auth optional
P_TLS12_STARTTLS=2512  # STARTTLS required, TLS 1.2 only
P_TLS13_STARTTLS=2513  # STARTTLS required, TLS 1.3 only
P_TLS12_SMTPS=2562     # implicit TLS, TLS 1.2 only
P_TLS13_SMTPS=2563     # implicit TLS, TLS 1.3 only
P_BADCERT_HOST=2590    # implicit TLS, test-CA cert for wrong.example.test
P_BADCERT_EXPIRED=2591 # implicit TLS, expired test-CA cert
P_BADCERT_SELF=2592    # implicit TLS, self-signed cert
P_MTLS=2593            # implicit TLS, client certificate from the test CA required
P_SMALL_SIZE=2589      # no TLS; SIZE 10240
P_LOAD=2594            # no TLS; queued, then discarded (load test: counted in the log, not delivered)
P_NTLM=2595            # implicit TLS; AUTH NTLM only (Cyrus SASL, NTLMv2); AUTH required
# smtp-sink (discards mail) and its failure modes
P_SINK=2526
P_SINK_NOPIPE=2527     # -p -E: no PIPELINING, no ENHANCEDSTATUSCODES
P_SINK_NOESMTP=2528    # -e: EHLO -> 500, HELO only
P_SINK_RCPT5XX=2529    # -f RCPT: every RCPT gets 500 5.3.0
P_SINK_MAIL4XX=2530    # -r MAIL: every MAIL gets 450 4.3.0
P_SINK_DATA421=2531    # -Q DATA: 421 and disconnect at DATA
P_SINK_DOTDROP=2532    # -q .: disconnect without a reply after the final dot
# aiosmtpd
P_AIO_PLAIN=2535       # no TLS; AUTH PLAIN/LOGIN in clear; auth optional
P_AIO_STARTTLS=2536    # STARTTLS required; AUTH required
P_AIO_SMTPS=2537       # implicit TLS; AUTH required
# OAuth2 token endpoint (refresh_token grant)
P_TOKEN=2599
# proxies
P_DANTE=1080           # SOCKS5, no auth (dante)
P_MSOCKS=1081          # SOCKS5, no auth (microsocks)
P_MSOCKS_AUTH=1082     # SOCKS5, username/password (microsocks)
P_SSH_SOCKS=1083       # SOCKS4/4a/5, no auth (OpenSSH's ssh -D, through sshd)
P_SSHD=1084            # sshd on loopback, only for ssh -D (key login, forwarding to loopback only)
P_TINY=3128            # HTTP CONNECT, no auth (tinyproxy)
P_TINY_AUTH=3129       # HTTP CONNECT, Basic auth (tinyproxy)
P_SQUID=3130           # HTTP CONNECT, no auth (squid)
P_SQUID_AUTH=3131      # HTTP CONNECT, Basic auth (squid)
P_SQUID_HTTPS=3132     # HTTPS proxy (TLS to squid, test-CA cert for localhost), CONNECT, no auth
P_SQUID_HTTPS_AUTH=3133 # HTTPS proxy, CONNECT, Basic auth

POSTFIX_PORTS="$P_PLAIN $P_SUBMISSION $P_SMTPS $P_STARTTLS_OPT $P_TLS12_STARTTLS $P_TLS13_STARTTLS \
$P_TLS12_SMTPS $P_TLS13_SMTPS $P_BADCERT_HOST $P_BADCERT_EXPIRED $P_BADCERT_SELF $P_MTLS $P_SMALL_SIZE $P_LOAD $P_NTLM"
ALL_PORTS="$POSTFIX_PORTS $P_SINK $P_SINK_NOPIPE $P_SINK_NOESMTP $P_SINK_RCPT5XX $P_SINK_MAIL4XX \
$P_SINK_DATA421 $P_SINK_DOTDROP $P_AIO_PLAIN $P_AIO_STARTTLS $P_AIO_SMTPS $P_TOKEN $P_DANTE $P_MSOCKS \
$P_MSOCKS_AUTH $P_SSH_SOCKS $P_SSHD $P_TINY $P_TINY_AUTH $P_SQUID $P_SQUID_AUTH $P_SQUID_HTTPS $P_SQUID_HTTPS_AUTH"

# Fixed test credentials: nothing here protects anything outside this rig.
SMTP_USER=tester@example.test
SMTP_PASS=Tester-Pass-1
SMTP_USER2=other@example.test
SMTP_PASS2='pässwörd-2'          # UTF-8, so SASL code is tested beyond ASCII
PROXY_USER=proxyuser
PROXY_PASS=Proxy-Pass-1
OAUTH_CLIENT_ID=smtp-tests-client
OAUTH_CLIENT_SECRET=Client-Secret-1
OAUTH_REFRESH_TOKEN=Refresh-Token-1
SASL_MECHS="PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER"

say() { echo "start.sh: $*" >&2; }
skipped() { case " ${PEERS_SKIP:-} " in *" $1 "*) return 0;; esac; return 1; }

# "pid expected-cmdline-substring": stop.sh kills a pid only while its
# cmdline still matches, so a recycled pid is never hit.
record_pid() { echo "$2 $3" > "$RUN/$1.pid"; }
# setsid: the peer must outlive start.sh and not get the caller's signals.
start_bg() { # name match cmd...
  local name="$1" match="$2"; shift 2
  setsid "$@" >"$LOG/$name.out" 2>&1 </dev/null &
  record_pid "$name" "$!" "$match"
}
alive() { # name
  local pid match cmd
  [ -s "$RUN/$1.pid" ] || return 1
  read -r pid match < "$RUN/$1.pid"
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
  case "$cmd" in *"$match"*) return 0;; esac
  return 1
}
exists() { # name -> 0 while the recorded pid is a live process
  local pid match
  [ -s "$RUN/$1.pid" ] || return 1
  read -r pid match < "$RUN/$1.pid"
  kill -0 "$pid" 2>/dev/null
}
port_busy() { ss -Htln "( sport = :$1 )" 2>/dev/null | grep -q .; }
wait_port() { # host port seconds [name]
  local host="$1" port="$2" t="${3:-20}" name="${4:-}"
  for _ in $(seq 1 $((t * 10))); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    # Gone means the process no longer exists. Not `alive`: right after
    # `setsid ... &` the pid may still show the shell, before exec.
    if [ -n "$name" ] && ! exists "$name"; then return 1; fi
    sleep 0.1
  done
  return 1
}
FAILED=""
check_up() { # name port [host]
  if wait_port "${3:-$HOST4}" "$2" 20 "$1"; then
    say "$1 is listening on ${3:-$HOST4}:$2"
  else
    say "ERROR: $1 did not come up on ${3:-$HOST4}:$2"
    FAILED="$FAILED $1:$2"
  fi
}
