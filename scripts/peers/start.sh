#!/usr/bin/env bash
# Start the integration-test peers on loopback: Postfix (+ Dovecot SASL) on
# every TLS/auth variant, smtp-sink failure modes, aiosmtpd, an OAuth2 token
# endpoint, SOCKS5 and HTTP CONNECT proxies. Run install.sh first.
#
#   sudo scripts/peers/start.sh                 # PEERS_DIR=/tmp/smtp-peers
#   sudo PEERS_DIR=/some/dir scripts/peers/start.sh
#
# Everything (certificates, configs, spools, Maildirs, logs, pid files) lives
# under $PEERS_DIR (no spaces: it is written into Postfix/Dovecot configs).
# Re-runnable: it first stops what a previous start.sh started there (stop.sh),
# refuses to run if a port is taken by anything else, then starts everything
# and waits for every port. Certificates are kept across runs
# (PEERS_REGEN_CERTS=1 makes new ones). Mail delivered by an earlier run is
# removed (tests poll the Maildirs; thousands of old files slow every poll);
# PEERS_KEEP_MAIL=1 keeps it.
#
# On success it writes $PEERS_DIR/peers.env (KEY='VALUE' lines: ports,
# credentials, paths; the tests read it) and prints it. Exit status is non-zero
# if a peer did not come up, with the tails of its logs.
#
# PEERS_SKIP="squid aiosmtpd ..." skips peers (names: postfix dovecot aiosmtpd
# smtp-sink token-endpoint dante microsocks ssh-socks tinyproxy squid); peers.env still
# lists their ports.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then
  say "must run as root (postfix, dovecot and squid drop privileges themselves); try: sudo $0"
  exit 1
fi
for prog in postfix dovecot danted microsocks tinyproxy swaks saslpasswd2 sshd ssh; do
  if ! command -v "$prog" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$prog" ]; then
    say "$prog is not installed: run scripts/peers/install.sh first"
    exit 1
  fi
done

D="${PEERS_DIR:-/tmp/smtp-peers}"
case "$D" in *" "*) say "PEERS_DIR must not contain spaces: '$D'"; exit 1;; esac
mkdir -p "$D"
D="$(cd "$D" && pwd)"
export PEERS_DIR="$D"
LOG="$D/log"; RUN="$D/pids"; TLS="$D/tls"; MAIL="$D/mail"
mkdir -p "$LOG" "$RUN" "$TLS" "$MAIL"
[ -n "${PEERS_KEEP_MAIL:-}" ] || find "$MAIL" -type f -delete

# shellcheck source=certs.sh
. "$HERE/certs.sh"
# shellcheck source=smtp.sh
. "$HERE/smtp.sh"
# shellcheck source=proxies.sh
. "$HERE/proxies.sh"

if ls "$RUN"/*.pid >/dev/null 2>&1; then
  say "stopping the peers of a previous start.sh"
  PEERS_DIR="$D" bash "$HERE/stop.sh" >&2 || true
fi
rm -f "$D/peers.env"

busy=""
for p in $ALL_PORTS; do
  if port_busy "$p"; then busy="$busy $p"; fi
done
if [ -n "$busy" ]; then
  say "ports already in use by something not started from $D:$busy"
  ss -Htlnp | grep -E ":($(echo $busy | tr ' ' '|'))\b" >&2 || true
  say "stop that (if it is another PEERS_DIR: PEERS_DIR=... scripts/peers/stop.sh) and run start.sh again"
  exit 1
fi

if [ -n "${PEERS_REGEN_CERTS:-}" ] || ! certs_usable; then
  make_certs
fi

# Dovecot first: Postfix needs its auth socket.
if ! skipped dovecot && ! skipped postfix; then start_dovecot; fi
if ! skipped postfix; then start_postfix; fi
if ! skipped smtp-sink; then start_smtp_sink; fi
if ! skipped aiosmtpd; then start_aiosmtpd; fi
if ! skipped token-endpoint; then
  # The endpoint signs with Dovecot's key, which start_dovecot creates.
  mkdir -p "$(dirname "$OAUTH_KEY_FILE")"
  [ -s "$OAUTH_KEY_FILE" ] || head -c 32 /dev/urandom | base64 -w0 > "$OAUTH_KEY_FILE"
  start_token_endpoint
fi
if ! skipped dante; then start_dante; fi
if ! skipped microsocks; then start_microsocks; fi
if ! skipped ssh-socks; then start_ssh_socks; fi
if ! skipped tinyproxy; then start_tinyproxy; fi
if ! skipped squid; then start_squid; fi

now=$(date +%s)
OAUTH_TOKEN=""; OAUTH_TOKEN_EXPIRED=""
if [ -s "$OAUTH_KEY_FILE" ]; then
  OAUTH_TOKEN=$(mint_jwt "$SMTP_USER" $((now + 7 * 86400)))
  # Dovecot ignores a token whose iat is after its exp (iat is now-60).
  OAUTH_TOKEN_EXPIRED=$(mint_jwt "$SMTP_USER" $((now - 30)))
fi

# shellcheck source=env.sh
. "$HERE/env.sh"
# Written under another name and renamed: a test never reads half a file.
write_env > "$D/peers.env.new"
mv -f "$D/peers.env.new" "$D/peers.env"
cat "$D/peers.env"

if [ -n "$FAILED" ]; then
  say "FAILED:$FAILED (logs in $LOG)"
  for f in "$LOG"/*.out; do echo "== $f"; tail -5 "$f"; done >&2
  exit 1
fi
say "all peers are up"
