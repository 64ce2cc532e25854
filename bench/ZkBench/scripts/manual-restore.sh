#!/bin/sh
# The by-hand restore of a whole ZooKeeper ensemble from one server's tar (DC/OS: stop ZooKeeper on ALL
# masters, restore the same tar on every one, start all, until every node serves with one leader):
#   manual-restore.sh TAR SUFFIX NODE_DIR DATA_DIR ID CLIENT_PORT [NODE_DIR DATA_DIR ID CLIENT_PORT ...]
# The old data dirs are moved to DATA_DIR.SUFFIX (the bench deletes them afterwards).
set -eu
tar=$1 suffix=$2; shift 2
args="$*"
mark() { echo "MARK $1 $(date +%s.%N)"; }
set -- $args; while [ $# -ge 4 ]; do sh "$1/stop.sh"; shift 4; done; mark stopped
set -- $args
while [ $# -ge 4 ]; do
    mv "$2" "$2.$suffix"; mkdir "$2"; tar -C "$2" -xzf "$tar"; echo "$3" > "$2/myid"
    shift 4
done
mark untarred
set -- $args; while [ $# -ge 4 ]; do sh "$1/start.sh"; shift 4; done
polls=0
while :; do
    # An operator gives up at some point too: 5 minutes (the engine's default wait is 2).
    polls=$((polls + 1)); [ "$polls" -gt 1200 ] && { echo "the ensemble did not serve with one leader within 300 s" >&2; exit 1; }
    serving=0 leaders=0 total=0
    set -- $args
    while [ $# -ge 4 ]; do
        total=$((total + 1))
        mode=$(echo srvr | busybox nc -w 1 127.0.0.1 "$4" 2>/dev/null | sed -n 's/^Mode: //p')
        [ -n "$mode" ] && serving=$((serving + 1))
        [ "$mode" = leader ] && leaders=$((leaders + 1))
        shift 4
    done
    [ "$serving" -eq "$total" ] && [ "$leaders" -eq 1 ] && break
    sleep 0.25
done
mark serving
