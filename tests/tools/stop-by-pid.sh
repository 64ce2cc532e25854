#!/bin/sh
# Stops the server whose PID is in DIR/pid and waits until the process is really gone (a zombie
# counts as gone: this sandbox's init does not reap); SIGKILL after 15 s. Used by the stop.sh that
# etcd-cluster.sh and zk-ensemble.sh write for each member.
#   stop-by-pid.sh DIR
cd "${1:?DIR required}" || exit 1
[ -f pid ] || exit 0
p=$(cat pid)
kill "$p" 2>/dev/null || true
n=0
while [ -d "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; do
    n=$((n + 1))
    [ "$n" -eq 150 ] && kill -9 "$p" 2>/dev/null
    sleep 0.1
done
rm -f pid
