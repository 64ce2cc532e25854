#!/bin/sh
# The by-hand rehearsal of a ZooKeeper backup archive, as an operator would do it: unpack version-2, a standalone
# zoo.cfg, start ZooKeeperServerMain, poll srvr until it serves, read its zxid and node count, stop it, delete.
#   manual-rehearse.sh ARCHIVE WORKDIR PORT
set -e
a=$1 d=$2 port=$3
mkdir -p "$d/data"
tar --zstd -x -C "$d/data" -f "$a" --wildcards 'version-2/*'
printf 'tickTime=2000\ndataDir=%s/data\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n' "$d" "$port" > "$d/zoo.cfg"
java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar \
  org.apache.zookeeper.server.ZooKeeperServerMain "$d/zoo.cfg" > "$d/zk.log" 2>&1 &
pid=$!
until echo srvr | busybox nc 127.0.0.1 "$port" 2>/dev/null | grep -q '^Mode'; do sleep 0.1; done
echo srvr | busybox nc 127.0.0.1 "$port" | grep -E '^(Zxid|Node count)' >/dev/null
kill "$pid"; wait "$pid" || true
rm -rf "$d"
