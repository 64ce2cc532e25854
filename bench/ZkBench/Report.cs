using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    public static class Report
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        private static string F(double s) => double.IsNaN(s) ? "n/a" : s.ToString("0.00", Inv) + " s";
        private static string MB(double kb) => double.IsNaN(kb) || kb < 0 ? "n/a" : (kb / 1024).ToString("0", Inv) + " MB";
        private static string MiB(double bytes) => double.IsNaN(bytes) || bytes < 0 ? "n/a" : (bytes / 1048576).ToString("0.0", Inv) + " MiB";
        private static string Ratio(double a, double b) => double.IsNaN(a) || double.IsNaN(b) || b == 0 ? "n/a" : (a / b).ToString("0.00", Inv);

        public static string Build(Options o, Pwsh pwsh, StartupCost startup, List<SetResult> sets)
        {
            var sb = new StringBuilder();
            sb.AppendLine($"### ZkBench: Backup-ZkState / Restore-ZkState through pwsh vs by hand, 3-node ensemble on 127.0.0.1");
            sb.AppendLine();
            sb.AppendLine($"- Machine: {Environment.ProcessorCount} cores, bench nice {Machine.Nice()} (the JVMs and every measured process inherit it), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
            sb.AppendLine($"- pwsh: `{pwsh?.Description}` `-NoProfile -NonInteractive -File`; module `{pwsh?.ModuleManifest}`.");
            if (startup != null)
                sb.AppendLine($"- pwsh start + `Import-Module ClusterDR` alone (median of {startup.Runs.Count}): wall {F(startup.MedianWallS)}, CPU {F(startup.MedianCpuS)}, " +
                    $"peak RSS {MB(startup.MedianPeakRssKb)}; **idle pwsh VmRSS after the import: {MB(startup.MedianIdleRssKb)}** (after a full GC; VmHWM {MB(startup.MedianImportHwmKb)}).");
            sb.AppendLine("- Every figure is for the whole process tree the side started (ours: pwsh and whatever the cmdlet runs; manual: sh and its tar, gzip, nc...): " +
                "wall from spawn to exit, CPU = user+sys from wait4, peak RSS = the larger of the tree's sampled sum and the largest single process's ru_maxrss. " +
                "The ZooKeeper JVMs that start.sh leaves running are not counted on either side.");
            sb.AppendLine($"- Manual polling every 250 ms (`echo srvr | busybox nc`), the engine's own interval; an outside srvr watcher every {o.WatchMs} ms times the downtime both sides alike.");
            sb.AppendLine(o.WriteAfterRestore
                ? "- After each restore (untimed): one marker znode created through the leader, so the new leader epoch has a transaction (see bench/ZOOKEEPER.md on the catch-up check)."
                : "- No write after the restores (--no-write-after-restore).");
            foreach (var s in sets) Set(sb, s, startup);
            return sb.ToString();
        }

        private static List<Run> Of(SetResult s, string phase, string who) => s.Runs.Where(r => r.Phase == phase && r.Who == who).ToList();

        private static void Set(StringBuilder sb, SetResult s, StartupCost startup)
        {
            sb.AppendLine();
            sb.AppendLine($"#### Data set `{s.Name}`: {s.Rounds} round(s) after {s.Warmup} warm-up, -Xmx{s.Heap}");
            sb.AppendLine();
            sb.AppendLine($"- {s.LoadLine ?? "(not loaded)"}.");
            sb.AppendLine($"- `uptime` at start: `{s.StartUptime}`; at end: `{s.EndUptime}`.");
            sb.AppendLine();
            sb.AppendLine("| Measure | ours median | ours min–max | manual median | manual min–max | ours/manual |");
            sb.AppendLine("|---|---|---|---|---|---|");
            void Row(string title, string phase, Func<Run, double> ours, Func<Run, double> manual, Func<double, string> fmt)
            {
                var a = Of(s, phase, "ours").Select(ours).Where(x => !double.IsNaN(x)).ToList();
                var b = Of(s, phase, "manual").Select(manual).Where(x => !double.IsNaN(x)).ToList();
                if (a.Count == 0 && b.Count == 0) return;
                double ma = Stats.Median(a), mb = Stats.Median(b);
                string Range(List<double> v) => v.Count == 0 ? "n/a" : $"{fmt(v.Min())}–{fmt(v.Max())}";
                sb.AppendLine($"| {title} | {fmt(ma)} | {Range(a)} | {fmt(mb)} | {Range(b)} | {Ratio(ma, mb)} |");
            }
            double K(Run r, string k) => r.S.TryGetValue(k, out var v) ? v : double.NaN;
            Row("Backup: whole run, spawn → exit (ours: pwsh + Backup-ZkState; manual: stop, tar -czf, start, serving)", "backup", r => r.M.WallS, r => r.M.WallS, F);
            Row("Backup: node downtime (ours: manifest `downtimeMs`; manual: stop.sh → srvr serving)", "backup", r => K(r, "downtimeMs fact"), r => K(r, "stop->serving"), F);
            Row("Backup: downtime seen from outside (srvr watcher: first failed probe → first serving)", "backup", r => K(r, "srvr down->serving"), r => K(r, "srvr down->serving"), F);
            Row("Backup: CPU user+sys of the tree", "backup", r => r.M.CpuS, r => r.M.CpuS, F);
            Row("Backup: peak RSS of the tree", "backup", r => r.M.PeakRssKb, r => r.M.PeakRssKb, MB);
            Row("Backup: archive size (ours: the cmdlet's .Path; manual: tar.gz)", "backup", r => r.ArchiveBytes, r => r.ArchiveBytes, MiB);
            Row("**Restore: time to a serving ensemble** (spawn → all 3 serve with one leader: ours when Restore-ZkState returned; manual: the script's last poll)", "restore", r => K(r, "spawn->serving"), r => K(r, "spawn->serving"), F);
            Row("Restore: whole run, spawn → exit", "restore", r => r.M.WallS, r => r.M.WallS, F);
            Row("Restore: CPU user+sys of the tree", "restore", r => r.M.CpuS, r => r.M.CpuS, F);
            Row("Restore: peak RSS of the tree", "restore", r => r.M.PeakRssKb, r => r.M.PeakRssKb, MB);
            sb.AppendLine();
            var ours = s.Runs.Where(r => r.Who == "ours" && r.Script != null).ToList();
            if (ours.Count > 0)
            {
                double idle = startup?.MedianIdleRssKb ?? double.NaN;
                sb.AppendLine("Where ours spends its time (medians; pwsh start = spawn → first line of the script, exit = cmdlet returned → process gone), and the pwsh process's own memory:");
                sb.AppendLine();
                sb.AppendLine("| cmdlet | pwsh start | Import-Module | cmdlet | exit | VmRSS after import | VmHWM at the end | VmHWM − idle pwsh VmRSS (target < 100 MB) |");
                sb.AppendLine("|---|---|---|---|---|---|---|---|");
                foreach (var (phase, name) in new[] { ("backup", "Backup-ZkState"), ("restore", "Restore-ZkState") })
                {
                    var rs = ours.Where(r => r.Phase == phase).Select(r => r.Script).ToList();
                    if (rs.Count == 0) continue;
                    double hwm = Stats.Median(rs.Select(r => r.HwmKb));
                    double over = hwm - idle;
                    string verdict = double.IsNaN(over) ? "n/a" : MB(over) + (over < 100 * 1024 ? " ✅" : " ❌");
                    sb.AppendLine($"| {name} | {F(Stats.Median(rs.Select(r => r.PwshStartS)))} | {F(Stats.Median(rs.Select(r => r.ImportS)))} | {F(Stats.Median(rs.Select(r => r.CmdletS)))} | " +
                        $"{F(Stats.Median(rs.Select(r => r.ExitS)))} | {MB(Stats.Median(rs.Select(r => r.RssImportedKb)))} | {MB(hwm)} | {verdict} |");
                }
                sb.AppendLine();
            }
            sb.AppendLine("Every run, in the order it ran (load = `uptime` 1/5/15-minute averages before → after):");
            sb.AppendLine();
            sb.AppendLine("| round | # | phase | side | node | wall | CPU | peak RSS (tree sum / largest process; by name) | timings | archive | load before → after | check |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var r in s.Runs)
            {
                var t = r.S.Select(kv => $"{kv.Key} {F(kv.Value)}").ToList();
                if (r.Script != null) t.Insert(0, $"pwsh {F(r.Script.PwshStartS)} + import {F(r.Script.ImportS)} + cmdlet {F(r.Script.CmdletS)} + exit {F(r.Script.ExitS)}");
                sb.AppendLine($"| {r.Round} | {r.Order} | {r.Phase} | {r.Who} | {r.Node} | {F(r.M.WallS)} | {F(r.M.CpuS)} | {MB(r.M.TreeRssPeakKb)} / {MB(r.M.MaxRssKb)}; {ByComm(r.M)} | {string.Join(", ", t)} | " +
                    $"{(r.ArchiveBytes >= 0 ? MiB(r.ArchiveBytes) : "")} | {r.LoadBefore} → {r.LoadAfter} | {r.Note} |");
            }
            foreach (var n in s.Notes) { sb.AppendLine(); sb.Append(n); }
        }

        /// <summary>The tree's top processes by sampled peak RSS ("dotnet 150 MB, docker 24 MB"): which process a tree peak belongs to.</summary>
        private static string ByComm(Measurement m) => string.Join(", ", m.PeakRssKbByComm.OrderByDescending(kv => kv.Value).Take(3).Select(kv => $"{kv.Key} {kv.Value / 1024.0:0} MB"));

        /// <summary>Durations between the engine's step announcements; before the first one: guard, probes, verification.</summary>
        public static string Steps(string title, List<(double Ms, string What)> marks, double endMs)
        {
            string Fm(double ms) => F(ms / 1000);
            var sb = new StringBuilder();
            sb.AppendLine($"{title} (total {Fm(endMs)}):");
            sb.AppendLine();
            sb.AppendLine("| at | the engine's verbose line (a plan step announces itself as it starts) | until the next line |");
            sb.AppendLine("|---|---|---|");
            sb.AppendLine($"| 0.00 s | (before the first line) | {Fm(marks.Count > 0 ? marks[0].Ms : endMs)} |");
            for (int i = 0; i < marks.Count; i++)
            {
                double next = i + 1 < marks.Count ? marks[i + 1].Ms : endMs;
                string what = marks[i].What.Replace("|", "\\|");
                if (what.Length > 140) what = what.Substring(0, 137) + "...";
                sb.AppendLine($"| {Fm(marks[i].Ms)} | {what} | {Fm(next - marks[i].Ms)} |");
            }
            return sb.ToString();
        }
    }
}
