#!/bin/sh
# The by-hand backup of one ZooKeeper server, as DC/OS documents it (stop dcos-exhibitor on one master,
# tar the data dir's version-2, start it, check it serves), with this ensemble's stop.sh/start.sh:
#   manual-backup.sh NODE_DIR DATA_DIR CLIENT_PORT TAR
# Prints "MARK name seconds" (CLOCK_REALTIME) after each step for the bench's per-step columns.
set -eu
node=$1 data=$2 port=$3 tar=$4
mark() { echo "MARK $1 $(date +%s.%N)"; }
sh "$node/stop.sh"; mark stopped
tar -C "$data" -czf "$tar" version-2; mark tarred
sh "$node/start.sh"
# srvr answers "Mode: ..." only while the server serves; 250 ms is the engine's own poll interval.
polls=0
until echo srvr | busybox nc -w 1 127.0.0.1 "$port" 2>/dev/null | grep -q '^Mode: '; do
    polls=$((polls + 1)); [ "$polls" -gt 1200 ] && { echo "the server did not serve again within 300 s" >&2; exit 1; }
    sleep 0.25
done
mark serving
