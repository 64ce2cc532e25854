#!/bin/sh
# The documented by-hand restore of a swarm manager: stop Docker, put the backup in place of the swarm dir,
# start Docker, `docker swarm init --force-new-cluster`, until the swarm is healthy: this node a ready
# leader and every service listed again.
#   manual-restore.sh NODE_DIR DATA_ROOT TAR SERVICES     (DOCKER_HOST in the environment)
# The old swarm dir is moved to swarm.manual-old (the bench deletes it).
set -eu
node=$1 root=$2 tar=$3 services=$4
mark() { echo "MARK $1 $(date +%s.%N)"; }
sh "$node/stop.sh"; mark stopped
rm -rf "$root/swarm.manual-old"; mv "$root/swarm" "$root/swarm.manual-old"
tar -C "$root" -xzf "$tar"; mark untarred
sh "$node/start.sh"
until docker version >/dev/null 2>&1; do sleep 0.1; done; mark answers
docker swarm init --force-new-cluster --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null; mark forced
until [ "$(docker node ls --format '{{.Status}} {{.ManagerStatus}}' 2>/dev/null)" = "Ready Leader" ] &&
      [ "$(docker service ls -q 2>/dev/null | wc -l)" -eq "$services" ]; do sleep 0.25; done
mark healthy
