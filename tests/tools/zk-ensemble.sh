#!/bin/sh
# A throwaway ZooKeeper ensemble on 127.0.0.1, for the tests and the benchmark. Each node gets
# DIR/<name>/{zoo.cfg,start.sh,stop.sh} and DIR/<name>/data/myid: exactly what a ZkMemberSpec's
# StartCommand/StopCommand/DataDir take.
#   zk-ensemble.sh start DIR SIZE BASEPORT   create and start SIZE nodes (ports BASEPORT+4i .. +4i+3:
#                                             client, quorum, election, AdminServer)
#   zk-ensemble.sh stop DIR                  stop every node by its PID (also after a failed start)
#   zk-ensemble.sh members DIR               one line per node: name id client-address data-dir admin-url
# Environment for start: ZK_EXTRA_CFG (lines appended to every zoo.cfg), ZK_HEAP (JVM -Xmx of every
# node, default 128m; the benchmark raises it for 100k+ znodes), ZK_CLASSPATH (jars ahead of the system's,
# e.g. ZooKeeper 3.9 from tests/tools/install-newer.sh). All are written into the node's files.
set -eu
tools=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: zk-ensemble.sh start|stop|members DIR [SIZE BASEPORT]}
dir=${2:?DIR required}
jar=/usr/share/java/zookeeper.jar

case "$cmd" in
start)
    size=${3:?SIZE required}
    base=${4:?BASEPORT required}
    heap=${ZK_HEAP:-128m}
    case "$heap" in *[!0-9kKmMgG]*|[!0-9]*) echo "ZK_HEAP must look like 128m or 1g, not '$heap'" >&2; exit 2 ;; esac
    [ -f "$jar" ] || { echo "ZooKeeper is not installed (Debian: apt-get install --no-install-recommends zookeeper)" >&2; exit 2; }
    command -v java >/dev/null || { echo "java is not installed" >&2; exit 2; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    servers=""
    i=1
    while [ "$i" -le "$size" ]; do
        servers="${servers}server.$i=127.0.0.1:$((base + 4 * i + 1)):$((base + 4 * i + 2))
"
        i=$((i + 1))
    done
    i=1
    while [ "$i" -le "$size" ]; do
        m="$dir/z$i"; client=$((base + 4 * i)); admin=$((base + 4 * i + 3))
        mkdir -p "$m/data" "$m/conf"
        echo "$i" > "$m/data/myid"
        cat > "$m/zoo.cfg" <<CFG
tickTime=500
initLimit=20
syncLimit=10
dataDir=$m/data
clientPort=$client
clientPortAddress=127.0.0.1
admin.serverAddress=127.0.0.1
admin.serverPort=$admin
4lw.commands.whitelist=*
preAllocSize=1024
autopurge.purgeInterval=0
${ZK_EXTRA_CFG:-}
$servers
CFG
        # Logs go to the node's own directory (log4j 1.2 as the Debian package ships it).
        cat > "$m/conf/log4j.properties" <<LOG
log4j.rootLogger=INFO, F
log4j.appender.F=org.apache.log4j.FileAppender
log4j.appender.F.File=$m/zookeeper.log
log4j.appender.F.layout=org.apache.log4j.PatternLayout
log4j.appender.F.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{1}: %m%n
LOG
        cat > "$m/start.sh" <<START
#!/bin/sh
cd "$m"
if [ -f pid ] && kill -0 "\$(cat pid)" 2>/dev/null; then exit 0; fi
cp=$m/conf:${ZK_CLASSPATH:+$ZK_CLASSPATH:}/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:/usr/share/java/servlet-api.jar
nohup java -Xmx$heap -XX:+UseSerialGC -Dzookeeper.log.dir="$m" -cp "\$cp" \\
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$m/zoo.cfg" >> "$m/stdout.log" 2>&1 < /dev/null &
echo \$! > "$m/pid"
START
        printf '#!/bin/sh\nexec sh "%s" "%s"\n' "$tools/stop-by-pid.sh" "$m" > "$m/stop.sh"
        printf 'z%s %s 127.0.0.1:%s %s http://127.0.0.1:%s/commands\n' "$i" "$i" "$client" "$m/data" "$admin" > "$m/member"
        chmod +x "$m/start.sh" "$m/stop.sh"
        sh "$m/start.sh"
        i=$((i + 1))
    done
    cat "$dir"/z*/member
    ;;
stop)
    # Every node with a PID file, so also after a start that failed half-way.
    exec sh "$tools/stop-by-pid.sh" "$dir"/z*
    ;;
members)
    cat "$dir"/z*/member
    ;;
*)
    echo "unknown command $cmd" >&2; exit 2 ;;
esac
