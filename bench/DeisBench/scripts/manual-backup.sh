#!/bin/sh
# The by-hand copy of the Deis store: `s3cmd sync` of every bucket into plain files (the s3cmd config file
# holds the keys: never a command line), then, when a dump command is given, pg_dumpall's SQL into a file.
#   manual-backup.sh S3CFG OUT_DIR "BUCKET ..." [DUMP_COMMAND]
# Prints "MARK name unix-seconds" after each step.
set -eu
cfg=$1 out=$2 buckets=$3 dump=${4:-}
mark() { echo "MARK $1 $(date +%s.%N)"; }
for b in $buckets; do
    mkdir -p "$out/$b"
    s3cmd -c "$cfg" --no-progress -q sync "s3://$b/" "$out/$b/"
done
mark objects
if [ -n "$dump" ]; then sh -c "$dump" > "$out/pg_dumpall.sql"; mark database; fi
