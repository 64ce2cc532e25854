using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ClusterDR.Backups;
using ClusterDR.Deis;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// Deis: every bucket object re-hashed against the manifest (the verification) and counted per bucket, and the
    /// database dump loaded into a throwaway PostgreSQL that listens on a unix socket in the scratch dir only.
    /// </summary>
    internal static class DeisRehearsal
    {
        private const string Install = "Install PostgreSQL (Debian: apt-get install --no-install-recommends postgresql).";
        /// <summary>The throwaway server's superuser: not "postgres", so the dump's CREATE ROLE postgres does not collide.</summary>
        private const string Superuser = "clusterdr_rehearsal";

        public static ClusterBackup Run(Stores.BackupLocation location, RehearsalOptions o, RehearsalResult result, IOperationContext outer)
        {
            RehearsalTools.EnsureLinux(DeisStore.Kind);
            var tools = new RehearsalTools(o.ToolPath);
            var ctx = new RehearsalContext(outer);
            var ct = ctx.Cancellation;
            using (var scratch = Scratch.Create(DeisStore.Kind, outer))
            {
                string dump = scratch.PathOf("pg_dumpall.sql");
                var perBucket = new Dictionary<string, long>(StringComparer.Ordinal);
                var backup = BackupRehearsal.VerifyExtracting(location, DeisStore.Kind, result, outer, (name, entry) =>
                {
                    if (entry.IsDirectory) return null;
                    string bucket = BucketOf(name);
                    if (bucket != null) perBucket[bucket] = (perBucket.TryGetValue(bucket, out long n) ? n : 0) + 1;
                    return name == DeisStore.DatabasePayload ? Scratch.CreateFile(dump) : null;
                });
                var m = backup.Manifest;
                if (long.TryParse(m.Fact("objects"), NumberStyles.None, CultureInfo.InvariantCulture, out long objects))
                    result.Add("objects", objects, perBucket.Values.Sum());
                foreach (var bucket in (m.Fact("buckets") ?? "").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries))
                    if (long.TryParse(m.Fact("objects." + bucket), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
                        result.Add("objects in " + bucket, n, perBucket.TryGetValue(bucket, out long found) ? found : 0);
                // Decided on the verified manifest: an encrypted backup lists no facts before it is opened.
                if (m.Fact("databaseBytes") == null)
                {
                    result.CouldNotCompare("the database (the backup holds no pg_dumpall: it was taken without -IncludeDatabase)");
                    return backup;
                }

                var pgDirs = RehearsalTools.PostgresDirs().ToList();
                string initdb = tools.Require("initdb", Install, pgDirs);
                string pgctl = tools.Require("pg_ctl", Install, new[] { Path.GetDirectoryName(initdb) }.Concat(pgDirs));
                string psql = tools.Require("psql", Install, new[] { Path.GetDirectoryName(initdb) }.Concat(pgDirs));

                // initdb refuses root: as root, the server runs as postgres (or nobody) in a dir of its own.
                var sh = scratch.Shell;
                string runAs = "";
                string pg = scratch.PathOf("pg"), data = Path.Combine(pg, "data"), log = Path.Combine(pg, "postgres.log");
                Directory.CreateDirectory(pg);
                if (sh.RunText("id -u", null, ct).StdOut.Trim() == "0")
                {
                    string user = sh.RunText("id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody", null, ct).StdOut.Trim();
                    sh.RunChecked("Give the rehearsal's PostgreSQL its dir", $"chmod 711 {Sh.Quote(scratch.Dir)} && chown {Sh.Quote(user)} {Sh.Quote(pg)} && chmod 700 {Sh.Quote(pg)}", ct);
                    runAs = "runuser -u " + Sh.Quote(user) + " -- ";
                }
                int port = scratch.FreePort();
                scratch.ReleasePorts();
                string p = port.ToString(CultureInfo.InvariantCulture);
                if (!BackupRehearsal.Step(result, "serves", "a throwaway PostgreSQL on a unix socket", () =>
                {
                    var init = sh.RunText(runAs + Sh.Join(new[] { initdb, "-D", data, "-U", Superuser, "--auth=trust", "-N" }) + " 2>&1", null, ct);
                    if (init.ExitCode != 0) throw new ClusterDrException(ErrorIds.RehearsalFailed, ErrorKind.InvalidData, "initdb failed: " + BackupRehearsal.LastLines(init.StdOut));
                    scratch.StopOnDispose(Path.Combine(data, "postmaster.pid"), "PostgreSQL");
                    var start = sh.RunText(runAs + Sh.Join(new[] { pgctl, "-D", data, "-w", "-t", ((int)o.WaitTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-l", log,
                        "-o", $"-p {p} -k {pg} -c listen_addresses='' -c fsync=off", "start" }) + " 2>&1", null, ct);
                    if (start.ExitCode != 0) throw new ClusterDrException(ErrorIds.RehearsalFailed, ErrorKind.InvalidData, "pg_ctl start failed: " + BackupRehearsal.LastLines(start.StdOut) + " " + scratch.Tail(log));
                    string version = sh.RunText(Sh.Quote(psql) + " --version", null, ct).StdOut.Trim();
                    result.Server = $"{version} on {pg}/.s.PGSQL.{p}";
                    return version;
                })) return backup;
                string connect = Sh.Join(new[] { psql, "-X", "-q", "-h", pg, "-p", p, "-U", Superuser });
                BackupRehearsal.Step(result, "database dump loads", "pg_dumpall's SQL without an error", () =>
                {
                    var load = sh.RunText(connect + " -v ON_ERROR_STOP=1 -d postgres -f " + Sh.Quote(dump) + " 2>&1 >/dev/null", null, ct);
                    if (load.ExitCode != 0) throw new ClusterDrException(ErrorIds.RehearsalFailed, ErrorKind.InvalidData, "psql stopped at an error: " + BackupRehearsal.LastLines(load.StdOut));
                    var dbs = sh.RunChecked("List the loaded databases", connect + " -At -d postgres -c " + Sh.Quote("SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY 1"), ct)
                        .StdOut.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
                    return dbs.Length == 0 ? "loaded (no database besides postgres)" : $"loaded: {dbs.Length} database(s) ({string.Join(", ", dbs.Take(8))})";
                });
                return backup;
            }
        }

        /// <summary>The bucket of an object payload (s3/&lt;bucket&gt;/… or s3x/&lt;bucket&gt;/…), null for any other entry.</summary>
        private static string BucketOf(string name)
        {
            foreach (var root in new[] { DeisStore.ObjectsRoot + "/", DeisStore.EncodedObjectsRoot + "/" })
                if (name.StartsWith(root, StringComparison.Ordinal))
                {
                    int slash = name.IndexOf('/', root.Length);
                    return slash > root.Length ? name.Substring(root.Length, slash - root.Length) : null;
                }
            return null;
        }
    }
}
