using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Issue #12 item 3 (etcd): time to a healthy 3-member cluster from the same snapshot, Restore-EtcdSnapshot
    /// through `pwsh -File` against a shell script of the documented procedure. Each round starts from the same
    /// disaster: e2 and e3 stopped (quorum lost), e1 still running, as in the demo.
    /// </summary>
    public sealed class RestoreBench
    {
        private readonly BenchRun _b;
        public RestoreBench(BenchRun b) { _b = b; }

        public const string Ours = "Restore-EtcdSnapshot", ByHand = "by hand (sh: stop, etcdctl snapshot restore ×N, start, poll health)";

        /// <summary>An etcdctl snapshot and a Backup-EtcdSnapshot archive of the same revision (untimed), kept for the restore runs.</summary>
        public static RestoreInput TakeInput(BenchRun b, EtcdCluster c, string backupScript)
        {
            string dir = Path.Combine(b.Root, "restore-input");
            Directory.CreateDirectory(dir);
            var st = c.Status(b.Ct);
            string snap = Path.Combine(dir, "snapshot.db");
            Meter.Run(new Command("etcdctl", "--endpoints", c.Members[0].ClientUrl, "snapshot", "save", snap), null, b.Ct);
            var m = Meter.Run(b.Pwsh.Command(backupScript, "-Endpoint", c.Members[0].ClientUrl, "-Path", Path.Combine(dir, "archive")), null, b.Ct);
            var after = c.Status(b.Ct);
            if (after.Revision != st.Revision) throw new InvalidOperationException("the revision moved while taking the restore input");
            return new RestoreInput
            {
                Snapshot = snap, Archive = Scripts.Result(m).GetProperty("path").GetString(), Revision = st.Revision, DbSize = st.DbSize,
                Prefix = "/", Keys = c.CountKeys(c.Members[0], "/", b.Ct),
            };
        }

        /// <summary>The input when --backup did not run: a single-member etcd filled with cluster-like data at --size-mb.</summary>
        public static RestoreInput MakeInput(BenchRun b, int sizeMb, int writers)
        {
            var c = b.StartCluster("restore-source", 1);
            try
            {
                BenchRun.Log($"filling a source etcd with cluster-like data to {sizeMb} MB");
                c.FillTo(DataSets.ByName("cluster-like"), sizeMb * 1048576L, writers, BenchRun.Log, b.Ct);
                Thread.Sleep(1500);
                return TakeInput(b, c, Scripts.Backup(b.ScriptDir));
            }
            finally { b.StopCluster(c); }
        }

        public string Run()
        {
            var input = _b.RestoreInput ?? MakeInput(_b, _b.O.SizeMb, _b.O.Writers);
            var runs = Measure(_b, "restore", 3, input, _b.O.RestoreRounds, _b.O.Warmup, out var notes);
            return Report.RestoreSection("Restore, 3 members (issue #12 item 3)", input, runs, _b.Startup, notes, 3);
        }

        /// <summary>Rounds of both ways on one cluster of SIZE members; after each run, checks every member is healthy and serves all keys.</summary>
        public static List<Run> Measure(BenchRun b, string name, int size, RestoreInput input, int rounds, int warmup, out List<string> notes)
        {
            notes = new List<string>();
            var cluster = b.StartCluster(name, size);
            var runs = new List<Run>();
            try
            {
                string membersJson = Path.Combine(b.Root, name + "-members.json"), membersTxt = Path.Combine(b.Root, name + "-members.txt");
                File.WriteAllText(membersJson, JsonSerializer.Serialize(cluster.Members.Select(m => new { m.Name, m.PeerUrl, m.ClientUrl, m.DataDir, m.Dir })));
                File.WriteAllLines(membersTxt, cluster.Members.Select(m => $"{m.Name} {m.PeerUrl} {m.ClientUrl} {m.DataDir} {m.Dir}"));
                string script = Scripts.Restore(b.ScriptDir);
                var ways = new (string Name, Func<Command> Make)[]
                {
                    (Ours, () => b.Pwsh.Command(script, "-Archive", input.Archive, "-MembersJson", membersJson)),
                    (ByHand, () => Command.Shell(Scripts.RestoreByHand, input.Snapshot, membersTxt)),
                };
                for (int r = 1 - warmup; r <= rounds; r++)
                    for (int k = 0; k < ways.Length; k++)
                    {
                        var w = ways[(k + Math.Abs(r) + 1) % ways.Length];
                        Disaster(b, cluster);
                        var c = w.Make();
                        c.IgnoreComm.Add("etcd"); // the servers it starts are not the tool
                        c.Timeout = TimeSpan.FromMinutes(60);
                        var m = Meter.Run(c, null, b.Ct);
                        var run = new Run { Tool = w.Name, Round = r, M = m };
                        if (w.Name == Ours) run.PwshHwmKb = Scripts.HwmKb(Scripts.Result(m));
                        run.Note = Check(b, cluster, input);
                        if (run.Note != null) notes.Add($"round {r}, {w.Name}: {run.Note}");
                        BenchRun.Log($"{name} round {r}: {w.Name,-22} {m.WallS,7:0.00} s  cpu {m.CpuS,6:0.00} s  rss {m.PeakRssKb / 1024.0,6:0.0} MB  others {m.OthersCpuS:0.00} s  {run.Note ?? "healthy, all keys on every member"}");
                        if (r >= 1) runs.Add(run);
                        RemoveAside(cluster);
                    }
            }
            finally { b.StopCluster(cluster); }
            return runs;
        }

        /// <summary>The same starting point for every run: all members but the first stopped, so the cluster has no quorum (size 1: the member stopped).</summary>
        private static void Disaster(BenchRun b, EtcdCluster c)
        {
            foreach (var m in c.Members.Count == 1 ? c.Members : c.Members.Skip(1)) c.Stop(m);
            Thread.Sleep(300);
        }

        /// <summary>null when every member is healthy, at least at the snapshot's revision, and serves every key itself; else what is wrong.</summary>
        private static string Check(BenchRun b, EtcdCluster c, RestoreInput input)
        {
            var problems = new List<string>();
            foreach (var m in c.Members)
            {
                try
                {
                    if (!c.Healthy(m, b.Ct)) { problems.Add(m.Name + " not healthy"); continue; }
                    var st = c.Status(m, b.Ct);
                    if (st.Revision < input.Revision) problems.Add($"{m.Name} at revision {st.Revision} < {input.Revision}");
                    long keys = c.CountKeys(m, input.Prefix, b.Ct);
                    if (keys != input.Keys) problems.Add($"{m.Name} serves {keys} keys, not {input.Keys}");
                }
                catch (Exception ex) when (!(ex is OperationCanceledException)) { problems.Add(m.Name + ": " + ex.Message); }
            }
            return problems.Count == 0 ? null : string.Join("; ", problems);
        }

        /// <summary>Old data dirs moved aside by either way (DATA.something next to DATA), and snapshot copies: deleted after each run.</summary>
        private static void RemoveAside(EtcdCluster c)
        {
            foreach (var m in c.Members)
                foreach (var e in Directory.EnumerateFileSystemEntries(m.Dir).Where(e => Path.GetFileName(e).StartsWith(Path.GetFileName(m.DataDir) + ".", StringComparison.Ordinal)).ToList())
                {
                    if (Directory.Exists(e)) Directory.Delete(e, true); else File.Delete(e);
                }
        }
    }
}
