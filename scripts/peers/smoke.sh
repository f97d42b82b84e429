#!/usr/bin/env bash
# Quick human check that the test peers work, using third-party clients only
# (swaks, curl, msmtp): each accepted message is looked for in the Maildir.
#
#   sudo scripts/peers/smoke.sh        # after start.sh; reads $PEERS_DIR/peers.env
#
# One line per check, then "N passed, M failed"; exit 0 only if all passed.
# Client output of each check: $PEERS_DIR/log/smoke/<check>.log
set -uo pipefail

D="${PEERS_DIR:-/tmp/smtp-peers}"
if [ ! -s "$D/peers.env" ]; then
  echo "smoke.sh: $D/peers.env not found: run scripts/peers/start.sh first" >&2
  exit 1
fi
# shellcheck disable=SC1091
. "$D/peers.env"
H=127.0.0.1; CA="$PEERS_CA_CERT"; U="$PEERS_SMTP_USER"; P="$PEERS_SMTP_PASS"
PU="$PEERS_PROXY_USER"; PP="$PEERS_PROXY_PASS"
OUT="$D/log/smoke"; rm -rf "$OUT"; mkdir -p "$OUT"
RUNID="$(date +%s)-$$"
pass=0; fail=0

ok()  { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL  %s  (%s; log: %s)\n' "$1" "$2" "$OUT/$1.log"; }
delivered() { # maildir tag: Postfix delivers asynchronously, so poll
  for _ in $(seq 1 100); do
    grep -rlqF -- "$2" "$1/new" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# expect_mail NAME MAILDIR CMD...: CMD succeeds and a mail with $TAG arrives
expect_mail() {
  local name="$1" md="$2"; shift 2
  export TAG="smoke-$name-$RUNID"
  if ! "$@" >"$OUT/$name.log" 2>&1; then bad "$name" "client failed"; return; fi
  if delivered "$md" "$TAG"; then ok "$name"; else bad "$name" "accepted but not delivered"; fi
}
# expect_refused NAME CMD...: CMD fails
expect_refused() {
  local name="$1"; shift
  export TAG="smoke-$name-$RUNID"
  if "$@" >"$OUT/$name.log" 2>&1; then bad "$name" "succeeded but should have failed"; else ok "$name"; fi
}
expect_ok() {
  local name="$1"; shift
  if "$@" >"$OUT/$name.log" 2>&1; then ok "$name"; else bad "$name" "failed"; fi
}

sw() { swaks -t rcpt@example.org -f sender@example.net --timeout 20 --h-Subject "$TAG" "$@"; }
swtls() { sw --tls-verify --tls-ca-path "$CA" "$@"; }
msg() { printf 'From: sender@example.net\r\nTo: rcpt@example.org\r\nSubject: %s\r\n\r\nbody\r\n' "$TAG" > "$OUT/msg.eml"; echo "$OUT/msg.eml"; }
cu() { curl -sS --max-time 20 --mail-from sender@example.net --mail-rcpt rcpt@example.org -T "$(msg)" "$@"; }
ms() { msmtp --host=$H --tls=on --tls-trust-file="$CA" --from=sender@example.net "$@" rcpt@example.org < "$(msg)"; }
refresh() { # refresh-token -> JSON reply
  curl -sS --max-time 10 -d grant_type=refresh_token -d "refresh_token=$1" \
    -d "client_id=$PEERS_OAUTH_CLIENT_ID" -d "client_secret=$PEERS_OAUTH_CLIENT_SECRET" "$PEERS_TOKEN_ENDPOINT"
}
MD="$PEERS_POSTFIX_MAILDIR"

echo "== Postfix + Dovecot SASL"
expect_mail pf-plain-noauth "$MD" sw -s $H -p "$PEERS_POSTFIX_PLAIN_PORT"
expect_mail pf-submission-starttls-plain "$MD" swtls -s $H -p "$PEERS_POSTFIX_SUBMISSION_PORT" -tls -a PLAIN -au "$U" -ap "$P"
expect_mail pf-smtps-cram-md5 "$MD" swtls -s $H -p "$PEERS_POSTFIX_SMTPS_PORT" -tlsc -a CRAM-MD5 -au "$U" -ap "$P"
expect_refused pf-submission-noauth swtls -s $H -p "$PEERS_POSTFIX_SUBMISSION_PORT" -tls
expect_refused pf-submission-wrong-password swtls -s $H -p "$PEERS_POSTFIX_SUBMISSION_PORT" -tls -a PLAIN -au "$U" -ap wrong
expect_mail pf-scram-sha-256 "$MD" ms --port="$PEERS_POSTFIX_SUBMISSION_PORT" --tls-starttls=on --auth=scram-sha-256 \
  --user="$U" --passwordeval="printf %s '$P'"
expect_mail pf-scram-sha-1-utf8-password "$MD" ms --port="$PEERS_POSTFIX_SMTPS_PORT" --tls-starttls=off --auth=scram-sha-1 \
  --user="$PEERS_SMTP_USER2" --passwordeval="printf %s '$PEERS_SMTP_PASS2'"
expect_refused pf-scram-wrong-password ms --port="$PEERS_POSTFIX_SUBMISSION_PORT" --tls-starttls=on --auth=scram-sha-256 \
  --user="$U" --passwordeval="printf %s wrong"

echo "== OAuth2: static token and the token endpoint"
expect_mail pf-xoauth2 "$MD" cu --ssl-reqd --cacert "$CA" "smtp://$H:$PEERS_POSTFIX_SUBMISSION_PORT" \
  --user "$U:" --oauth2-bearer "$PEERS_OAUTH_TOKEN" --login-options AUTH=XOAUTH2
before="$(curl -sS --max-time 5 "$PEERS_TOKEN_ENDPOINT_COUNT" 2>/dev/null || echo -1)"
fresh="$(refresh "$PEERS_OAUTH_REFRESH_TOKEN" 2>/dev/null | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')"
after="$(curl -sS --max-time 5 "$PEERS_TOKEN_ENDPOINT_COUNT" 2>/dev/null || echo -1)"
expect_mail token-endpoint-refresh-oauthbearer "$MD" cu --ssl-reqd --cacert "$CA" "smtp://$H:$PEERS_POSTFIX_SUBMISSION_PORT" \
  --user "$U:" --oauth2-bearer "${fresh:-none}" --login-options AUTH=OAUTHBEARER
expect_ok token-endpoint-counts test "$after" -gt "$before"
bad_status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -d grant_type=refresh_token \
  -d refresh_token=wrong -d "client_id=$PEERS_OAUTH_CLIENT_ID" -d "client_secret=$PEERS_OAUTH_CLIENT_SECRET" \
  "$PEERS_TOKEN_ENDPOINT")"
expect_ok token-endpoint-bad-refresh-400 test "$bad_status" = 400

echo "== mTLS (client certificate)"
expect_mail mtls-client-cert "$MD" ms --port="$PEERS_POSTFIX_MTLS_PORT" --tls-starttls=off \
  --tls-cert-file="$PEERS_CLIENT_CERT" --tls-key-file="$PEERS_CLIENT_KEY" --auth=off
expect_refused mtls-no-client-cert ms --port="$PEERS_POSTFIX_MTLS_PORT" --tls-starttls=off --auth=off
expect_refused mtls-untrusted-client-cert ms --port="$PEERS_POSTFIX_MTLS_PORT" --tls-starttls=off \
  --tls-cert-file="$PEERS_UNTRUSTED_CLIENT_CERT" --tls-key-file="$PEERS_UNTRUSTED_CLIENT_KEY" --auth=off

echo "== bad server certificates, other servers"
expect_refused badcert-expired curl -sS --max-time 20 --cacert "$CA" -T /dev/null --mail-rcpt r@example.org \
  "smtps://$H:$PEERS_POSTFIX_BADCERT_EXPIRED_PORT"
expect_mail aiosmtpd-starttls-login "$PEERS_AIOSMTPD_MAILDIR" swtls -s $H -p "$PEERS_AIOSMTPD_STARTTLS_PORT" -tls -a LOGIN -au "$U" -ap "$P"
expect_ok smtp-sink sw -s $H -p "$PEERS_SMTP_SINK_PORT"
expect_refused smtp-sink-rcpt5xx sw -s $H -p "$PEERS_SMTP_SINK_RCPT5XX_PORT"

echo "== proxies (curl) to Postfix"
expect_mail proxy-socks5-dante "$MD" cu --proxy "socks5://$H:$PEERS_SOCKS5_PORT" "smtp://$H:$PEERS_POSTFIX_PLAIN_PORT"
expect_mail proxy-socks5-auth-microsocks "$MD" cu --proxy "socks5h://$PU:$PP@$H:$PEERS_SOCKS5_AUTH_PORT" \
  --ssl-reqd --cacert "$CA" "smtp://localhost:$PEERS_POSTFIX_SUBMISSION_PORT" --user "$U:$P"
expect_mail proxy-http-auth-tinyproxy "$MD" cu --proxytunnel --proxy "http://$H:$PEERS_HTTP_PROXY_AUTH_PORT" \
  --proxy-user "$PU:$PP" --cacert "$CA" "smtps://localhost:$PEERS_POSTFIX_SMTPS_PORT" --user "$U:$P"
expect_mail proxy-http-auth-squid "$MD" cu --proxytunnel --proxy "http://$H:$PEERS_SQUID_AUTH_PORT" \
  --proxy-user "$PU:$PP" --cacert "$CA" "smtps://localhost:$PEERS_POSTFIX_SMTPS_PORT" --user "$U:$P"
expect_refused proxy-http-wrong-password curl -sS --max-time 20 -T /dev/null --mail-rcpt r@example.org --proxytunnel \
  --proxy "http://$H:$PEERS_SQUID_AUTH_PORT" --proxy-user "$PU:wrong" "smtp://$H:$PEERS_POSTFIX_PLAIN_PORT"

echo
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
