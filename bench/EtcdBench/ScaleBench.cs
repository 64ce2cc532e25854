using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Issue #12 item 4 (etcd): one etcd filled with cluster-like data up to its 8 GiB quota (minus a margin, so
    /// NOSPACE is not raised), then Backup-EtcdSnapshot vs etcdctl snapshot save, and a single-member
    /// Restore-EtcdSnapshot vs the by-hand script, with pwsh's own memory (idle after Import-Module) reported
    /// apart so that "engine memory over pwsh's own" can be judged.
    /// </summary>
    public sealed class ScaleBench
    {
        private readonly BenchRun _b;
        public ScaleBench(BenchRun b) { _b = b; }

        public const string Ours = "Backup-EtcdSnapshot (defaults)", Etcdctl = "etcdctl snapshot save";

        public string Run()
        {
            var o = _b.O;
            var runs = new List<Run>();
            var notes = new List<string>();
            var si = new SetInfo { Set = "cluster-like" };
            RestoreInput input;
            // Database + WAL, the kept snapshot and archive, then a restored member with its copy and the old dir aside.
            long need = 5L * o.ScaleMb << 20, free = new DriveInfo(_b.Root).AvailableFreeSpace;
            if (free < need) throw new IOException($"--scale needs about {need >> 30} GiB free under {_b.Root}; {free >> 30} GiB are (use --work-dir or a smaller --scale-mb).");
            var cluster = _b.StartCluster("scale", 1);
            try
            {
                BenchRun.Log($"filling to {o.ScaleMb} MB with cluster-like data, {o.ScaleWriters} writers");
                var sw = Stopwatch.StartNew();
                cluster.FillTo(DataSets.ByName("cluster-like"), o.ScaleMb * 1048576L, o.ScaleWriters, BenchRun.Log, _b.Ct);
                si.FillS = sw.Elapsed.TotalSeconds;
                Thread.Sleep(3000);
                var before = cluster.Status(_b.Ct);
                si.DbSize = before.DbSize; si.Revision = before.Revision; si.Keys = cluster.PutCount; si.ValueBytes = cluster.PutBytes; si.EtcdRssKb = cluster.RssKb(cluster.Members[0]);
                string ep = cluster.Members[0].ClientUrl, script = Scripts.Backup(_b.ScriptDir);
                string keep = Path.Combine(_b.Root, "restore-input");
                Directory.CreateDirectory(keep);
                input = new RestoreInput { Revision = before.Revision, DbSize = before.DbSize, Prefix = "/" };
                for (int r = 1; r <= o.ScaleRounds; r++)
                {
                    bool last = r == o.ScaleRounds;
                    foreach (var tool in r % 2 == 1 ? new[] { Ours, Etcdctl } : new[] { Etcdctl, Ours })
                    {
                        string dir = Path.Combine(_b.Root, "scale-out");
                        Directory.CreateDirectory(dir);
                        var c = tool == Ours ? _b.Pwsh.Command(script, "-Endpoint", ep, "-Path", dir) : new Command("etcdctl", "--endpoints", ep, "snapshot", "save", Path.Combine(dir, "snapshot.db"));
                        var m = Meter.Run(c, cluster.Watch(), _b.Ct);
                        var run = new Run { Tool = tool, Round = r, M = m };
                        string file;
                        if (tool == Ours)
                        {
                            var j = Scripts.Result(m);
                            file = j.GetProperty("path").GetString();
                            run.PwshHwmKb = Scripts.HwmKb(j);
                        }
                        else file = Path.Combine(dir, "snapshot.db");
                        run.OutBytes = new FileInfo(file).Length;
                        BenchRun.Log($"scale round {r}: {tool,-32} {m.WallS,7:0.00} s  cpu {m.CpuS,6:0.00} s  rss {m.PeakRssKb / 1024.0,6:0.0} MB  pwsh hwm {run.PwshHwmKb / 1024.0:0.0} MB  out {run.OutBytes / 1048576.0:0} MB  others {m.OthersCpuS:0.00} s");
                        runs.Add(run);
                        if (last)
                        {
                            // The last round's outputs are the restore's input: same revision, same data.
                            string to = Path.Combine(keep, (tool == Ours ? "archive-" : "") + Path.GetFileName(file));
                            File.Move(file, to);
                            if (tool == Ours) input.Archive = to; else input.Snapshot = to;
                        }
                        Directory.Delete(dir, true);
                        Thread.Sleep(500);
                    }
                }
                input.Keys = cluster.CountKeys(cluster.Members[0], "/", _b.Ct);
                si.RevisionAfter = cluster.Status(_b.Ct).Revision;
                if (si.RevisionAfter != si.Revision) notes.Add($"WARNING: the revision moved from {si.Revision} to {si.RevisionAfter}.");
            }
            finally { _b.StopCluster(cluster); } // its 2× database on disk is not needed for the restore
            var restores = RestoreBench.Measure(_b, "scale-restore", 1, input, o.ScaleRounds, 0, out var rnotes);
            notes.AddRange(rnotes);
            return Report.ScaleSection(o, si, runs, restores, input, _b.Startup, notes);
        }
    }
}
