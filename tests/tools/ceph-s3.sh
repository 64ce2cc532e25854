#!/bin/sh
# A throwaway one-node Ceph with an S3 gateway (radosgw) on 127.0.0.1, like the Deis v1 store
# (TESTING.md): one mon, one bluestore OSD on a sparse file, radosgw (beast), cephx off.
#   ceph-s3.sh start DIR PORT ACCESS_KEY   create and start (S3 on PORT, the monitor on PORT+1 (v2) and PORT+2 (v1));
#                                          the S3 secret key is read on stdin
#   ceph-s3.sh stop DIR                    stop radosgw, the osd and the mon by PID
#   ceph-s3.sh stop-mon DIR / start-mon DIR   take the monitor down / bring it back (guard tests)
# Writes DIR/ceph.conf; every ceph command needs CEPH_CONF=DIR/ceph.conf (or -c).
set -eu
tools=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: ceph-s3.sh start|stop|stop-mon|start-mon DIR [PORT ACCESS_KEY]}
dir=${2:?DIR required}

wait_for() { # wait_for SECONDS WHAT COMMAND...
    t=$1; what=$2; shift 2; n=0
    while ! "$@" >/dev/null 2>&1; do
        n=$((n + 1))
        if [ "$n" -ge $((t * 5)) ]; then echo "ceph-s3.sh: $what not ready after $t s; logs in $dir/log" >&2; exit 1; fi
        sleep 0.2
    done
}

start_daemon() { # start_daemon NAME COMMAND...   runs in the foreground under nohup, PID in DIR/NAME/pid
    name=$1; shift
    mkdir -p "$dir/pids/$name"
    nohup "$@" > "$dir/log/$name.out" 2>&1 &
    echo $! > "$dir/pids/$name/pid"
}

case "$cmd" in
start)
    port=${3:?PORT required}
    access=${4:?ACCESS_KEY required}
    IFS= read -r secret || true
    [ -n "$secret" ] || { echo "ceph-s3.sh: the secret key comes on stdin" >&2; exit 2; }
    for p in curl ceph-mon ceph-osd radosgw ceph radosgw-admin ceph-authtool monmaptool; do
        command -v "$p" >/dev/null || { echo "ceph-s3.sh: $p is missing (Debian: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common)" >&2; exit 2; }
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    mkdir -p "$dir/run" "$dir/log" "$dir/mon.a" "$dir/osd.0" "$dir/rgw.a"
    fsid=$(cat /proc/sys/kernel/random/uuid)
    cat > "$dir/ceph.conf" <<CFG
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$((port + 1)),v1:127.0.0.1:$((port + 2))]
mon initial members = a
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
ms bind ipv6 = false
run dir = $dir/run
admin socket = $dir/run/\$cluster-\$name.asok
log file = $dir/log/\$cluster-\$name.log
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 5
# No ceph-mgr runs here (Deis v1's Ceph predates it): without this the monitor turns HEALTH_ERR "no active mgr"
# two minutes after mkfs (mon_mgr_mkfs_grace), which Backup-DeisStore's guard refuses, as it should.
mon mgr mkfs grace = 31536000
mon max pg per osd = 1000
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 4294967296
bluestore fsck on mkfs = false
bdev enable discard = false
osd max object name len = 256
osd max object namespace len = 64
[mon]
mon data = $dir/mon.\$id
[osd]
osd data = $dir/osd.\$id
[client.rgw.a]
rgw data = $dir/rgw.a
rgw frontends = beast endpoint=127.0.0.1:$port
# Deis v1 names a bucket db_wal: underscores need relaxed bucket names, as on the Deis store gateway.
rgw relaxed s3 bucket names = true
CFG
    export CEPH_CONF="$dir/ceph.conf"
    ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    monmaptool --create --addv a "[v2:127.0.0.1:$((port + 1)),v1:127.0.0.1:$((port + 2))]" --fsid "$fsid" "$dir/monmap" >/dev/null
    ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
    start_daemon mon ceph-mon -f -i a
    wait_for 30 "ceph-mon" ceph --connect-timeout 5 -s
    uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(ceph osd new "$uuid")
    ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" >"$dir/log/osd-mkfs.out" 2>&1
    start_daemon osd ceph-osd -f -i "$id"
    wait_for 60 "ceph-osd" sh -c 'ceph osd stat | grep -q "1 up"'
    start_daemon rgw radosgw -n client.rgw.a -f
    wait_for 60 "radosgw" curl -s -o /dev/null "http://127.0.0.1:$port/"
    radosgw-admin user create --uid=deis --display-name=deis --access-key="$access" --secret-key="$secret" >/dev/null
    ;;
stop-mon)
    sh "$tools/stop-by-pid.sh" "$dir/pids/mon"
    ;;
start-mon)
    dir=$(cd "$dir" && pwd)
    export CEPH_CONF="$dir/ceph.conf"
    start_daemon mon ceph-mon -f -i a
    wait_for 30 "ceph-mon" ceph --connect-timeout 5 -s
    ;;
stop)
    for d in rgw osd mon; do [ -d "$dir/pids/$d" ] && sh "$tools/stop-by-pid.sh" "$dir/pids/$d"; done
    exit 0
    ;;
*)
    echo "usage: ceph-s3.sh start|stop|stop-mon|start-mon DIR [PORT ACCESS_KEY]" >&2; exit 2 ;;
esac
