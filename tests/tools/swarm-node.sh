#!/bin/sh
# A throwaway dockerd for the Pester suite and the benchmark (TESTING.md): its own data root, exec
# root, pidfile and unix socket under DIR, started under nsenter in a new network namespace with
# only lo up, so swarm init creates nothing on the host network. Stopped with SIGTERM by PID.
#   swarm-node.sh start DIR   prints the DOCKER_HOST; writes DIR/start.sh and DIR/stop.sh
#   swarm-node.sh stop DIR    stops dockerd, unmounts what it left, deletes the namespace and DIR
set -eu
cmd=${1:?usage: swarm-node.sh start|stop DIR} dir=${2:?DIR required}
case "$cmd" in
start)
    mkdir -p "$dir/root"
    ns="cdr$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    echo "$ns" > "$dir/netns"
    cat > "$dir/start.sh" <<SH
p=\$(cat $dir/dockerd.pid 2>/dev/null) && [ -e /proc/\$p ] && ! grep -q '^State:.*Z' /proc/\$p/status && exit 0
setsid nsenter --net=/run/netns/$ns dockerd --data-root $dir/root --exec-root $dir/exec --pidfile $dir/dockerd.pid -H unix://$dir/docker.sock \
  --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none --storage-driver=vfs --shutdown-timeout 3 \
  >>$dir/dockerd.log 2>&1 </dev/null &
for i in \$(seq 100); do [ -S $dir/docker.sock ] && exit 0; sleep 0.05; done
SH
    cat > "$dir/stop.sh" <<SH
p=\$(cat $dir/dockerd.pid 2>/dev/null) || exit 0
kill -TERM \$p 2>/dev/null || exit 0
while [ -e /proc/\$p ] && ! grep -q '^State:.*Z' /proc/\$p/status 2>/dev/null; do sleep 0.05; done
SH
    sh "$dir/start.sh"
    i=0
    until DOCKER_HOST="unix://$dir/docker.sock" docker version >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 300 ] && { tail -5 "$dir/dockerd.log" >&2; exit 1; }; sleep 0.1
    done
    echo "unix://$dir/docker.sock"
    ;;
stop)
    [ -f "$dir/stop.sh" ] && sh "$dir/stop.sh"
    grep -o " $dir[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    [ -f "$dir/netns" ] && ip netns del "$(cat "$dir/netns")" 2>/dev/null || true
    rm -rf "$dir"
    ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
