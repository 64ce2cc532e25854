#!/bin/sh
# The documented by-hand backup of a swarm manager: stop Docker, tar /var/lib/docker/swarm, start Docker,
# wait until it is a manager again (`docker node ls` answers). With this node's stop.sh/start.sh:
#   manual-backup.sh NODE_DIR DATA_ROOT TAR     (DOCKER_HOST in the environment)
# Prints "MARK name unix-seconds" after each step.
set -eu
node=$1 root=$2 tar=$3
mark() { echo "MARK $1 $(date +%s.%N)"; }
sh "$node/stop.sh"; mark stopped
tar -C "$root" -czf "$tar" swarm; mark tarred
sh "$node/start.sh"
until docker version >/dev/null 2>&1; do sleep 0.1; done; mark answers
# 250 ms: the engine's own poll interval for "a ready manager".
until docker node ls >/dev/null 2>&1; do sleep 0.25; done
mark ready
