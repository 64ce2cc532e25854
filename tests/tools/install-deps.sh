#!/bin/sh
# Installs the real servers the tests and the demo drive (etcd, ZooKeeper, OpenSSH, dockerd, Ceph mon/osd/radosgw, PostgreSQL; busybox for the swarm's service image;
# zstd and age, the standard tools the archive tests open .tar.zst and encrypted backups with) from the distribution's
# packages when they are missing, without letting the packages start their own daemons.
# As non-root, or off Debian/Ubuntu, it only says what to install.
set -eu
# With arguments (etcd zookeeper ssh docker ceph postgresql tools azurite), only those components.
# azurite: the Azure Blob emulator from npm, into out/tools/azurite (never global).
wanted=" ${*:-etcd ssh zookeeper docker ceph postgresql tools azurite} "
want() { case "$wanted" in *" $1 "*) return 0;; esac; return 1; }
need=""
if want etcd; then
    command -v etcd >/dev/null 2>&1 || need="$need etcd-server"
    command -v etcdctl >/dev/null 2>&1 || need="$need etcd-client"
fi
if want ssh; then
    [ -x /usr/sbin/sshd ] || need="$need openssh-server"
    command -v ssh >/dev/null 2>&1 || need="$need openssh-client"
    command -v ssh-keygen >/dev/null 2>&1 || need="$need openssh-client"
fi
if want zookeeper; then [ -f /usr/share/java/zookeeper.jar ] || need="$need zookeeper"; fi
if want docker; then
    command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
    command -v busybox >/dev/null 2>&1 || need="$need busybox-static"
fi
if want ceph; then
    command -v ceph-mon >/dev/null 2>&1 || need="$need ceph-mon"
    command -v ceph-osd >/dev/null 2>&1 || need="$need ceph-osd"
    command -v radosgw >/dev/null 2>&1 || need="$need radosgw"
    command -v ceph >/dev/null 2>&1 || need="$need ceph-common"
fi
if want postgresql; then
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
    command -v psql >/dev/null 2>&1 || need="$need postgresql-client"
fi
if want tools; then
    command -v zstd >/dev/null 2>&1 || need="$need zstd"
    # age: the standard tool the encryption tests open (and make) encrypted backups with.
    command -v age >/dev/null 2>&1 || need="$need age"
fi
if want azurite; then
    azurite_dir="$(cd "$(dirname "$0")/../.." && pwd)/out/tools/azurite"
    if [ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]; then
        if command -v npm >/dev/null 2>&1; then
            echo "Installing Azurite 3.37.0 (npm) into $azurite_dir..."
            mkdir -p "$azurite_dir"
            npm install --prefix "$azurite_dir" --no-audit --no-fund --loglevel=error azurite@3.37.0 >/dev/null
        else
            need="$need nodejs npm"
        fi
    fi
fi
[ -z "$need" ] && exit 0
need=$(echo $need | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing: $need. Install them (Debian/Ubuntu: sudo apt-get install -y $need) and run again." >&2
    exit 2
fi
echo "Installing $need from the distribution's packages..."
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
[ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
echo "Installed $need."
