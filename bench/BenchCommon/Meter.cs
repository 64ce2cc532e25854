using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;

namespace ClusterDR.Bench.Common
{
    /// <summary>One command to run and measure.</summary>
    public sealed class Command
    {
        public string File;
        public List<string> Args = new List<string>();
        public Dictionary<string, string> Env = new Dictionary<string, string>();
        public string WorkDir;
        /// <summary>Written to the command's stdin, then stdin is closed: the way to pass secrets (never on a command line).</summary>
        public string Stdin;
        public TimeSpan Timeout = TimeSpan.FromHours(2);
        /// <summary>Process names (comm) left out of the sampled tree RSS: servers a command starts and leaves running (etcd).</summary>
        public HashSet<string> IgnoreComm = new HashSet<string>();
        /// <summary>Throw when the exit code is not 0 (with stderr in the message).</summary>
        public bool Check = true;

        public Command(string file, params string[] args) { File = file; Args.AddRange(args); }

        /// <summary>`sh -c SCRIPT` with $1... bound to ARGS (the script is never spliced with its arguments).</summary>
        public static Command Shell(string script, params string[] args)
        {
            var c = new Command("sh", "-c", script, "sh");
            c.Args.AddRange(args);
            return c;
        }

        public override string ToString() => File + " " + string.Join(" ", Args.Select(a => a.Contains(' ') ? "'" + a + "'" : a));
    }

    /// <summary>What one run cost, for the whole process tree the command started.</summary>
    public sealed class Measurement
    {
        /// <summary>Stopwatch around the process, start to exit.</summary>
        public double WallS;
        /// <summary>user + sys of the command and every descendant it waited for (wait4 rusage, via /usr/bin/time).</summary>
        public double UserS, SysS;
        public double CpuS => UserS + SysS;
        /// <summary>Largest single process's peak RSS in the tree (ru_maxrss: the kernel's own high-water mark).</summary>
        public long MaxRssKb = -1;
        /// <summary>Highest sampled sum of the tree's RSS (every <see cref="Meter.SampleMs"/> ms): counts concurrent processes (a pipe into gzip) together.</summary>
        public long TreeRssPeakKb = -1;
        public int Samples;
        /// <summary>Highest sampled RSS of each process name in the tree (e.g. "pwsh" apart from the etcdctl it runs).</summary>
        public Dictionary<string, long> PeakRssKbByComm = new Dictionary<string, long>();
        public int ExitCode;
        public string Stdout = "", Stderr = "";
        /// <summary>CPU seconds of watched processes (servers) during the run, by the name given.</summary>
        public Dictionary<string, double> WatchedCpuS = new Dictionary<string, double>();
        /// <summary>Busy CPU of the whole machine minus the command's and the watched processes': other users' load.</summary>
        public double OthersCpuS = double.NaN;
        public string LoadAvgAfter;

        /// <summary>Peak RSS to report for "the whole process": the larger of the two views.</summary>
        public long PeakRssKb => Math.Max(MaxRssKb, TreeRssPeakKb);
        public double WatchedTotalCpuS => WatchedCpuS.Values.Where(v => !double.IsNaN(v)).Sum();
    }

    /// <summary>
    /// Runs a command under /usr/bin/time (wall, user+sys and max RSS of the whole tree, from wait4) while a
    /// thread samples the tree's summed RSS from /proc. The cost of the wrapper itself (~1 ms, ~2 MB) is not counted.
    /// </summary>
    public static class Meter
    {
        public const string TimeBinary = "/usr/bin/time";
        public static int SampleMs = 20;
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        private static Process _current;

        public static bool Available => System.IO.File.Exists(TimeBinary);

        /// <summary>Kills the command in flight (from a signal handler), with its whole tree.</summary>
        public static void KillCurrent()
        {
            try { _current?.Kill(entireProcessTree: true); } catch (Exception ex) when (ex is InvalidOperationException || ex is System.ComponentModel.Win32Exception) { }
        }

        /// <param name="watch">Processes whose CPU during the run is recorded apart (e.g. etcd servers), name → PID.</param>
        public static Measurement Run(Command c, IReadOnlyDictionary<string, int> watch = null, CancellationToken ct = default)
        {
            if (!Available) throw new InvalidOperationException(TimeBinary + " is needed (Debian: apt-get install time).");
            ct.ThrowIfCancellationRequested();
            string timeFile = Path.Combine(Path.GetTempPath(), $"benchmeter-{Environment.ProcessId}-{Guid.NewGuid():N}.time");
            var psi = new ProcessStartInfo(TimeBinary)
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
                WorkingDirectory = c.WorkDir ?? Directory.GetCurrentDirectory(),
            };
            foreach (var a in new[] { "-o", timeFile, "-f", "%e %U %S %M", c.File }) psi.ArgumentList.Add(a);
            foreach (var a in c.Args) psi.ArgumentList.Add(a);
            foreach (var kv in c.Env) { if (kv.Value == null) psi.Environment.Remove(kv.Key); else psi.Environment[kv.Key] = kv.Value; }

