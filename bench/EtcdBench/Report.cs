using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>The markdown report, one section per mode.</summary>
    public static class Report
    {
        public const double RatioTarget = 1.10, EngineRssTargetMb = 100;

        public static string F(double v, string fmt = "0.00") => double.IsNaN(v) || double.IsInfinity(v) ? "n/a" : v.ToString(fmt, CultureInfo.InvariantCulture);
        public static string Mb(double bytes) => F(bytes / 1048576.0, "0.0");
        public static string MbKb(double kb) => kb < 0 ? "n/a" : F(kb / 1024.0, "0.0");
        private static string Ok(double ratio) => double.IsNaN(ratio) ? "" : ratio <= RatioTarget ? " ✅" : " ❌";

        /// <summary>A wall time minus pwsh start+import; n/a when the machine's noise makes it meaningless (≤ 0).</summary>
        private static double Net(double wall, StartupCost s) => wall - s.MedianWallS > 0 ? wall - s.MedianWallS : double.NaN;

        private static double MedianWall(IEnumerable<Run> rs) => Stats.Median(rs.Where(r => r.M != null).Select(r => r.M.WallS));
        private static string Range(IEnumerable<Run> rs)
        {
            var w = rs.Where(r => r.M != null).Select(r => r.M.WallS).ToList();
            return w.Count < 2 ? "" : $" ({F(w.Min())}–{F(w.Max())})";
        }
        private static double MaxPeak(IEnumerable<Run> rs) => rs.Where(r => r.M != null).Select(r => (double)r.M.PeakRssKb).DefaultIfEmpty(double.NaN).Max();
        private static double MaxHwm(IEnumerable<Run> rs) => rs.Where(r => r.PwshHwmKb > 0).Select(r => (double)r.PwshHwmKb).DefaultIfEmpty(-1).Max();

        public static string StartupSection(StartupCost s)
        {
            var sb = new StringBuilder();
            sb.Append("## pwsh start + Import-Module ClusterDR (reported apart)\n\n");
            sb.Append("`pwsh -NoProfile -NonInteractive -File` of a script that only imports the module; part of every pwsh figure below.\n\n");
            sb.Append("| median wall s | CPU s | peak RSS MB | pwsh RSS right after import, MB | pwsh VmHWM after import, MB | rounds |\n|---:|---:|---:|---:|---:|---:|\n");
            sb.Append($"| {F(s.MedianWallS)}{Range(s.Runs.Select(m => new Run { M = m }))} | {F(s.MedianCpuS)} | {MbKb(s.MedianPeakRssKb)} | {MbKb(s.MedianIdleRssKb)} | {MbKb(s.MedianImportHwmKb)} | {s.Runs.Count} |\n");
            return sb.ToString();
        }

        public static string BackupSection(Options o, List<SetInfo> sets, List<Run> runs, List<string> tools, StartupCost startup, List<string> notes)
        {
            var sb = new StringBuilder();
            void L(string s = "") => sb.Append(s).Append('\n');
            L("## Backup (issue #12 items 1–2): `Backup-EtcdSnapshot -Endpoint URL -Path DIR` through pwsh vs by hand");
            L();
            L($"Single-member etcd, {o.Warmup} untimed warm-up + {o.Rounds} timed rounds per tool, the first tool rotating each round; every output deleted after its run; no writes while measuring. ");
            L("Ratio = median wall / median wall of `etcdctl snapshot save`. Archive/snapshot = output size / etcdctl's snapshot file size.");
            L();
            foreach (var si in sets)
            {
                var rs = runs.Where(r => r.DataSet == si.Set).ToList();
                double snap = Stats.Median(rs.Where(r => r.Tool == "etcdctl snapshot save").Select(r => (double)r.OutBytes));
                double baseWall = MedianWall(rs.Where(r => r.Tool == "etcdctl snapshot save"));
                L($"### {si.Set}: dbSize {Mb(si.DbSize)} MB");
                L();
                L($"{si.Description}; {si.Keys} keys, {Mb(si.ValueBytes)} MB of keys+values written in {F(si.FillS, "0")} s; revision {si.Revision} {(si.Revision == si.RevisionAfter ? "unchanged" : "MOVED to " + si.RevisionAfter)} while measuring; etcd RSS {MbKb(si.EtcdRssKb)} MB.");
                L();
                L("| tool | median wall s (min–max) | ratio to etcdctl | CPU s | peak RSS MB (max) | archive MB | archive / snapshot | etcd CPU s | others CPU s |");
                L("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var t in tools)
                {
                    var tr = rs.Where(r => r.Tool == t).ToList();
                    double w = MedianWall(tr), ratio = w / baseWall;
                    double outB = Stats.Median(tr.Select(r => (double)r.OutBytes));
                    bool ours = t.StartsWith("Backup-", StringComparison.Ordinal);
                    L($"| {(ours ? "**" + t + "**" : t)} | {F(w)}{Range(tr)} | {(ours && !t.Contains("-CompressionLevel") ? "**" + F(ratio) + "**" + Ok(ratio) : F(ratio))} | {F(Stats.Median(tr.Select(r => r.M.CpuS)))} | {MbKb(MaxPeak(tr))} | {Mb(outB)} | {F(outB / snap, "0.000")} | {F(Stats.Median(tr.Select(r => r.M.WatchedTotalCpuS)))} | {F(Stats.Median(tr.Select(r => r.M.OthersCpuS)))} |");
                }
                var def = rs.Where(r => r.Tool == tools[0]).ToList();
                double net = Net(MedianWall(def), startup);
                L($"| _{tools[0]} minus pwsh start+import ({F(startup.MedianWallS)} s)_ | {F(net)} | {F(net / baseWall)} | {F(Stats.Median(def.Select(r => r.M.CpuS)) - startup.MedianCpuS)} | | | | | |");
                L();
                L($"pwsh's own high-water mark in the backup runs (VmHWM): max {MbKb(MaxHwm(def))} MB, against {MbKb(startup.MedianImportHwmKb)} MB after Import-Module alone.");
                L();
                L("<details><summary>every run</summary>\n");
                L("| round | tool | wall s | CPU s | peak RSS MB (largest process / tree sum) | out MB | etcd CPU s | others CPU s | load after |");
                L("|---:|---|---:|---:|---:|---:|---:|---:|---|");
                foreach (var r in rs)
                    L($"| {r.Round} | {r.Tool} | {F(r.M.WallS)} | {F(r.M.CpuS)} | {MbKb(r.M.MaxRssKb)} / {MbKb(r.M.TreeRssPeakKb)} | {Mb(r.OutBytes)} | {F(r.M.WatchedTotalCpuS)} | {F(r.M.OthersCpuS)} | `{r.M.LoadAvgAfter}` |");
                L("\n</details>\n");
            }
            foreach (var n in notes) L("- " + n);
            return sb.ToString();
        }

        public static string RestoreSection(string title, RestoreInput input, List<Run> runs, StartupCost startup, List<string> notes, int size)
        {
            var sb = new StringBuilder();
            void L(string s = "") => sb.Append(s).Append('\n');
            L($"## {title}");
            L();
            L($"Snapshot: dbSize {Mb(input.DbSize)} MB, revision {input.Revision}, {input.Keys} keys (cluster-like). Both ways restore the same data: the by-hand script the etcdctl snapshot file, " +
              "the cmdlet the Backup-EtcdSnapshot archive taken at the same revision. " +
              (size > 1 ? $"Each run starts from the same disaster: {size - 1} of {size} members stopped (no quorum), the first still running. " : "Each run starts with the member stopped. ") +
              "A run ends when the tool exits (the cmdlet waits for all members healthy, the script polls `etcdctl endpoint health` every 0.2 s); right after, every member is checked to be healthy, at or past the snapshot's revision and serving every key itself (serializable count). " +
              "Old data dirs moved aside are deleted after each run. Ratio = median wall / median wall by hand (target ≤ 1.10).");
            L();
            L("| way | median wall s (min–max) | ratio to by hand | CPU s | peak RSS MB (max, etcd servers excluded) | pwsh VmHWM MB | healthy and serving all keys |");
            L("|---|---:|---:|---:|---:|---:|---:|");
            double hand = MedianWall(runs.Where(r => r.Tool == RestoreBench.ByHand));
            foreach (var way in new[] { RestoreBench.Ours, RestoreBench.ByHand })
            {
                var tr = runs.Where(r => r.Tool == way).ToList();
                double w = MedianWall(tr), ratio = w / hand;
                L($"| {(way == RestoreBench.Ours ? "**" + way + " -Confirm:$false**" : way)} | {F(w)}{Range(tr)} | {(way == RestoreBench.Ours ? "**" + F(ratio) + "**" + Ok(ratio) : "1.00")} | {F(Stats.Median(tr.Select(r => r.M.CpuS)))} | {MbKb(MaxPeak(tr))} | {MbKb(MaxHwm(tr))} | {tr.Count(r => r.Note == null)} of {tr.Count} |");
            }
            var ours = runs.Where(r => r.Tool == RestoreBench.Ours).ToList();
            double net = Net(MedianWall(ours), startup);
            L($"| _{RestoreBench.Ours} minus pwsh start+import_ | {F(net)} | {F(net / hand)} | | | | |");
            L();
            L("<details><summary>every run</summary>\n");
            L("| round | way | wall s | CPU s | peak RSS MB (largest / tree sum) | others CPU s | check |");
            L("|---:|---|---:|---:|---:|---:|---|");
            foreach (var r in runs) L($"| {r.Round} | {r.Tool} | {F(r.M.WallS)} | {F(r.M.CpuS)} | {MbKb(r.M.MaxRssKb)} / {MbKb(r.M.TreeRssPeakKb)} | {F(r.M.OthersCpuS)} | {r.Note ?? "ok"} |");
            L("\n</details>\n");
            foreach (var n in notes) L("- " + n);
            return sb.ToString();
        }

        public static string ParallelSection(Options o, List<EtcdStatus> dbs, List<Run> runs, StartupCost startup, List<string> notes, List<string> failures)
        {
            var sb = new StringBuilder();
            void L(string s = "") => sb.Append(s).Append('\n');
            L("## Parallel (issue #12 item 5): five clusters from one pwsh");
            L();
            L($"Five single-member etcd clusters with cluster-like data (dbSize {string.Join(", ", dbs.Select(d => Mb(d.DbSize)))} MB); each way is one `pwsh -File` run (start + import included), {o.Warmup} warm-up + {o.ParallelRounds} timed rounds, order rotating; each backup into its own directory; archives counted after every run, the first timed run of each way also checked with Test-ClusterBackup.");
            L();
            L("| way | median wall s (min–max) | per backup s | CPU s | peak RSS MB (max) | pwsh VmHWM MB | archives MB | problems |");
            L("|---|---:|---:|---:|---:|---:|---:|---|");
            foreach (var (way, n) in new[] { (ParallelBench.Alone, 1), (ParallelBench.Sequential, ParallelBench.Clusters), (ParallelBench.Parallel, ParallelBench.Clusters) })
            {
                var tr = runs.Where(r => r.Tool == way).ToList();
                double w = MedianWall(tr);
                L($"| {way} | {F(w)}{Range(tr)} | {F(w / n)} | {F(Stats.Median(tr.Where(r => r.M != null).Select(r => r.M.CpuS)))} | {MbKb(MaxPeak(tr))} | {MbKb(MaxHwm(tr))} | {Mb(Stats.Median(tr.Where(r => r.OutBytes > 0).Select(r => (double)r.OutBytes)))} | {string.Join("; ", tr.Where(r => r.Note != null).Select(r => $"round {r.Round}: {r.Note.Split('\n')[0]}"))} |");
            }
            double alone = MedianWall(runs.Where(r => r.Tool == ParallelBench.Alone)), seq = MedianWall(runs.Where(r => r.Tool == ParallelBench.Sequential)), par = MedianWall(runs.Where(r => r.Tool == ParallelBench.Parallel));
            L();
            L($"- speed-up of -Parallel (sequential / parallel wall): **{F(seq / par)}×**; parallel / one alone: **{F(par / alone)}×**; the same without pwsh start+import ({F(startup.MedianWallS)} s, measured apart): {F(Net(seq, startup) / Net(par, startup))}× and {F(Net(par, startup) / Net(alone, startup))}×. ({Environment.ProcessorCount} cores: five backups and five etcd servers share them.)");
            foreach (var f in failures) L($"- **FAILED** {f.Replace("\n", " ")}");
            foreach (var n in notes) L("- " + n);
            return sb.ToString();
        }

        public static string ScaleSection(Options o, SetInfo si, List<Run> backups, List<Run> restores, RestoreInput input, StartupCost startup, List<string> notes)
        {
            var sb = new StringBuilder();
            void L(string s = "") => sb.Append(s).Append('\n');
            L("## Scale (issue #12 item 4, etcd): a database at the 8 GiB quota");
            L();
            L($"Cluster-like data: dbSize {Mb(si.DbSize)} MB (target {o.ScaleMb} MB; quota {EtcdCluster.QuotaBytes >> 20} MB), {si.Keys} keys, {Mb(si.ValueBytes)} MB written in {F(si.FillS, "0")} s ({o.ScaleWriters} writers, transactions of up to {EtcdCluster.TxnMaxOps} puts / {EtcdCluster.TxnMaxBytes / 1000} KB); revision {(si.Revision == si.RevisionAfter ? "unchanged" : "MOVED")}; etcd RSS {MbKb(si.EtcdRssKb)} MB. {o.ScaleRounds} timed round(s), no warm-up.");
            L();
            double idle = startup.MedianImportHwmKb;
            L($"pwsh's own memory: {MbKb(startup.MedianImportHwmKb)} MB high-water mark (VmHWM) of a pwsh that only imported the module ({MbKb(startup.MedianIdleRssKb)} MB resident at that point). *Engine over pwsh* = the pwsh process's VmHWM during the run minus that high-water mark (target < {EngineRssTargetMb:0} MB).");
            L();
            L("| run | median wall s | ratio to etcdctl / by hand | CPU s | peak RSS MB, whole tree (max) | pwsh VmHWM MB (max) | engine over pwsh MB | output MB |");
            L("|---|---:|---:|---:|---:|---:|---:|---:|");
            double bBase = MedianWall(backups.Where(r => r.Tool == ScaleBench.Etcdctl)), rBase = MedianWall(restores.Where(r => r.Tool == RestoreBench.ByHand));
            void Row(string name, List<Run> tr, double baseWall, bool ours)
            {
                double w = MedianWall(tr), hwm = MaxHwm(tr);
                L($"| {(ours ? "**" + name + "**" : name)} | {F(w)}{Range(tr)} | {(ours ? "**" + F(w / baseWall) + "**" + Ok(w / baseWall) : "1.00")} | {F(Stats.Median(tr.Select(r => r.M.CpuS)))} | {MbKb(MaxPeak(tr))} | {MbKb(hwm)} | {(ours ? "**" + MbKb(hwm - idle) + "**" + (hwm < 0 ? "" : (hwm - idle) / 1024 < EngineRssTargetMb ? " ✅" : " ❌") : "")} | {Mb(Stats.Median(tr.Where(r => r.OutBytes > 0).Select(r => (double)r.OutBytes)))} |");
            }
            Row("Backup-EtcdSnapshot (defaults)", backups.Where(r => r.Tool == ScaleBench.Ours).ToList(), bBase, true);
            Row("etcdctl snapshot save", backups.Where(r => r.Tool == ScaleBench.Etcdctl).ToList(), bBase, false);
            Row("Restore-EtcdSnapshot, 1 member", restores.Where(r => r.Tool == RestoreBench.Ours).ToList(), rBase, true);
            Row("by hand: stop, etcdctl snapshot restore, start, poll health", restores.Where(r => r.Tool == RestoreBench.ByHand).ToList(), rBase, false);
            L();
            L("The whole tree's peak includes the programs a cmdlet runs (etcdctl snapshot restore maps the database it writes), so the pwsh process's own VmHWM is what judges the engine.");
            L();
            L("<details><summary>every run</summary>\n");
            L("| round | run | wall s | CPU s | peak RSS MB (largest / tree sum) | pwsh VmHWM MB | etcd CPU s | others CPU s | check |");
            L("|---:|---|---:|---:|---:|---:|---:|---:|---|");
            foreach (var r in backups.Concat(restores)) L($"| {r.Round} | {r.Tool} | {F(r.M.WallS)} | {F(r.M.CpuS)} | {MbKb(r.M.MaxRssKb)} / {MbKb(r.M.TreeRssPeakKb)} | {MbKb(r.PwshHwmKb)} | {(r.M.WatchedCpuS.Count == 0 ? "n/a" : F(r.M.WatchedTotalCpuS))} | {F(r.M.OthersCpuS)} | {r.Note ?? "ok"} |");
            L("\n</details>\n");
            foreach (var n in notes) L("- " + n);
            return sb.ToString();
        }
    }
}
