# shellcheck shell=bash
# The proxies of the rig (sourced by start.sh): SOCKS5 (dante, microsocks),
# SOCKS4a (OpenSSH's ssh -D) and HTTP CONNECT (tinyproxy, squid). Each accepts clients from loopback only
# and connects only to loopback, so a test can never reach another host.

PX="$D/proxies"

start_dante() {
  mkdir -p "$PX"
  cat > "$PX/danted.conf" <<EOF
logoutput: $LOG/danted.log
internal: $HOST4 port = $P_DANTE
external: $HOST4
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: error
}
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  command: connect
  log: connect error
}
socks block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: connect error
}
EOF
  start_bg dante "danted" /usr/sbin/danted -f "$PX/danted.conf" -p "$RUN/danted.own-pid" -N 1
  check_up dante "$P_DANTE"
}

start_microsocks() {
  # microsocks has no ACL; -b binds every outgoing socket to 127.0.0.1, which
  # can only reach loopback.
  start_bg microsocks "microsocks" /usr/bin/microsocks -i "$HOST4" -p "$P_MSOCKS" -b "$HOST4"
  start_bg microsocks-auth "microsocks" /usr/bin/microsocks -i "$HOST4" -p "$P_MSOCKS_AUTH" \
    -b "$HOST4" -u "$PROXY_USER" -P "$PROXY_PASS"
  check_up microsocks "$P_MSOCKS"; check_up microsocks-auth "$P_MSOCKS_AUTH"
}

