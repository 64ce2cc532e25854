#!/bin/sh
# Stops the server whose PID is in DIR/pid and waits until the process is really gone (a zombie
# counts as gone: this sandbox's init does not reap); SIGKILL after 15 s. Used by the stop.sh that
# etcd-cluster.sh and zk-ensemble.sh write for each member, by their stop command for every member
# at once (also after a start that failed half-way), and by ceph-s3.sh.
#   stop-by-pid.sh DIR...   a DIR without a PID file is skipped; one that fails does not keep the others running
[ $# -gt 0 ] || { echo "usage: stop-by-pid.sh DIR..." >&2; exit 2; }
status=0
for d in "$@"; do
    [ -f "$d/pid" ] || continue
    p=$(cat "$d/pid")
    case "$p" in
    '' | *[!0-9]*) echo "stop-by-pid.sh: $d/pid holds no PID" >&2; rm -f "$d/pid"; status=1; continue ;;
    esac
    kill "$p" 2>/dev/null || true
    n=0
    while [ -d "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; do
        n=$((n + 1))
        [ "$n" -eq 150 ] && kill -9 "$p" 2>/dev/null
        sleep 0.1
    done
    rm -f "$d/pid" || status=1
done
exit "$status"
