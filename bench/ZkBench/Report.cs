using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ClusterDR.Bench
{
    public static class Report
    {
        private static string F(double ms) => double.IsNaN(ms) ? "n/a" : (ms / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s";

        private static double Median(List<double> v)
        {
            var s = v.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToList();
            if (s.Count == 0) return double.NaN;
            return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
        }

        private static List<double> Values(List<Run> runs, string phase, string who, string key) =>
            runs.Where(r => r.Phase == phase && r.Who == who && r.Ms.ContainsKey(key)).Select(r => r.Ms[key]).ToList();

        public static string Build(Options o, List<Run> runs, List<string> notes, string loadLine, string startUptime, string endUptime)
        {
            var sb = new StringBuilder();
            sb.AppendLine($"### ZkBench: {o.Rounds} rounds, 3-node ensemble on 127.0.0.1, -Xmx{o.Heap}");
            sb.AppendLine();
            sb.AppendLine($"- Data: {loadLine}.");
            sb.AppendLine($"- Machine: {Environment.ProcessorCount} cores, bench nice {Machine.Nice()} (the JVMs inherit it); manual polling every {o.PollMs} ms, outside srvr watcher every {o.WatchMs} ms.");
            sb.AppendLine(o.WriteAfterRestore
                ? "- After each restore (untimed): one marker znode created through the leader, so the new leader epoch has a transaction (see the notes on the catch-up check)."
                : "- No write after the restores (--no-write-after-restore).");
            sb.AppendLine($"- {o.Warmup} untimed warm-up round(s) of all four operations ran first.");
            sb.AppendLine($"- `uptime` at start: `{startUptime}`; at end: `{endUptime}`.");
            sb.AppendLine();
            sb.AppendLine("| Measure | ours median | ours min | ours max | manual median | manual min | manual max | ours/manual |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|");
            void Row(string title, string phase, string oursKey, string manualKey)
            {
                var a = Values(runs, phase, "ours", oursKey);
                var b = Values(runs, phase, "manual", manualKey);
                if (a.Count == 0 || b.Count == 0) return;
                double ma = Median(a), mb = Median(b);
                sb.AppendLine($"| {title} | {F(ma)} | {F(a.Min())} | {F(a.Max())} | {F(mb)} | {F(b.Min())} | {F(b.Max())} | {(ma / mb).ToString("0.00", CultureInfo.InvariantCulture)} |");
            }
            Row("Backup: node downtime (ours: manifest `downtimeMs`; manual: stop.sh → srvr serving)", "backup", "downtimeMs fact", "stop->serving");
            Row("Backup: downtime seen from outside (srvr watcher: first failed probe → first serving)", "backup", "srvr down->serving", "srvr down->serving");
            Row("Backup: whole operation (ours: ZkBackup.Run call; manual: stop, tar, start, serving)", "backup", "call", "stop->serving");
            Row("Restore: time-to-serving, all 3 serving with one leader (ours: ZkRestore.Run -Force call; manual: stop all → serving)", "restore", "call->serving", "stop->serving");
            sb.AppendLine();
            sb.AppendLine("Every run, in the order it ran (load = `uptime` 1/5/15-minute averages before → after the measured phase):");
            sb.AppendLine();
            sb.AppendLine("| round | # | phase | side | node | timings | load before | load after | check |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var r in runs)
                sb.AppendLine($"| {r.Round} | {r.Order} | {r.Phase} | {r.Who} | {r.Node} | {string.Join(", ", r.Ms.Select(kv => $"{kv.Key} {F(kv.Value)}"))} | {r.LoadBefore} | {r.LoadAfter} | {r.Note} |");
            foreach (var n in notes) { sb.AppendLine(); sb.Append(n); }
            return sb.ToString();
        }

        /// <summary>Durations between the engine's step announcements; before the first one: guard, probes, verification.</summary>
        public static string Steps(string title, List<(double Ms, string What)> marks, double endMs)
        {
            var sb = new StringBuilder();
            sb.AppendLine($"{title} (total {F(endMs)}):");
            sb.AppendLine();
            sb.AppendLine("| at | the engine's verbose line (a plan step announces itself as it starts) | until the next line |");
            sb.AppendLine("|---|---|---|");
            sb.AppendLine($"| 0.00 s | (before the first line) | {F(marks.Count > 0 ? marks[0].Ms : endMs)} |");
            for (int i = 0; i < marks.Count; i++)
            {
                double next = i + 1 < marks.Count ? marks[i + 1].Ms : endMs;
                string what = marks[i].What.Replace("|", "\\|");
                if (what.Length > 140) what = what.Substring(0, 137) + "...";
                sb.AppendLine($"| {F(marks[i].Ms)} | {what} | {F(next - marks[i].Ms)} |");
            }
            return sb.ToString();
        }
    }
}
