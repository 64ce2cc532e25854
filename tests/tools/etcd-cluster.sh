#!/bin/sh
# A throwaway etcd cluster on 127.0.0.1, for the tests and the demo. Each member gets
# DIR/<name>/{start.sh,stop.sh}: exactly the StartCommand/StopCommand a member spec takes.
#   etcd-cluster.sh start DIR SIZE BASEPORT   create and start SIZE members (client BASEPORT+2i, peer BASEPORT+2i+1)
#   etcd-cluster.sh stop DIR                  stop every member by its PID (also after a failed start)
#   etcd-cluster.sh members DIR               one line per member: name peer-url client-url data-dir
set -eu
tools=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: etcd-cluster.sh start|stop|members DIR [SIZE BASEPORT]}
dir=${2:?DIR required}

case "$cmd" in
start)
    size=${3:?SIZE required}
    base=${4:?BASEPORT required}
    command -v etcd >/dev/null || { echo "etcd is not installed (Debian: apt-get install etcd-server etcd-client)" >&2; exit 2; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    token="t$$-$(date +%s)"
    cluster=""
    i=1
    while [ "$i" -le "$size" ]; do
        cluster="${cluster:+$cluster,}e$i=http://127.0.0.1:$((base + 2 * i + 1))"
        i=$((i + 1))
    done
    i=1
    while [ "$i" -le "$size" ]; do
        m="$dir/e$i"; client="http://127.0.0.1:$((base + 2 * i))"; peer="http://127.0.0.1:$((base + 2 * i + 1))"
        mkdir -p "$m"
        cat > "$m/start.sh" <<START
#!/bin/sh
# ETCD_INITIAL_* from the environment win (Repair-EtcdMember passes initial-cluster-state=existing that way).
: "\${ETCD_INITIAL_CLUSTER:=$cluster}"; : "\${ETCD_INITIAL_CLUSTER_STATE:=new}"; : "\${ETCD_INITIAL_CLUSTER_TOKEN:=$token}"
export ETCD_INITIAL_CLUSTER ETCD_INITIAL_CLUSTER_STATE ETCD_INITIAL_CLUSTER_TOKEN
unset ETCD_NAME ETCD_INITIAL_ADVERTISE_PEER_URLS
cd "$m"
if [ -f pid ] && kill -0 "\$(cat pid)" 2>/dev/null; then exit 0; fi
nohup etcd --name e$i --data-dir "$m/data" --listen-client-urls $client --advertise-client-urls $client \\
  --listen-peer-urls $peer --initial-advertise-peer-urls $peer --listen-metrics-urls '' \\
  --heartbeat-interval 50 --election-timeout 500 >> "$m/etcd.log" 2>&1 < /dev/null &
echo \$! > "$m/pid"
START
        printf '#!/bin/sh\nexec sh "%s" "%s"\n' "$tools/stop-by-pid.sh" "$m" > "$m/stop.sh"
        printf 'e%s %s %s %s\n' "$i" "$peer" "$client" "$m/data" > "$m/member"
        chmod +x "$m/start.sh" "$m/stop.sh"
        sh "$m/start.sh"
        i=$((i + 1))
    done
    cat "$dir"/e*/member
    ;;
stop)
    # Every member with a PID file, so also after a start that failed half-way.
    exec sh "$tools/stop-by-pid.sh" "$dir"/e*
    ;;
members)
    cat "$dir"/e*/member
    ;;
*)
    echo "unknown command $cmd" >&2; exit 2 ;;
esac
