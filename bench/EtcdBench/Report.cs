using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace ClusterDR.Bench
{
    public static class Report
    {
        public const double RatioTarget = 1.10;
        public const double RssTargetMb = 100;

        public static double Median(IEnumerable<double> xs)
        {
            var a = xs.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToArray();
            if (a.Length == 0) return double.NaN;
            return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
        }

        private static string F(double v, string fmt = "0.00") => double.IsNaN(v) ? "n/a" : v.ToString(fmt, CultureInfo.InvariantCulture);
        private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

        public static string Markdown(Options o, List<SizeInfo> sizes, List<Sample> samples, Breakdown bd, List<string> notes,
            EtcdFixture etcd, string loadBefore, string loadAfter, bool haveTime)
        {
            var sb = new StringBuilder();
            void L(string s = "") => sb.Append(s).Append('\n');

            L("# etcd backup benchmark: ClusterDR engine vs `etcdctl snapshot save`");
            L();
            L($"- when: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {Environment.ProcessorCount} cores, {MemTotalGb():0} GB RAM, {RuntimeInformation.OSDescription}; runtime .NET {Environment.Version}");
            L($"- etcd {Version("etcd", "--version")}, etcdctl {Version(o.Etcdctl, "version")}; one member on {etcd.Url}, quota {EtcdFixture.QuotaBytes >> 30} GiB ({(etcd.QuotaLogLine != null ? "etcd logged: `" + etcd.QuotaLogLine.Substring(etcd.QuotaLogLine.IndexOf("recognized", StringComparison.Ordinal) < 0 ? 0 : etcd.QuotaLogLine.IndexOf("recognized", StringComparison.Ordinal)) + "`" : "NOT confirmed in etcd's log")})");
            L($"- data: {o.ValueKb} KB values (half random bytes, half repetitive JSON-like text), {o.Writers} concurrent PUTs through the v3 JSON gateway");
            L($"- load average (1/5/15 min, runnable, last pid) before: `{loadBefore}`, after: `{loadAfter}`; bench niceness {ProcStatus.Nice()} (etcd, etcdctl and the engine child inherit it)");
            L($"- rounds: {o.Warmup} untimed warm-up + {o.Rounds} timed per tool and size, order alternating (odd rounds etcdctl first); outputs deleted after every run; no writes while measuring");
            L("- **ours** = a child process `EtcdBench --backup-only URL DIR` running `EtcdBackup.Run(…, SilentContext.Instance)` (status + member list + quorum guard, gRPC snapshot with 2× SHA-256 streamed into a stored tar.gz .partial in one pass, manifest patched at the front, fsync, rename); wall = parent's Stopwatch around the child; *engine* = the child's own Stopwatch around `EtcdBackup.Run`");
            L("- **etcdctl** = `ETCDCTL_API=3 etcdctl --endpoints URL snapshot save FILE` (gRPC, raw db → FILE.part, fsync, rename); wall = Stopwatch around the process");
            L($"- peak RSS = max RSS from `/usr/bin/time -f %M`{(haveTime ? "" : " (not installed: child's VmHWM only)")}; ours also reports its own VmHWM from /proc/self/status. CPU = user+sys of the tool; *etcd CPU* = the etcd server's CPU during the run; *others* = machine busy CPU minus both (competing work, e.g. other builds)");
            L();

            L("## Summary");
            L();
            L($"| db size | etcdctl median s | ours median s (process) | ours median s (engine only) | ratio ours/etcdctl (target ≤ {RatioTarget:0.00}) | engine-only ratio | best/best ratio (min ours / min etcdctl) | ours peak RSS MB (max of rounds; target < {RssTargetMb:0}) | etcdctl peak RSS MB | archive MB | snapshot bytes identical | others CPU s, median (etcdctl / ours) |");
            L("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--:|---:|");
            foreach (var s in sizes)
            {
                var e = samples.Where(x => x.SizeMb == s.Mb && x.Tool == "etcdctl").ToList();
                var u = samples.Where(x => x.SizeMb == s.Mb && x.Tool == "ours").ToList();
                double me = Median(e.Select(x => x.WallS)), mu = Median(u.Select(x => x.WallS)), mi = Median(u.Select(x => x.EngineS));
                double ratio = mu / me;
                long rss = u.Count == 0 ? -1 : u.Max(x => Math.Max(x.MaxRssKb, x.VmHwmKb));
                long erss = e.Count == 0 ? -1 : e.Max(x => x.MaxRssKb);
                L($"| {Mb(s.DbSize)} MB | {F(me)} | {F(mu)} | {F(mi)} | **{F(ratio)}** {(ratio <= RatioTarget ? "✅" : "❌")} | {F(mi / me)} | {F(u.Select(x => x.WallS).DefaultIfEmpty(double.NaN).Min() / e.Select(x => x.WallS).DefaultIfEmpty(double.NaN).Min())} | **{F(rss / 1024.0, "0.0")}** {(rss / 1024.0 < RssTargetMb ? "✅" : "❌")} | {F(erss / 1024.0, "0.0")} | {F(Median(u.Select(x => (double)x.OutBytes)) / 1048576.0, "0.0")} | {(s.Identical == null ? "n/a" : s.Identical.Value ? "yes" : "NO")} | {F(Median(e.Select(x => x.OtherCpuS)))} / {F(Median(u.Select(x => x.OtherCpuS)))} |");
            }
            L();

            L("## Every run");
            L();
            L("| db size MB | round | tool | wall s | MB/s | engine s | peak RSS MB | tool CPU s | etcd CPU s | others CPU s | output MB | managed alloc MB | GCs gen0/gen2 |");
            L("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var x in samples)
                L($"| {Mb(x.DbSize)} | {x.Round} | {x.Tool} | {F(x.WallS)} | {F(x.DbSize / 1048576.0 / x.WallS, "0")} | {F(x.EngineS)} | {F(Math.Max(x.MaxRssKb, x.VmHwmKb) / 1024.0, "0.0")} | {F(x.ToolCpuS)} | {F(x.EtcdCpuS)} | {F(x.OtherCpuS)} | {Mb(x.OutBytes)} | {(x.AllocatedBytes < 0 ? "" : Mb(x.AllocatedBytes))} | {(x.Gen0 < 0 ? "" : x.Gen0 + "/" + x.Gen2)} |");
            L();
            L("| db size MB | keys | fill s | etcd RSS MB after fill | load before | load after | revision unchanged |");
            L("|---:|---:|---:|---:|---|---|:--:|");
            foreach (var s in sizes)
                L($"| {Mb(s.DbSize)} | {s.Keys} | {F(s.FillS, "0.0")} | {F(s.EtcdRssKb / 1024.0, "0")} | `{s.LoadBefore}` | `{s.LoadAfter}` | {(s.Revision == s.RevisionAfter ? "yes" : "NO")} |");
            L();

            if (bd != null)
            {
                L($"## Breakdown (db {Mb(bd.DbSize)} MB, fastest of {bd.Passes} passes per step, in the parent process)");
                L();
                L($"gzip Fastest output {Mb(bd.GzipBytes)} MB for a {Mb(bd.SnapshotBytes)} MB snapshot; the engine's archives are the last engine row's size.");
                L("*client CPU* = this process (plus its child processes where the step runs one). The rows run in the parent process after the timed rounds, so JIT is already done: compare them with each other, not with the child-process rounds above.");
                L();
                L("| step | what | wall s | MB/s | client CPU s | etcd CPU s | others CPU s | |");
                L("|---|---|---:|---:|---:|---:|---:|---|");
                foreach (var st in bd.Best)
                    L($"| {st.Name} | {st.What} | {F(st.WallS)} | {F(st.Bytes / 1048576.0 / st.WallS, "0")} | {F(st.SelfCpuS)} | {F(st.EtcdCpuS)} | {F(st.OtherCpuS)} | {st.Extra} |");
                L();
                Breakdown.Step S(string prefix) => bd.Best.FirstOrDefault(x => x.Name.StartsWith(prefix, StringComparison.Ordinal));
                double W(string prefix) => S(prefix)?.WallS ?? double.NaN;
                double C(string prefix) => S(prefix)?.SelfCpuS ?? double.NaN;
                L("Derived (differences of the rows above; wall differences are noisy when *others* is high, CPU differences less so):");
                L();
                L($"- gRPC stream alone (A) {F(W("A."))} s wall, {F(C("A."))} s client CPU, vs etcdctl {F(W("etcdctl"))} s wall, {F(C("etcdctl"))} s CPU");
                L($"- two SHA-256 while streaming (B − A): {F(W("B.") - W("A."))} s wall, {F(C("B.") - C("A."))} s CPU (one pass over a cached file, G: {F(W("G."))} s)");
                L($"- pre-flight (C): {F(W("C."))} s; archive write + fsync + rename (D − B − C): {F(W("D.") - W("B.") - W("C."))} s (a plain copy + fsync of the file, J: {F(W("J."))} s)");
                L($"- engine ratios to the etcdctl row of this table: defaults (D) {F(W("D.") / W("etcdctl"))}, Fastest (E) {F(W("E.") / W("etcdctl"))}, JSON gateway (F) {F(W("F.") / W("etcdctl"))}, -Node via LocalShell (K) {F(W("K.") / W("etcdctl"))}");
                L();
            }
            if (notes.Count > 0)
            {
                L("## Notes");
                L();
                foreach (var n in notes) L("- " + n);
                L();
            }
            return sb.ToString();
        }

        private static double MemTotalGb() => ProcStatus.Kb("/proc/meminfo", "MemTotal") / 1048576.0;

        private static string Version(string exe, string arg)
        {
            try
            {
                var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                psi.ArgumentList.Add(arg);
                psi.Environment["ETCDCTL_API"] = "3";
                using (var p = Process.Start(psi))
                {
                    string s = p.StandardOutput.ReadToEnd();
                    p.StandardError.ReadToEnd();
                    p.WaitForExit();
                    var first = s.Split('\n').FirstOrDefault() ?? "";
                    int i = first.IndexOf(':');
                    return (i >= 0 ? first.Substring(i + 1) : first).Trim();
                }
            }
            catch { return "?"; }
        }
    }
}
