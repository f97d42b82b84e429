# shellcheck shell=bash
# The SMTP servers of the rig (sourced by start.sh): Dovecot as Postfix's
# SASL server, Postfix on every TLS/auth variant, smtp-sink failure modes,
# aiosmtpd, and the OAuth2 token endpoint. Needs lib.sh and $D $LOG $RUN $TLS
# $MAIL $HERE.

DV="$D/dovecot"
PF="$D/postfix"
OAUTH_KEY_FILE="$DV/keys/default/HS256/default"

start_dovecot() {
  mkdir -p "$DV/run" "$DV/state" "$DV/keys/default/HS256"
  # {PLAIN}: CRAM-MD5 and SCRAM need the clear password (Dovecot derives the
  # SCRAM keys from it on every exchange).
  {
    echo "$SMTP_USER:{PLAIN}$SMTP_PASS"
    echo "$SMTP_USER2:{PLAIN}$SMTP_PASS2"
  } > "$DV/users"
  chmod 644 "$DV/users"
  # XOAUTH2/OAUTHBEARER: Dovecot checks JWTs itself (HS256) with this key, so
  # tokens minted by start.sh and token_endpoint.py are real credentials.
  if [ ! -s "$OAUTH_KEY_FILE" ]; then
    head -c 32 /dev/urandom | base64 -w0 > "$OAUTH_KEY_FILE"
  fi
  chmod -R a+rX "$DV/keys"
  cat > "$DV/oauth2.conf.ext" <<EOF
introspection_mode = local
local_validation_key_dict = fs:posix:prefix=$DV/keys/
username_attribute = email
username_format = %Lu
EOF
  cat > "$DV/dovecot.conf" <<EOF
# Dovecot as a SASL server for Postfix only (no IMAP/POP3).
instance_name = smtp-rig-dovecot
base_dir = $DV/run
state_dir = $DV/state
protocols =
listen = 127.0.0.1
ssl = no
log_path = $LOG/dovecot.log
auth_verbose = yes
# Tests fail logins on purpose, many at once: Dovecot's default 2 s delay per
# failure would queue them behind each other (and correct logins behind those).
auth_failure_delay = 0
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256 xoauth2 oauthbearer
disable_plaintext_auth = no
auth_username_format = %Lu
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $DV/users
  mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DV/oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
# ... and the anvil "auth penalty" delays every login from an IP after a few
# failures from it (2, 4, 8, 15 s: all tests come from 127.0.0.1), past
# Postfix's wait ("454 Connection lost to authentication server"). Mode 0
# is Dovecot's documented way to turn it off.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
EOF
  start_bg dovecot "dovecot" /usr/sbin/dovecot -F -c "$DV/dovecot.conf"
  for _ in $(seq 1 100); do [ -S "$DV/run/auth-postfix" ] && break; sleep 0.1; done
  if [ -S "$DV/run/auth-postfix" ]; then
    say "dovecot auth socket is up: $DV/run/auth-postfix"
  else
    say "ERROR: dovecot did not create $DV/run/auth-postfix"; FAILED="$FAILED dovecot"
    tail -20 "$LOG/dovecot.out" "$LOG/dovecot.log" 2>/dev/null >&2 || true
  fi
}

postfix_main_cf() {
  cat <<EOF
# Postfix instance for tests; every recipient is delivered into ONE Maildir,
# $MAIL/postfix/new/. Nothing is relayed: master.cf has no smtp/lmtp client
# and the default transport is virtual(8).
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $LOG/postfix.log
maillog_file_prefixes = $LOG
myhostname = mail.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
relayhost =
inet_interfaces = loopback-only
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_banner = \$myhostname ESMTP Postfix (smtp test rig)
biff = no
append_dot_mydomain = no
smtputf8_enable = yes
message_size_limit = 104857600
mailbox_size_limit = 0
virtual_mailbox_limit = 0
# what Postfix >= 3.9 does by default: a client sending bare LF is caught
smtpd_forbid_bare_newline = yes
smtpd_peername_lookup = no
# tests provoke errors on purpose; no tarpit, no early disconnect
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
in_flow_delay = 0
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s
default_process_limit = 100
alias_maps =
alias_database =
local_recipient_maps =
default_transport = virtual
relay_transport = virtual
local_transport = virtual
virtual_transport = virtual
virtual_mailbox_base = $MAIL
virtual_mailbox_maps = static:postfix/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DV/run/auth-postfix
smtpd_sasl_auth_enable = yes
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_sasl_authenticated_header = yes
smtpd_tls_auth_only = no
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject
# One recipient every port (except those overriding it) refuses, so tests can
# check that a refused recipient does not stop delivery to the others.
smtpd_recipient_restrictions = check_recipient_access inline:{ { rejected@example.test = 550 5.1.1 Recipient address rejected by the test rig } }
smtpd_tls_chain_files = $TLS/server.key, $TLS/server-chain.pem
smtpd_tls_security_level = none
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
tls12_only = >=TLSv1.2, <=TLSv1.2
tls13_only = >=TLSv1.3
auth_required = permit_sasl_authenticated, reject
chain_wrong_host = $TLS/wrong-host.key, $TLS/wrong-host-chain.pem
chain_expired = $TLS/expired.key, $TLS/expired-chain.pem
chain_selfsigned = $TLS/selfsigned.key, $TLS/selfsigned-chain.pem
EOF
}