# SOCKS4a: neither dante nor microsocks speaks it; OpenSSH's dynamic
# forwarding (ssh -D) does, passing the name to sshd, which resolves it.
# A private sshd on loopback takes one key (ours) for "nobody", forwards
# only to loopback and runs nothing (ssh -N).
start_ssh_socks() {
  local S="$PX/ssh"; mkdir -p "$S" /run/sshd
  [ -s "$S/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C rig-sshd -f "$S/host_key"
  [ -s "$S/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C rig-client -f "$S/client_key"
  cp "$S/client_key.pub" "$S/authorized_keys"; chmod 644 "$S/authorized_keys"
  echo "[$HOST4]:$P_SSHD $(cut -d' ' -f1,2 "$S/host_key.pub")" > "$S/known_hosts"
  cat > "$S/sshd_config" <<EOF
ListenAddress $HOST4:$P_SSHD
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
StrictModes no
AllowUsers nobody
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitTTY no
X11Forwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
AllowTcpForwarding local
PermitOpen 127.0.0.1:* localhost:*
ForceCommand /bin/false
LogLevel VERBOSE
EOF
  start_bg sshd "sshd" /usr/sbin/sshd -D -f "$S/sshd_config" -E "$LOG/sshd.log"
  check_up sshd "$P_SSHD"
  start_bg ssh-socks "ssh" /usr/bin/ssh -N -F /dev/null -i "$S/client_key" -p "$P_SSHD" \
    -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$S/known_hosts" -o ExitOnForwardFailure=yes \
    -o ServerAliveInterval=30 -D "$HOST4:$P_SSH_SOCKS" nobody@"$HOST4"
  check_up ssh-socks "$P_SSH_SOCKS"
}

start_tinyproxy() {
  mkdir -p "$PX"
  # The filter applies to the requested name before tinyproxy connects.
  printf '%s\n' '^127\.[0-9]+\.[0-9]+\.[0-9]+$' '^localhost$' '^\[?::1\]?$' > "$PX/tinyproxy-filter"
  local v port
  for v in noauth auth; do
    port=$P_TINY; [ $v = auth ] && port=$P_TINY_AUTH
    cat > "$PX/tinyproxy-$v.conf" <<EOF
User nobody
Group nogroup
Port $port
Listen $HOST4
Timeout 600
LogFile "$LOG/tinyproxy-$v.log"
LogLevel Info
MaxClients 100
Allow 127.0.0.1
Allow ::1
DisableViaHeader Yes
Filter "$PX/tinyproxy-filter"
FilterType ere
FilterURLs Off
FilterDefaultDeny Yes
EOF
    if [ $v = auth ]; then echo "BasicAuth $PROXY_USER $PROXY_PASS" >> "$PX/tinyproxy-$v.conf"; fi
    : > "$LOG/tinyproxy-$v.log"; chown nobody "$LOG/tinyproxy-$v.log"
    start_bg "tinyproxy-$v" "tinyproxy" /usr/bin/tinyproxy -d -c "$PX/tinyproxy-$v.conf"
  done
  check_up tinyproxy-noauth "$P_TINY"; check_up tinyproxy-auth "$P_TINY_AUTH"
}

start_squid() {
  if ! command -v squid >/dev/null 2>&1; then
    say "ERROR: squid is not installed (run install.sh without PEERS_NO_SQUID, or PEERS_SKIP=squid)"
    FAILED="$FAILED squid"; return
  fi
  local SQ="$D/squid"; mkdir -p "$SQ"
  printf '%s:%s\n' "$PROXY_USER" "$(openssl passwd -apr1 "$PROXY_PASS")" > "$SQ/passwd"
  cp "$TLS/server-chain.pem" "$SQ/tls-chain.pem"; cp "$TLS/server.key" "$SQ/tls.key"
  chown proxy "$SQ/tls-chain.pem" "$SQ/tls.key"; chmod 600 "$SQ/tls.key"
  chmod 644 "$SQ/passwd"
  cat > "$SQ/squid.conf" <<EOF
http_port $HOST4:$P_SQUID name=noauth
http_port $HOST4:$P_SQUID_AUTH name=auth
# TLS to the proxy itself (curl's https:// proxies): the rig's server cert,
# valid for localhost and 127.0.0.1. Needs squid built with TLS (Debian's
# GnuTLS build is).
https_port $HOST4:$P_SQUID_HTTPS tls-cert=$SQ/tls-chain.pem tls-key=$SQ/tls.key name=https_noauth
https_port $HOST4:$P_SQUID_HTTPS_AUTH tls-cert=$SQ/tls-chain.pem tls-key=$SQ/tls.key name=https_auth
auth_param basic program /usr/lib/squid/basic_ncsa_auth $SQ/passwd
auth_param basic realm smtp test rig squid
acl noauth_port myportname noauth https_noauth
acl auth_port myportname auth https_auth
acl from_loopback src 127.0.0.0/8 ::1
acl to_loopback dst 127.0.0.0/8 ::1
acl authed proxy_auth REQUIRED
http_access deny !from_loopback
http_access deny !to_loopback
http_access allow noauth_port
http_access allow auth_port authed
http_access deny all
cache deny all
cache_mem 8 MB
pid_filename $SQ/squid.pid
access_log stdio:$LOG/squid-access.log
cache_log $LOG/squid-cache.log
cache_store_log none
coredump_dir $SQ
cache_effective_user proxy
visible_hostname squid.example.test
via off
forwarded_for delete
pinger_enable off
shutdown_lifetime 1 seconds
# names come from /etc/hosts only: never ask a DNS server off this host
dns_nameservers 127.0.0.1
hosts_file /etc/hosts
udp_incoming_address 127.0.0.1
udp_outgoing_address 127.0.0.1
icp_port 0
htcp_port 0
EOF
  : > "$LOG/squid-access.log"; : > "$LOG/squid-cache.log"
  chown proxy "$LOG/squid-access.log" "$LOG/squid-cache.log" "$SQ"
  start_bg squid "squid" /usr/sbin/squid -N -f "$SQ/squid.conf"
  check_up squid "$P_SQUID"; check_up squid "$P_SQUID_AUTH"
  check_up squid "$P_SQUID_HTTPS"; check_up squid "$P_SQUID_HTTPS_AUTH"
}
