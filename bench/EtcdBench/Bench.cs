using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using ClusterDR.Etcd;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Bench
{
    public sealed class Sample
    {
        public int SizeMb;
        public long DbSize;
        public string Tool;
        public int Round;
        public double WallS;
        /// <summary>Ours only: EtcdBackup.Run's own Stopwatch inside the child.</summary>
        public double EngineS = double.NaN;
        /// <summary>Max RSS as /usr/bin/time reports it (KB); for ours also VmHWM read by the child itself.</summary>
        public long MaxRssKb = -1, VmHwmKb = -1;
        public double ToolCpuS = double.NaN, EtcdCpuS = double.NaN, OtherCpuS = double.NaN;
        public long OutBytes;
        public long AllocatedBytes = -1;
        public int Gen0 = -1, Gen2 = -1;
    }

    public sealed class Bench
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        private readonly Options _o;
        private readonly CancellationTokenSource _cts = new CancellationTokenSource();
        private readonly List<Sample> _samples = new List<Sample>();
        private readonly List<string> _notes = new List<string>();
        private readonly bool _haveTime = File.Exists("/usr/bin/time");
        private Process _child;
        private EtcdFixture _etcd;
        private string _root;
        private int _signals;
        private int _cleaned;

        public Bench(Options o) { _o = o; }

        private static void Log(string s) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {s}");

        public int Run()
        {
            var ct = _cts.Token;
            // Ctrl+C / SIGTERM: first one cancels (the finally block below stops etcd and deletes the
            // temp dirs); a second one cleans up right here and exits.
            var regs = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(s => PosixSignalRegistration.Create(s, OnSignal)).ToList();
            string loadBefore = ProcStatus.LoadAvg();
            var sizeRows = new List<SizeInfo>();
            Breakdown breakdown = null;
            try
            {
                _root = Path.Combine(Path.GetFullPath(_o.WorkDir), $"etcdbench-{Environment.ProcessId}");
                Directory.CreateDirectory(_root);
                string outDir = Path.Combine(_root, "out");
                Directory.CreateDirectory(outDir);
                Log($"load average before: {loadBefore}; nice {ProcStatus.Nice()}; work dir {_root}");
                string script = EtcdFixture.FindClusterScript(_o.ClusterScript);
                int port = EtcdFixture.FreeBasePort(_o.BasePort);
                _etcd = EtcdFixture.Start(script, Path.Combine(_root, "cluster"), port, Log, ct);

                foreach (int mb in _o.Sizes)
                {
                    Log($"filling etcd to {mb} MB with {_o.ValueKb} KB values, {_o.Writers} writers");
                    var fillSw = Stopwatch.StartNew();
                    _etcd.FillTo(mb * 1048576L, _o.ValueKb, _o.Writers, Log, ct);
                    fillSw.Stop();
                    Thread.Sleep(1500); // let etcd's batch commit and the fill's page writeback settle
                    var before = _etcd.Status(ct);
                    var info = new SizeInfo { Mb = mb, DbSize = before.DbSize, Revision = before.Revision, Keys = _etcd.PutCount, FillS = fillSw.Elapsed.TotalSeconds, LoadBefore = ProcStatus.LoadAvg(), EtcdRssKb = _etcd.RssKb };
                    Log($"dbSize {before.DbSize} bytes ({before.DbSize / 1048576.0:0.0} MB), revision {before.Revision}; load {info.LoadBefore}");
                    MeasureSize(info, outDir, ct);
                    var after = _etcd.Status(ct);
                    info.RevisionAfter = after.Revision;
                    info.LoadAfter = ProcStatus.LoadAvg();
                    sizeRows.Add(info);
                    if (after.Revision != before.Revision) _notes.Add($"WARNING: revision moved from {before.Revision} to {after.Revision} while measuring {mb} MB.");
                }
                if (_o.Breakdown)
                {
                    Log("breakdown pass (where the engine's time goes)");
                    breakdown = Breakdown.Run(_etcd, Path.Combine(_root, "breakdown"), _o.Etcdctl, _o.BreakdownPasses, Log, ct);
                }
                string report = Report.Markdown(_o, sizeRows, _samples, breakdown, _notes, _etcd, loadBefore, ProcStatus.LoadAvg(), _haveTime);
                Console.WriteLine(report);
                if (_o.Report != null)
                {
                    File.WriteAllText(_o.Report, report);
                    Log("report written to " + Path.GetFullPath(_o.Report));
                }
                return 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Log("cancelled");
                return 130;
            }
            catch (Exception ex)
            {
                Log("failed: " + ex);
                return 1;
            }
            finally
            {
                Cleanup();
                foreach (var r in regs) r.Dispose();
            }
        }

        private void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            if (Interlocked.Increment(ref _signals) == 1)
            {
                Log($"{c.Signal}: stopping (again to force)");
                _cts.Cancel();
                try { _child?.Kill(entireProcessTree: true); } catch { }
                return;
            }
            Cleanup();
            Environment.Exit(130);
        }

        private void Cleanup()
        {
            if (Interlocked.Exchange(ref _cleaned, 1) != 0) return;
            try { _child?.Kill(entireProcessTree: true); } catch { }
            if (_etcd != null) { Log($"stopping etcd pid {_etcd.Pid}"); _etcd.Dispose(); }
            if (_root != null && Directory.Exists(_root))
            {
                try { Directory.Delete(_root, true); Log("removed " + _root); }
                catch (Exception ex) { Log($"could not remove {_root}: {ex.Message}"); }
            }
        }

        private void MeasureSize(SizeInfo info, string outDir, CancellationToken ct)
        {
            string url = _etcd.Url.ToString().TrimEnd('/');
            for (int w = 1; w <= _o.Warmup; w++)
            {
                var a = RunEtcdctl(info, -w, outDir, ct, out string file);
                string sha = w == 1 ? Sha256File(file) : null;
                DeleteOutputs(outDir);
                var b = RunOurs(info, -w, outDir, url, ct, out string oursSha);
                DeleteOutputs(outDir);
                if (sha != null)
                {
                    info.Identical = sha == oursSha && a.OutBytes > 0;
                    Log($"warm-up: etcdctl {a.WallS:0.00} s, ours {b.WallS:0.00} s; snapshot bytes identical: {info.Identical}");
                }
            }
            for (int r = 1; r <= _o.Rounds; r++)
            {
                bool etcdctlFirst = r % 2 == 1;
                for (int k = 0; k < 2; k++)
                {
                    Sample s = (k == 0) == etcdctlFirst ? RunEtcdctl(info, r, outDir, ct, out _) : RunOurs(info, r, outDir, url, ct, out _);
                    DeleteOutputs(outDir);
                    _samples.Add(s);
                    Log($"{info.Mb} MB round {r}: {s.Tool,-7} {s.WallS,6:0.00} s  rss {s.MaxRssKb / 1024.0:0.0} MB  cpu {s.ToolCpuS:0.00} s  etcd cpu {s.EtcdCpuS:0.00} s  others {s.OtherCpuS:0.00} s");
                }
            }
        }

        private static void DeleteOutputs(string outDir)
        {
            foreach (var e in Directory.EnumerateFileSystemEntries(outDir))
            {
                if (Directory.Exists(e)) Directory.Delete(e, true); else File.Delete(e);
            }
            Thread.Sleep(500);
        }

        private Sample RunEtcdctl(SizeInfo info, int round, string outDir, CancellationToken ct, out string file)
        {
            file = Path.Combine(outDir, $"etcdctl-{info.Mb}-{round}.db");
            var env = new Dictionary<string, string> { ["ETCDCTL_API"] = "3" };
            var s = Timed("etcdctl", info, round, _o.Etcdctl, new List<string> { "--endpoints", _etcd.Url.ToString().TrimEnd('/'), "snapshot", "save", file }, env, ct, out _);
            s.OutBytes = new FileInfo(file).Length;
            return s;
        }

        private Sample RunOurs(SizeInfo info, int round, string outDir, string url, CancellationToken ct, out string sha)
        {
            var (exe, args) = Program.SelfCommand();
            string dir = Path.Combine(outDir, $"ours-{info.Mb}-{round}");
            args.AddRange(new[] { "--backup-only", url, dir });
            var s = Timed("ours", info, round, exe, args, new Dictionary<string, string>(), ct, out string stdout);
            string line = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith(Program.ResultPrefix, StringComparison.Ordinal));
            if (line == null) throw new InvalidOperationException("the --backup-only child printed no result:\n" + stdout);
            var j = JObject.Parse(line.Substring(Program.ResultPrefix.Length));
            s.EngineS = (double)j["wallS"];
            s.VmHwmKb = (long)j["vmHwmKb"];
            s.OutBytes = (long)j["archiveBytes"];
            s.AllocatedBytes = (long)j["allocatedBytes"];
            s.Gen0 = (int)j["gen0"];
            s.Gen2 = (int)j["gen2"];
            if (s.MaxRssKb < 0) s.MaxRssKb = s.VmHwmKb;
            sha = (string)j["snapshotSha256"];
            if ((long)j["snapshotBytes"] != info.DbSize + 32 && info.DbSize > 0)
                _notes.Add($"{info.Mb} MB round {round}: our snapshot.db is {(long)j["snapshotBytes"]} bytes, dbSize+32 is {info.DbSize + 32}.");
            return s;
        }

        /// <summary>Runs a process (under /usr/bin/time when present, for max RSS and CPU) with a Stopwatch around it.</summary>
        private Sample Timed(string tool, SizeInfo info, int round, string exe, List<string> args, Dictionary<string, string> env, CancellationToken ct, out string stdout)
        {
            ct.ThrowIfCancellationRequested();
            string timeFile = Path.Combine(_root, "time.out");
            var psi = new ProcessStartInfo(_haveTime ? "/usr/bin/time" : exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            if (_haveTime) { foreach (var a in new[] { "-o", timeFile, "-f", "%e %M %U %S", exe }) psi.ArgumentList.Add(a); }
            foreach (var a in args) psi.ArgumentList.Add(a);
            foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
            double etcd0 = _etcd.CpuS, busy0 = ProcStatus.MachineBusyS();
            var sw = Stopwatch.StartNew();
            using (var p = Process.Start(psi))
            {
                _child = p;
                var so = p.StandardOutput.ReadToEndAsync();
                var se = p.StandardError.ReadToEndAsync();
                try { p.WaitForExitAsync(ct).GetAwaiter().GetResult(); }
                catch (OperationCanceledException) { try { p.Kill(entireProcessTree: true); } catch { } throw; }
                finally { _child = null; }
                sw.Stop();
                stdout = so.GetAwaiter().GetResult();
                string stderr = se.GetAwaiter().GetResult();
                if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} exited {p.ExitCode}:\n{stderr}\n{stdout}");
            }
            double etcd1 = _etcd.CpuS, busy1 = ProcStatus.MachineBusyS();
            var s = new Sample { SizeMb = info.Mb, DbSize = info.DbSize, Tool = tool, Round = round, WallS = sw.Elapsed.TotalSeconds, EtcdCpuS = etcd1 - etcd0 };
            if (_haveTime)
            {
                var f = File.ReadAllLines(timeFile).Last().Split(' ');
                s.MaxRssKb = long.Parse(f[1], Inv);
                s.ToolCpuS = double.Parse(f[2], Inv) + double.Parse(f[3], Inv);
                s.OtherCpuS = Math.Max(0, busy1 - busy0 - s.ToolCpuS - s.EtcdCpuS);
                File.Delete(timeFile);
            }
            return s;
        }

        public static string Sha256File(string path)
        {
            using (var sha = SHA256.Create())
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
                return Convert.ToHexString(sha.ComputeHash(f)).ToLowerInvariant();
        }
    }

    public sealed class SizeInfo
    {
        public int Mb;
        public long DbSize;
        public long Revision, RevisionAfter;
        public long Keys;
        public double FillS;
        public string LoadBefore, LoadAfter;
        public long EtcdRssKb;
        public bool? Identical;
    }
}
