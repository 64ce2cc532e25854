using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>One timed run of one tool.</summary>
    public sealed class Run
    {
        public string Tool, DataSet;
        public int Round;
        public Measurement M;
        public long OutBytes = -1, PwshHwmKb = -1;
        public string Note;
    }

    /// <summary>
    /// Issue #12 items 1–2: Backup-EtcdSnapshot with its defaults through `pwsh -File`, against `etcdctl snapshot
    /// save` and the by-hand compressions, per data set, on a single-member etcd at --size-mb.
    /// </summary>
    public sealed class BackupBench
    {
        private readonly BenchRun _b;
        private readonly List<Run> _runs = new List<Run>();
        private readonly List<string> _notes = new List<string>();

        public BackupBench(BenchRun b) { _b = b; }

        private sealed class Tool
        {
            public string Name;
            public Func<string, string, Command> Make; // (endpoint, out dir) → command
            public bool Ours;
        }

        public string Run()
        {
            var o = _b.O;
            string script = Scripts.Backup(_b.ScriptDir);
            var tools = new List<Tool>
            {
                new Tool { Name = "Backup-EtcdSnapshot (defaults)", Ours = true, Make = (ep, dir) => _b.Pwsh.Command(script, "-Endpoint", ep, "-Path", dir) },
                new Tool { Name = "etcdctl snapshot save", Make = (ep, dir) => new Command("etcdctl", "--endpoints", ep, "snapshot", "save", Path.Combine(dir, "snapshot.db")) },
                new Tool { Name = "etcdctl snapshot save && gzip -1", Make = (ep, dir) => Command.Shell(Scripts.SaveThenGzip, ep, Path.Combine(dir, "snapshot.db")) },
                new Tool { Name = "etcdctl snapshot save && zstd -1", Make = (ep, dir) => Command.Shell(Scripts.SaveThenZstd, ep, Path.Combine(dir, "snapshot.db")) },
            };
            foreach (var level in o.Variants)
                tools.Add(new Tool { Name = "Backup-EtcdSnapshot -CompressionLevel " + level, Ours = true, Make = (ep, dir) => _b.Pwsh.Command(script, "-Endpoint", ep, "-Path", dir, "-CompressionLevel", level) });

            var info = new List<SetInfo>();
            foreach (string set in o.DataSets)
            {
                var data = DataSets.ByName(set);
                var cluster = _b.StartCluster("backup-" + set, 1);
                try
                {
                    var si = new SetInfo { Set = set, Description = data.Description };
                    BenchRun.Log($"filling with {set} data to {o.SizeMb} MB, {o.Writers} writers");
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    cluster.FillTo(data, o.SizeMb * 1048576L, o.Writers, BenchRun.Log, _b.Ct);
                    si.FillS = sw.Elapsed.TotalSeconds;
                    Thread.Sleep(1500); // let etcd's batch commit and the fill's writeback settle
                    var before = cluster.Status(_b.Ct);
                    si.DbSize = before.DbSize; si.Revision = before.Revision; si.Keys = cluster.PutCount; si.ValueBytes = cluster.PutBytes;
                    si.EtcdRssKb = cluster.RssKb(cluster.Members[0]);
                    string ep = cluster.Members[0].ClientUrl;
                    string outDir = Path.Combine(_b.Root, "out");
                    for (int w = 1; w <= o.Warmup; w++)
                        foreach (var t in tools) Once(t, set, -w, ep, outDir, cluster);
                    for (int r = 1; r <= o.Rounds; r++)
                        for (int k = 0; k < tools.Count; k++)
                            _runs.Add(Once(tools[(k + r - 1) % tools.Count], set, r, ep, outDir, cluster)); // the first tool rotates
                    var after = cluster.Status(_b.Ct);
                    si.RevisionAfter = after.Revision;
                    if (after.Revision != before.Revision) _notes.Add($"WARNING: {set}: the revision moved from {before.Revision} to {after.Revision} while measuring.");
                    info.Add(si);
                    if (set == "cluster-like" && o.Restore) _b.RestoreInput = RestoreBench.TakeInput(_b, cluster, script);
                }
                finally { _b.StopCluster(cluster); }
            }
            return Report.BackupSection(o, info, _runs, tools.Select(t => t.Name).ToList(), _b.Startup, _notes);
        }

        private Run Once(Tool t, string set, int round, string ep, string outDir, EtcdCluster cluster)
        {
            Directory.CreateDirectory(outDir);
            var c = t.Make(ep, outDir);
            var m = Meter.Run(c, cluster.Watch(), _b.Ct);
            var run = new Run { Tool = t.Name, DataSet = set, Round = round, M = m };
            if (t.Ours)
            {
                var j = Scripts.Result(m);
                string path = j.GetProperty("path").GetString();
                run.OutBytes = new FileInfo(path).Length; // the cmdlet's output object names the archive: no assumed extension
                run.PwshHwmKb = Scripts.HwmKb(j);
                if (Path.GetDirectoryName(Path.GetFullPath(path)) != Path.GetFullPath(outDir)) run.Note = "archive outside -Path: " + path;
            }
            else
            {
                var files = Directory.GetFiles(outDir);
                if (files.Length != 1) throw new InvalidOperationException($"{t.Name} left {files.Length} files in {outDir}: {string.Join(", ", files)}");
                run.OutBytes = new FileInfo(files[0]).Length;
            }
            BenchRun.Log($"{set} round {round}: {t.Name,-36} {m.WallS,7:0.00} s  cpu {m.CpuS,6:0.00} s  rss {m.PeakRssKb / 1024.0,6:0.0} MB  out {run.OutBytes / 1048576.0,7:0.0} MB  etcd cpu {m.WatchedTotalCpuS:0.00} s  others {m.OthersCpuS:0.00} s");
            Directory.Delete(outDir, true);
            Thread.Sleep(300); // let the deleted file's blocks go before the next run
            return run;
        }
    }

    public sealed class SetInfo
    {
        public string Set, Description;
        public long DbSize, Revision, RevisionAfter, Keys, ValueBytes, EtcdRssKb;
        public double FillS;
    }
}
