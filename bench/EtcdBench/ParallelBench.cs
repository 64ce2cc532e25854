using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Issue #12 item 5: five single-member clusters with cluster-like data; one pwsh backs up one of them alone,
    /// all five one after the other, and all five with ForEach-Object -Parallel -ThrottleLimit 5. Every run's
    /// archives are counted, and the first timed run of each way also goes through Test-ClusterBackup (untimed).
    /// </summary>
    public sealed class ParallelBench
    {
        public const int Clusters = 5;
        private readonly BenchRun _b;
        public ParallelBench(BenchRun b) { _b = b; }

        public const string Alone = "one backup alone", Sequential = "5 sequential (foreach in one pwsh)", Parallel = "5 with ForEach-Object -Parallel -ThrottleLimit 5";

        public string Run()
        {
            var o = _b.O;
            var clusters = new List<EtcdCluster>();
            var notes = new List<string>();
            var runs = new List<Run>();
            var failures = new List<string>();
            try
            {
                for (int i = 0; i < Clusters; i++) clusters.Add(_b.StartCluster("parallel-" + i, 1));
                BenchRun.Log($"filling {Clusters} clusters with cluster-like data to {o.ParallelMb} MB each (in parallel)");
                // A seed per cluster: five different clusters, not five copies.
                System.Threading.Tasks.Parallel.ForEach(clusters, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Writers), CancellationToken = _b.Ct },
                    c => c.FillTo(DataSets.ByName("cluster-like", 1 + clusters.IndexOf(c)), o.ParallelMb * 1048576L, 1, s => { }, _b.Ct));
                Thread.Sleep(1500);
                var dbs = clusters.Select(c => c.Status(_b.Ct)).ToList();
                BenchRun.Log("dbSize " + string.Join(", ", dbs.Select(s => (s.DbSize / 1048576.0).ToString("0") + " MB")));
                string many = Scripts.Many(_b.ScriptDir), one = Scripts.Backup(_b.ScriptDir), verify = Scripts.Verify(_b.ScriptDir);
                string eps = string.Join(",", clusters.Select(c => c.Members[0].ClientUrl));
                var watch = clusters.SelectMany(c => c.Watch()).Select((kv, i) => new KeyValuePair<string, int>("etcd " + i, kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value);
                var ways = new (string Name, int Expect, Func<string, Command> Make)[]
                {
                    (Alone, 1, dir => _b.Pwsh.Command(one, "-Endpoint", clusters[0].Members[0].ClientUrl, "-Path", Path.Combine(dir, "c0"))),
                    (Sequential, Clusters, dir => _b.Pwsh.Command(many, "-Endpoints", eps, "-OutDir", dir, "-Mode", "sequential")),
                    (Parallel, Clusters, dir => _b.Pwsh.Command(many, "-Endpoints", eps, "-OutDir", dir, "-Mode", "parallel")),
                };
                var verified = new HashSet<string>();
                for (int r = 1 - o.Warmup; r <= o.ParallelRounds; r++)
                    for (int k = 0; k < ways.Length; k++)
                    {
                        var w = ways[(k + Math.Abs(r) + 2) % ways.Length];
                        string dir = Path.Combine(_b.Root, "parallel-out");
                        Directory.CreateDirectory(dir);
                        var run = new Run { Tool = w.Name, Round = r };
                        try
                        {
                            var m = Meter.Run(w.Make(dir), watch, _b.Ct);
                            run.M = m;
                            var res = Scripts.Result(m);
                            run.PwshHwmKb = Scripts.HwmKb(res);
                            var archives = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".partial", StringComparison.Ordinal)).ToList();
                            run.OutBytes = archives.Sum(f => new FileInfo(f).Length);
                            if (archives.Count != w.Expect) run.Note = $"{archives.Count} archives, expected {w.Expect}";
                            if (r >= 1 && verified.Add(w.Name))
                            {
                                var v = Meter.Run(_b.Pwsh.Command(verify, "-Dir", dir), null, _b.Ct);
                                int ok = v.Stdout.Split('\n').Count(l => l.StartsWith("VERIFY True", StringComparison.Ordinal));
                                if (ok != w.Expect)
                                {
                                    run.Note = (run.Note == null ? "" : run.Note + "; ") + $"Test-ClusterBackup verified {ok} of {w.Expect}";
                                    failures.Add($"{w.Name}, round {r}: Test-ClusterBackup verified {ok} of {w.Expect}: {Meter.Tail(v.Stdout, 10)} {Meter.Tail(v.Stderr, 10)}");
                                }
                                else notes.Add($"{w.Name}: the {ok} archive(s) of round {r} pass Test-ClusterBackup.");
                            }
                        }
                        catch (Exception ex) when (!(ex is OperationCanceledException))
                        {
                            // Reported, not fatal: the module is being made runspace-safe; the other ways still run.
                            run.Note = "FAILED: " + ex.Message.Trim();
                            failures.Add($"{w.Name}, round {r}: {ex.Message.Trim()}");
                        }
                        BenchRun.Log($"parallel round {r}: {w.Name,-48} {(run.M != null ? $"{run.M.WallS,7:0.00} s  cpu {run.M.CpuS,6:0.00} s  rss {run.M.PeakRssKb / 1024.0,6:0.0} MB  others {run.M.OthersCpuS:0.00} s" : "")} {run.Note}");
                        if (r >= 1) runs.Add(run);
                        Directory.Delete(dir, true);
                        Thread.Sleep(300);
                    }
                var after = clusters.Select(c => c.Status(_b.Ct)).ToList();
                for (int i = 0; i < Clusters; i++)
                    if (after[i].Revision != dbs[i].Revision) notes.Add($"WARNING: cluster {i}'s revision moved from {dbs[i].Revision} to {after[i].Revision}.");
                return Report.ParallelSection(o, dbs, runs, _b.Startup, notes, failures);
            }
            finally { foreach (var c in clusters) _b.StopCluster(c); }
        }
    }
}
