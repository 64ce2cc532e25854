#!/bin/sh
# The versions operators run, from Debian 13 (trixie) without installing it: etcd 3.5 (with etcdutl),
# dockerd 26 with containerd 1.7, ZooKeeper 3.9. The packages are fetched with a private apt state and
# unpacked under out/newer (cached; never dpkg -i). Keeps this system's runc (trixie's needs glibc 2.38).
# Prints shell assignments for the matrix run: PATH prefixes and ZK_CLASSPATH.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="$root/out/newer"
stamp="$cache/.complete-v1"
if [ ! -f "$stamp" ]; then
    echo "Fetching etcd 3.5, dockerd 26 and ZooKeeper 3.9 from Debian 13 into $cache..." >&2
    rm -rf "$cache"
    mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/debs" "$cache/root"
    echo "deb http://deb.debian.org/debian trixie main" > "$cache/apt/sources.list"
    set -- -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache::Archives="$cache/apt/archives" \
        -o Dir::State::Status=/dev/null -o APT::Sandbox::User=root -o Debug::NoLocking=1
    apt-get -qq "$@" update >&2
    (cd "$cache/debs" && apt-get -qq "$@" download etcd-server etcd-client docker.io containerd zookeeper libzookeeper-java >&2)
    for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
    mkdir -p "$cache/etcd/bin" "$cache/docker/bin"
    for b in etcd etcdctl etcdutl; do ln -sf "$cache/root/usr/bin/$b" "$cache/etcd/bin/$b"; done
    for b in containerd containerd-shim-runc-v2 ctr docker-init; do ln -sf "$cache/root/usr/bin/$b" "$cache/docker/bin/$b"; done
    for b in dockerd docker-proxy; do ln -sf "$cache/root/usr/sbin/$b" "$cache/docker/bin/$b"; done
    # The 3.9 jute and server jars first: their manifests name this system's 3.8 jars, and a 3.8 jute
    # ahead of the 3.9 server kills every client connection (TESTING.md).
    j="$cache/root/usr/share/java"
    printf '%s\n' "$j/zookeeper-jute-3.9.3.jar:$j/zookeeper-3.9.3.jar" > "$cache/zookeeper.classpath"
    rm -rf "$cache/apt" "$cache/debs"
    touch "$stamp"
fi
echo "NEWER_PATH='$cache/etcd/bin:$cache/docker/bin'"
echo "ZK_CLASSPATH='$(cat "$cache/zookeeper.classpath")'"