postfix_master_cf() {
  smtpd() { # port, then -o options
    local port="$1" o; shift
    printf '%s inet n - n - - smtpd\n  -o syslog_name=postfix/%s\n' "$port" "$port"
    for o in "$@"; do printf '  -o %s\n' "$o"; done
  }
  local wrap="smtpd_tls_wrappermode=yes" enc="smtpd_tls_security_level=encrypt"
  echo "# service type private unpriv chroot wakeup maxproc command"
  smtpd $P_PLAIN "smtpd_tls_security_level=none"
  smtpd $P_SUBMISSION $enc "smtpd_tls_auth_only=yes" \
    'smtpd_relay_restrictions=$auth_required' 'smtpd_recipient_restrictions=$auth_required'
  smtpd $P_SMTPS $wrap $enc \
    'smtpd_relay_restrictions=$auth_required' 'smtpd_recipient_restrictions=$auth_required'
  smtpd $P_STARTTLS_OPT "smtpd_tls_security_level=may" "smtpd_tls_auth_only=yes"
  smtpd $P_TLS12_STARTTLS $enc 'smtpd_tls_protocols=$tls12_only' 'smtpd_tls_mandatory_protocols=$tls12_only'
  smtpd $P_TLS13_STARTTLS $enc 'smtpd_tls_protocols=$tls13_only' 'smtpd_tls_mandatory_protocols=$tls13_only'
  smtpd $P_TLS12_SMTPS $wrap $enc 'smtpd_tls_protocols=$tls12_only' 'smtpd_tls_mandatory_protocols=$tls12_only'
  smtpd $P_TLS13_SMTPS $wrap $enc 'smtpd_tls_protocols=$tls13_only' 'smtpd_tls_mandatory_protocols=$tls13_only'
  smtpd $P_BADCERT_HOST $wrap $enc 'smtpd_tls_chain_files=$chain_wrong_host'
  smtpd $P_BADCERT_EXPIRED $wrap $enc 'smtpd_tls_chain_files=$chain_expired'
  smtpd $P_BADCERT_SELF $wrap $enc 'smtpd_tls_chain_files=$chain_selfsigned'
  # Postfix enforces req_ccert only together with security level "encrypt".
  smtpd $P_MTLS $wrap $enc "smtpd_tls_ask_ccert=yes" "smtpd_tls_req_ccert=yes" \
    "smtpd_tls_CAfile=$TLS/ca.pem"
  smtpd $P_SMALL_SIZE "smtpd_tls_security_level=none" "message_size_limit=10240"
  # Load test: thousands of messages are queued (so qmgr logs each one,
  # which is what the test counts) and discarded instead of filling the Maildir.
  smtpd $P_LOAD "smtpd_tls_security_level=none" "content_filter=discard:load-test"
  # NTLM: Debian's Dovecot has only the winbind (Samba domain member) NTLM,
  # so this port asks Cyrus SASL instead, whose NTLM plugin checks NTLMv2.
  smtpd $P_NTLM $wrap $enc "smtpd_sasl_type=cyrus" "smtpd_sasl_path=smtpd-ntlm" \
    "cyrus_sasl_config_path=$PF/sasl" \
    'smtpd_relay_restrictions=$auth_required' 'smtpd_recipient_restrictions=$auth_required'
  cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
virtual   unix  -       n       n       -       -       virtual
EOF
}

# Cyrus SASL for the NTLM port: its NTLM plugin, with the test users'
# passwords in clear in a sasldb of its own (it derives the NT hash).
cyrus_ntlm() {
  mkdir -p "$PF/sasl"
  cat > "$PF/sasl/smtpd-ntlm.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $PF/sasl/sasldb2
mech_list: NTLM
ntlm_v2: yes
EOF
  rm -f "$PF/sasl/sasldb2"
  printf '%s' "$SMTP_PASS" | saslpasswd2 -p -c -f "$PF/sasl/sasldb2" -u mail.example.test "$SMTP_USER"
  printf '%s' "$SMTP_PASS2" | saslpasswd2 -p -c -f "$PF/sasl/sasldb2" -u mail.example.test "$SMTP_USER2"
  chown postfix "$PF/sasl/sasldb2"; chmod 600 "$PF/sasl/sasldb2"
}

