#!/usr/bin/env bash
# Install the third-party programs of the integration-test rig (Debian 12
# "bookworm", as root): Postfix + Dovecot (SASL), aiosmtpd, SOCKS5 and HTTP
# CONNECT proxies, and reference clients (swaks, curl, msmtp, ncat).
#
#   sudo scripts/peers/install.sh
#
# Idempotent and non-interactive: it installs only what is missing, answers
# Postfix's debconf question, and keeps package scripts from starting system
# daemons (start.sh runs its own instances). Safe on a fresh machine.
# PEERS_NO_SQUID=1 skips squid, the largest package.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_MODE=a

PKGS=(
  postfix            # smtpd (plain/STARTTLS/implicit TLS/mTLS), smtp-sink, smtp-source
  dovecot-core       # SASL for Postfix: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-* XOAUTH2 OAUTHBEARER
  libsasl2-modules sasl2-bin # Cyrus SASL's NTLM plugin and saslpasswd2, for the NTLM port
  python3            # aiosmtpd_peer.py, token_endpoint.py
  python3-aiosmtpd   # a second, independent SMTP server
  python3-dkim       # dkimpy: independent DKIM verifier (smtp-message dkim tests)
  swaks msmtp curl   # reference SMTP clients (smoke.sh)
  libnet-ssleay-perl # swaks -tls/-tlsc (only a Recommends of swaks)
  libio-socket-inet6-perl # swaks to [::1]
  ncat               # proxy-aware pipe for swaks --pipe
  dante-server       # SOCKS5, no auth
  openssh-server openssh-client # ssh -D: the SOCKS4a server (dante has no 4a)
  microsocks         # SOCKS5, no auth and username/password
  tinyproxy          # HTTP CONNECT, no auth and Basic auth
  openssl ca-certificates iproute2 procps
)
if [ -z "${PEERS_NO_SQUID:-}" ]; then
  PKGS+=(squid)      # HTTP CONNECT, no auth and Basic auth
fi

say() { echo "install.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "must run as root (apt-get install); try: sudo $0"
  exit 1
fi

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  say "all peer packages already installed"
  exit 0
fi
say "installing: ${missing[*]}"

# "No configuration": Postfix installs without a prompt and without a main.cf
# of its own (start.sh writes a private one).
{
  echo "postfix postfix/main_mailer_type select No configuration"
  echo "postfix postfix/mailname string localhost"
} | debconf-set-selections

# Package scripts must not start dovecot/tinyproxy/squid/... on their default
# ports. Add a policy-rc.d only if there is none, and remove only ours.
added_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  added_policy=1
fi
cleanup() { if [ -n "$added_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

# Another job may hold the dpkg lock: apt waits for it (Lock::Timeout), and a
# few retries cover the moments between two apt runs of someone else.
APT_OPTS=(-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
retry() {
  local i
  for i in 1 2 3 4 5; do
    if "$@"; then return 0; fi
    say "'$*' failed; retry $i/5 in 5 s"
    sleep 5
  done
  return 1
}
update() { retry apt-get "${APT_OPTS[@]}" update -qq; }

# Refresh the lists when they are missing or older than 6 hours: old lists
# name package versions the mirror no longer has.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -360 2>/dev/null | head -1)" ]; then
  update
fi
install() {
  apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}"
}
if ! install; then
  # Usually a 404 for a superseded version: refresh the lists once and retry.
  say "apt-get install failed; refreshing package lists and retrying"
  update
  retry install
fi

for p in "${missing[@]}"; do
  installed "$p" || { say "ERROR: $p is still not installed"; exit 1; }
done
say "versions:"
dpkg-query -W -f='  ${Package} ${Version}\n' "${PKGS[@]}" >&2