            var m = new Measurement();
            var watched = (watch ?? new Dictionary<string, int>()).ToDictionary(kv => kv.Key, kv => (Pid: kv.Value, Cpu0: Proc.CpuS(kv.Value)));
            double busy0 = Proc.MachineBusyS();
            var sw = Stopwatch.StartNew();
            try
            {
                using (var p = Process.Start(psi))
                {
                    _current = p;
                    var so = p.StandardOutput.ReadToEndAsync();
                    var se = p.StandardError.ReadToEndAsync();
                    if (c.Stdin != null) p.StandardInput.Write(c.Stdin);
                    p.StandardInput.Close();
                    var sampler = new Thread(() => Sample(p.Id, c.IgnoreComm, m)) { IsBackground = true, Name = "rss-sampler" };
                    sampler.Start();
                    bool exited;
                    try
                    {
                        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                        {
                            timeout.CancelAfter(c.Timeout);
                            try { p.WaitForExitAsync(timeout.Token).GetAwaiter().GetResult(); exited = true; }
                            catch (OperationCanceledException) { exited = false; }
                        }
                    }
                    finally { if (!p.HasExited) { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } p.WaitForExit(); } }
                    sw.Stop();
                    sampler.Join();
                    m.WallS = sw.Elapsed.TotalSeconds;
                    m.Stdout = so.GetAwaiter().GetResult();
                    m.Stderr = se.GetAwaiter().GetResult();
                    m.ExitCode = p.ExitCode;
                    ct.ThrowIfCancellationRequested();
                    if (!exited) throw new TimeoutException($"{c.File} did not finish within {c.Timeout.TotalSeconds:0} s (killed).\n{Tail(m.Stderr)}");
                }
            }
            finally { _current = null; }
            double busy1 = Proc.MachineBusyS();
            foreach (var kv in watched) m.WatchedCpuS[kv.Key] = Proc.CpuS(kv.Value.Pid) - kv.Value.Cpu0;
            ReadTime(timeFile, m);
            m.OthersCpuS = Math.Max(0, busy1 - busy0 - m.CpuS - m.WatchedTotalCpuS);
            m.LoadAvgAfter = Proc.LoadAvg();
            if (c.Check && m.ExitCode != 0)
                throw new InvalidOperationException($"{c} exited {m.ExitCode}:\n{Tail(m.Stderr)}\n{Tail(m.Stdout)}");
            return m;
        }

        private static void ReadTime(string timeFile, Measurement m)
        {
            try
            {
                // The last line: time writes "Command exited with non-zero status N" before it.
                var f = System.IO.File.ReadAllLines(timeFile).Last(l => l.Trim().Length > 0).Split(' ');
                m.UserS = double.Parse(f[1], Inv);
                m.SysS = double.Parse(f[2], Inv);
                m.MaxRssKb = long.Parse(f[3], Inv);
            }
            catch (Exception ex) when (ex is IOException || ex is FormatException || ex is InvalidOperationException || ex is IndexOutOfRangeException)
            {
                m.UserS = m.SysS = double.NaN;
            }
            finally { try { System.IO.File.Delete(timeFile); } catch (IOException) { } }
        }

        /// <summary>Sums the RSS of the wrapper's descendants (not the wrapper) until it exits.</summary>
        private static void Sample(int timePid, HashSet<string> ignore, Measurement m)
        {
            long peak = -1;
            int n = 0;
            while (Proc.IsAlive(timePid))
            {
                long sum = 0;
                var tree = Proc.Tree(timePid);
                var exe = new Dictionary<int, string>();
                foreach (int p in tree) exe.TryAdd(p, Proc.Exe(p));
                foreach (int pid in tree)
                {
                    if (pid == timePid) continue;
                    if (ignore.Count > 0 && ignore.Contains(Proc.Comm(pid) ?? "")) continue;
                    // A child still running its parent's program is a fork that has not exec'd yet (pwsh starting
                    // docker: comm "Pipeline Execut", the parent's whole RSS) or a shell's subshell: its pages are
                    // the parent's, already counted. Without this a 150 MB pwsh sampled mid-fork counted twice.
                    int ppid = Proc.ParentPid(pid);
                    if (exe[pid] != null && exe.TryGetValue(ppid, out var parentExe) && exe[pid] == parentExe) continue;
                    long kb = Proc.RssKb(pid);
                    if (kb <= 0) continue;
                    sum += kb;
                    string comm = Proc.Comm(pid) ?? "?";
                    lock (m.PeakRssKbByComm)
                        if (!m.PeakRssKbByComm.TryGetValue(comm, out long old) || kb > old) m.PeakRssKbByComm[comm] = kb;
                }
                if (sum > peak) peak = sum;
                n++;
                Thread.Sleep(SampleMs);
            }
            m.TreeRssPeakKb = peak;
            m.Samples = n;
        }

        public static string Tail(string s, int lines = 25)
        {
            var l = (s ?? "").TrimEnd().Split('\n');
            return string.Join("\n", l.Skip(Math.Max(0, l.Length - lines)));
        }
    }

    public static class Stats
    {
        public static double Median(IEnumerable<double> xs)
        {
            var a = xs.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToArray();
            if (a.Length == 0) return double.NaN;
            return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
        }

        public static double Median(IEnumerable<long> xs) => Median(xs.Where(x => x >= 0).Select(x => (double)x));
    }
}