start_postfix() {
  mkdir -p "$PF/spool" "$PF/data" "$MAIL/postfix"
  cyrus_ntlm
  chown nobody:nogroup "$MAIL/postfix"
  chown postfix "$PF/data"
  : > "$LOG/postfix.log"
  postfix_main_cf > "$PF/main.cf"
  postfix_master_cf > "$PF/master.cf"
  postfix -c "$PF" check >"$LOG/postfix-start.out" 2>&1 || {
    say "ERROR: postfix check failed"; cat "$LOG/postfix-start.out" >&2; }
  if postfix -c "$PF" start >>"$LOG/postfix-start.out" 2>&1; then
    for _ in $(seq 1 50); do [ -s "$PF/spool/pid/master.pid" ] && break; sleep 0.1; done
    record_pid postfix "$(tr -d ' \n' < "$PF/spool/pid/master.pid")" "master"
  else
    say "ERROR: postfix start failed"; cat "$LOG/postfix-start.out" >&2
  fi
  local p
  for p in $POSTFIX_PORTS; do check_up postfix "$p"; done
  check_up postfix "$P_PLAIN" ::1; check_up postfix "$P_SMTPS" ::1
}

start_smtp_sink() {
  start_bg smtp-sink "smtp-sink" /usr/sbin/smtp-sink -u nobody -h sink.example.test "$HOST4:$P_SINK" 1024
  variant() { # name port flags...
    local n="$1" p="$2"; shift 2
    start_bg "smtp-sink-$n" "smtp-sink" /usr/sbin/smtp-sink -u nobody -h "sink-$n.example.test" "$@" "$HOST4:$p" 64
  }
  variant nopipe  $P_SINK_NOPIPE  -p -E
  variant noesmtp $P_SINK_NOESMTP -e
  variant rcpt5xx $P_SINK_RCPT5XX -f RCPT
  variant mail4xx $P_SINK_MAIL4XX -r MAIL
  variant data421 $P_SINK_DATA421 -Q DATA
  variant dotdrop $P_SINK_DOTDROP -q .
  check_up smtp-sink $P_SINK
  check_up smtp-sink-nopipe $P_SINK_NOPIPE; check_up smtp-sink-noesmtp $P_SINK_NOESMTP
  check_up smtp-sink-rcpt5xx $P_SINK_RCPT5XX; check_up smtp-sink-mail4xx $P_SINK_MAIL4XX
  check_up smtp-sink-data421 $P_SINK_DATA421; check_up smtp-sink-dotdrop $P_SINK_DOTDROP
}

start_aiosmtpd() {
  mkdir -p "$MAIL/aiosmtpd"
  {
    echo "$SMTP_USER:$SMTP_PASS"
    echo "$SMTP_USER2:$SMTP_PASS2"
  } > "$D/aiosmtpd-users"
  start_bg aiosmtpd "aiosmtpd_peer.py" /usr/bin/python3 "$HERE/aiosmtpd_peer.py" \
    --host "$HOST4" --plain "$P_AIO_PLAIN" --starttls "$P_AIO_STARTTLS" --smtps "$P_AIO_SMTPS" \
    --cert "$TLS/server-chain.pem" --key "$TLS/server.key" \
    --users "$D/aiosmtpd-users" --maildir "$MAIL/aiosmtpd" --log "$LOG/aiosmtpd.log"
  check_up aiosmtpd "$P_AIO_PLAIN"; check_up aiosmtpd "$P_AIO_STARTTLS"; check_up aiosmtpd "$P_AIO_SMTPS"
}

start_token_endpoint() {
  start_bg token-endpoint "token_endpoint.py" /usr/bin/python3 "$HERE/token_endpoint.py" serve \
    --host "$HOST4" --port "$P_TOKEN" --key-file "$OAUTH_KEY_FILE" --email "$SMTP_USER" \
    --client-id "$OAUTH_CLIENT_ID" --client-secret "$OAUTH_CLIENT_SECRET" \
    --refresh-token "$OAUTH_REFRESH_TOKEN" --log "$LOG/token-endpoint.log"
  check_up token-endpoint "$P_TOKEN"
}

# A JWT that Dovecot accepts for $1 until unix time $2 (same code as the
# token endpoint, so both make identical tokens).
mint_jwt() { /usr/bin/python3 "$HERE/token_endpoint.py" mint --key-file "$OAUTH_KEY_FILE" --email "$1" --exp "$2"; }
