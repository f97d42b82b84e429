#!/usr/bin/env bash
# Stop the test peers that start.sh started from $PEERS_DIR (default
# /tmp/smtp-peers).
#
#   sudo scripts/peers/stop.sh
#
# Kills only the pids start.sh recorded in $PEERS_DIR/pids/, and only while
# the process still runs the program recorded with it (a recycled pid is left
# alone), and removes peers.env. Idempotent. Leaves certificates, mail and
# logs: rm -rf $PEERS_DIR resets everything.
set -uo pipefail

D="${PEERS_DIR:-/tmp/smtp-peers}"
RUN="$D/pids"
say() { echo "stop.sh: $*" >&2; }

# peers.env describes running peers; without it tests say "not running"
# instead of failing on refused connections.
rm -f "$D/peers.env"

[ -d "$RUN" ] || { say "nothing recorded in $RUN"; exit 0; }

ours() { # pid match -> 0 if /proc/pid runs the recorded program
  local pid="$1" match="$2" cmd
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
  case "$cmd" in *"$match"*) return 0;; esac
  return 1
}

stopped=0
for f in "$RUN"/*.pid; do
  [ -e "$f" ] || continue
  name="$(basename "$f" .pid)"
  read -r pid match < "$f" || true
  if [ -z "${pid:-}" ] || [ -z "${match:-}" ]; then rm -f "$f"; continue; fi
  if ours "$pid" "$match"; then
    if [ "$name" = postfix ] && [ -f "$D/postfix/main.cf" ]; then
      # the master stops its children itself
      postfix -c "$D/postfix" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
    else
      kill -TERM "$pid" 2>/dev/null
    fi
    for _ in $(seq 1 50); do ours "$pid" "$match" || break; sleep 0.1; done
    if ours "$pid" "$match"; then
      say "$name (pid $pid) did not stop on TERM; sending KILL"
      kill -KILL "$pid" 2>/dev/null
    fi
    say "stopped $name (pid $pid)"
    stopped=$((stopped + 1))
  fi
  rm -f "$f"
done
# pid files the daemons wrote themselves (not ours to act on beyond cleanup)
rm -f "$RUN/danted.own-pid"
say "stopped $stopped process(es) recorded in $RUN"
