using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ClusterDR.Backups;
using ClusterDR.Etcd;
using ClusterDR.Safety;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// etcd: the snapshot restored with etcdutl (etcdctl on 3.4) as a new one-member cluster on loopback, started, and
    /// asked for its revision, its key count and the sampled keys at the backup's revision.
    /// </summary>
    internal static class EtcdRehearsal
    {
        /// <summary>
        /// etcd reads ETCD_* variables as flags and refuses to start when one shadows a flag: the throwaway member must not
        /// inherit the operator's (an etcd.conf environment file, a runbook worker's), nor etcdctl its ETCDCTL_*.
        /// </summary>
        private const string CleanEnvironment = "for v in $(env | sed -n 's/^\\(ETCD[A-Z0-9_]*\\)=.*/\\1/p'); do unset \"$v\"; done; ";

        private const string Install = "Install etcd (Debian: apt-get install --no-install-recommends etcd-server etcd-client), or take it from https://github.com/etcd-io/etcd/releases.";

        public static ClusterBackup Run(Stores.BackupLocation location, RehearsalOptions o, RehearsalResult result, IOperationContext outer)
        {
            RehearsalTools.EnsureLinux(EtcdBackup.Kind);
            var tools = new RehearsalTools(o.ToolPath);
            string etcd = tools.Require("etcd", Install);
            string etcdutl = tools.Find(new[] { Path.GetDirectoryName(etcd) }, "etcdutl");
            string etcdctl = etcdutl == null ? tools.Find(new[] { Path.GetDirectoryName(etcd) }, "etcdctl") ?? throw tools.Missing("etcdutl (or etcdctl on etcd 3.4)", Install) : null;
            var ctx = new RehearsalContext(outer);
            var ct = ctx.Cancellation;
            using (var scratch = Scratch.Create(EtcdBackup.Kind, outer))
            {
                string snap = scratch.PathOf("snapshot.db"), data = scratch.PathOf("data"), log = scratch.PathOf("etcd.log");
                // The snapshot's trailing SHA-256 is checked once, by the restore that reads it next: a pass less here.
                var backup = BackupRehearsal.VerifyExtracting(location, EtcdBackup.Kind, result, outer,
                    (name, entry) => name == EtcdBackup.SnapshotFile ? Scratch.CreateFile(snap) : null, "the snapshot's own SHA-256 is checked by the restore");

                string peer = "http://127.0.0.1:" + scratch.FreePort().ToString(CultureInfo.InvariantCulture);
                var clientUri = new Uri("http://127.0.0.1:" + scratch.FreePort().ToString(CultureInfo.InvariantCulture));
                string client = clientUri.ToString().TrimEnd('/');
                string token = "clusterdr-rehearsal-" + Guid.NewGuid().ToString("N").Substring(0, 8);
                var member = new[] { "--name", "rehearsal", "--initial-cluster", "rehearsal=" + peer, "--initial-advertise-peer-urls", peer, "--initial-cluster-token", token, "--data-dir", data };
                string restore = CleanEnvironment + (etcdutl != null ? Sh.Quote(etcdutl) : "ETCDCTL_API=3 " + Sh.Quote(etcdctl)) +
                    " snapshot restore " + Sh.Join(new[] { snap }.Concat(member));
                if (!BackupRehearsal.Step(result, "snapshot restores", "a new one-member data dir", () =>
                {
                    var r = scratch.Shell.RunText(restore + " 2>&1", null, ct);
                    if (r.ExitCode != 0)
                        throw new ClusterDrException(ErrorIds.RehearsalFailed, ErrorKind.InvalidData, $"{(etcdutl != null ? "etcdutl" : "etcdctl")} snapshot restore failed: {BackupRehearsal.LastLines(r.StdOut)}");
                    return $"restored with {Path.GetFileName(etcdutl ?? etcdctl)} into {data}";
                })) return backup;
                File.Delete(snap);

                scratch.ReleasePorts();
                int pid = scratch.Start("etcd", CleanEnvironment + "exec " + Sh.Join(new[]
                {
                    etcd, "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
                    "--heartbeat-interval", "50", "--election-timeout", "500", "--quota-backend-bytes", "8589934592",
                }.Concat(member)), log);
                using (var c = new EtcdClient(clientUri, null, TimeSpan.FromSeconds(5)))
                {
                    EtcdEndpointStatus status = null;
                    if (!BackupRehearsal.Step(result, "serves", "a leader and a linearizable read", () =>
                    {
                        string why = BackupRehearsal.WaitUntil(() =>
                        {
                            try
                            {
                                status = c.Status(ct);
                                if (status.Leader == 0) return "no leader yet";
                                return c.ProvesQuorum(ct) ? null : "no linearizable read yet";
                            }
                            catch (ClusterDrException ex) { return ex.Message; }
                        }, pid, o.WaitTimeout, ctx);
                        if (why != null) throw new ClusterDrException(ErrorIds.RehearsalFailed, ErrorKind.InvalidData, $"etcd on {client} {why} ({scratch.Tail(log)})");
                        status = c.Status(ct);
                        result.Server = $"etcd {status.Version} on {clientUri.Authority}";
                        return $"etcd {status.Version} on {clientUri.Authority}, leader {status.Leader:x}";
                    })) return backup;
                    Compare(backup.Manifest, status.Revision, r => c.RangeRaw(r, ct), result);
                }
                return backup;
            }
        }

        /// <summary>The revision, the key count and the sample against what the backup recorded at its revision.</summary>
        internal static void Compare(BackupManifest m, long found, Func<JObject, JObject> range, RehearsalResult result)
        {
            if (!long.TryParse(m.Fact("revision"), NumberStyles.None, CultureInfo.InvariantCulture, out long revision))
            {
                result.CouldNotCompare("the revision (the manifest records none)");
                return;
            }
            if (long.TryParse(m.Fact(EtcdBackup.RevisionAfterFact), NumberStyles.None, CultureInfo.InvariantCulture, out long after) && after >= revision)
            {
                // The snapshot was taken between the two reads of the member's revision.
                string expected = after == revision ? revision.ToString(CultureInfo.InvariantCulture) : $"{revision} to {after}";
                result.Add("revision", expected, found.ToString(CultureInfo.InvariantCulture), found >= revision && found <= after);
            }
            else
            {
                result.Add("revision", "at least " + revision.ToString(CultureInfo.InvariantCulture), found.ToString(CultureInfo.InvariantCulture), found >= revision);
                result.CouldNotCompare("the exact revision (the backup predates ClusterDR recording the revision after its snapshot)");
            }
            if (found < revision) return;

            if (!long.TryParse(m.Fact(EtcdKeyFacts.CountFact), NumberStyles.None, CultureInfo.InvariantCulture, out long keys))
            {
                result.CouldNotCompare("the key count and sample (the backup predates ClusterDR recording them)");
                return;
            }
            EtcdKeyFacts now;
            try { now = EtcdKeyFacts.Read(range, revision); }
            catch (ClusterDrException ex)
            {
                result.Add($"keys at revision {revision}", keys.ToString(CultureInfo.InvariantCulture), "cannot be read: " + ex.Message, false);
                return;
            }
            result.Add($"keys at revision {revision}", keys, now.Count);
            var sample = EtcdKeyFacts.ParseSample(m.Fact(EtcdKeyFacts.SampleFact));
            var wrong = new List<string>();
            foreach (var kv in sample)
            {
                string got;
                if (!now.Sample.TryGetValue(kv.Key, out got))
                {
                    var one = range(new JObject { ["key"] = kv.Key, ["revision"] = revision.ToString(CultureInfo.InvariantCulture) });
                    var first = (one["kvs"] as JArray)?.FirstOrDefault();
                    got = first == null ? null : EtcdKeyFacts.Entry(first);
                }
                if (got != kv.Value) wrong.Add(EtcdKeyFacts.Display(kv.Key) + (got == null ? " is missing" : " differs"));
            }
            if (sample.Count > 0)
                result.Add("sampled keys", $"{sample.Count} key(s) with their mod revision and value",
                    wrong.Count == 0 ? $"all {sample.Count} read back" : string.Join(", ", wrong.Take(5)) + (wrong.Count > 5 ? $" (and {wrong.Count - 5} more)" : ""), wrong.Count == 0);
        }
    }
}
