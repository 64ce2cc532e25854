using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;
using ClusterDR.Etcd;
using ClusterDR.Safety;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Compares ClusterDR's etcd backup engine (EtcdBackup.Run, over the v3 JSON gateway, into a
    /// .tar.gz archive) with `etcdctl snapshot save` on a throwaway single-member etcd on 127.0.0.1.
    /// Usage: see bench/README.md, or run with --help.
    /// </summary>
    public static class Program
    {
        public const string ResultPrefix = "BENCH-RESULT ";

        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "--backup-only") return BackupOnly(args);
            Options o;
            try { o = Options.Parse(args); }
            catch (ArgumentException ex) { Console.Error.WriteLine(ex.Message); Console.Error.WriteLine(Options.Usage); return 2; }
            if (o.Help) { Console.WriteLine(Options.Usage); return 0; }
            return new Bench(o).Run();
        }

        /// <summary>
        /// Child mode: `--backup-only URL DIR`. Runs exactly what Backup-EtcdSnapshot runs and prints one
        /// JSON line with the engine's wall time and this process's peak RSS (VmHWM).
        /// </summary>
        private static int BackupOnly(string[] args)
        {
            if (args.Length != 3) { Console.Error.WriteLine("usage: EtcdBench --backup-only URL DIR"); return 2; }
            var sw = Stopwatch.StartNew();
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = new Uri(args[1]), Directory = args[2], Force = false }, SilentContext.Instance);
            sw.Stop();
            var file = backup.Files.Single(f => f.Path == EtcdBackup.SnapshotFile);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var result = new Newtonsoft.Json.Linq.JObject
            {
                ["wallS"] = sw.Elapsed.TotalSeconds,
                ["vmHwmKb"] = ProcStatus.SelfKb("VmHWM"),
                ["cpuS"] = cpu.TotalSeconds,
                ["allocatedBytes"] = GC.GetTotalAllocatedBytes(false),
                ["gen0"] = GC.CollectionCount(0),
                ["gen2"] = GC.CollectionCount(2),
                ["archive"] = backup.Path,
                ["archiveBytes"] = backup.SizeBytes,
                ["snapshotBytes"] = file.Size,
                ["snapshotSha256"] = file.Sha256,
            };
            Console.WriteLine(ResultPrefix + result.ToString(Newtonsoft.Json.Formatting.None));
            return 0;
        }

        /// <summary>How to start this very program again as a child (apphost, or `dotnet EtcdBench.dll`).</summary>
        public static (string File, List<string> Args) SelfCommand()
        {
            string path = Environment.ProcessPath;
            string dll = Assembly.GetEntryAssembly().Location;
            if (path != null && Path.GetFileNameWithoutExtension(path) == "dotnet")
                return (path, new List<string> { dll });
            return (path, new List<string>());
        }
    }

    public sealed class Options
    {
        public int SizeMb = 512;
        public List<int> AlsoMb = new List<int> { 128 };
        public int Rounds = 3;
        public int Warmup = 1;
        public string Report;
        public int BasePort = 42380;
        public string WorkDir = Path.GetTempPath();
        public string ClusterScript;
        public string Etcdctl = "etcdctl";
        public int ValueKb = 768;
        public int Writers = 2;
        public bool Breakdown = true;
        public int BreakdownPasses = 2;
        public bool Help;

        public const string Usage =
@"EtcdBench: ClusterDR etcd backup engine vs `etcdctl snapshot save`, on a throwaway etcd on 127.0.0.1.
  dotnet run -c Release --project bench/EtcdBench -- [options]
  --size-mb N          database size to fill to (default 512)
  --also-mb N[,M]      smaller sizes measured first on the same cluster (default 128; 0 = none)
  --rounds N           timed rounds per tool and size, alternating order (default 3)
  --warmup N           untimed rounds per tool before each size (default 1)
  --report FILE        also write the markdown report to FILE
  --base-port N        etcd client port N+2, peer N+3 (default 42380; moved up when taken)
  --work-dir DIR       where the cluster and the snapshots go (default $TMPDIR or /tmp)
  --cluster-script F   tests/tools/etcd-cluster.sh (default: found above the current directory)
  --etcdctl PATH       etcdctl binary (default etcdctl)
  --value-kb N         size of each PUT value (default 768; the JSON request is 4/3 of it)
  --writers N          concurrent PUTs while filling (default 2)
  --no-breakdown       skip the where-does-the-time-go pass
  --breakdown-passes N passes of the breakdown; the fastest of each step is shown (default 2)
  --backup-only URL DIR   (internal) one engine backup, prints BENCH-RESULT {json}";

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
                int NextInt(int min)
                {
                    string v = Next();
                    if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min) throw new ArgumentException($"{a}: '{v}' is not a whole number >= {min}.");
                    return n;
                }
                switch (a)
                {
                    case "--size-mb": o.SizeMb = NextInt(1); break;
                    case "--also-mb":
                        o.AlsoMb = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new ArgumentException($"--also-mb: '{s}' is not a number.")).Where(n => n > 0).ToList();
                        break;
                    case "--rounds": o.Rounds = NextInt(1); break;
                    case "--warmup": o.Warmup = NextInt(0); break;
                    case "--report": o.Report = Next(); break;
                    case "--base-port": o.BasePort = NextInt(1024); break;
                    case "--work-dir": o.WorkDir = Next(); break;
                    case "--cluster-script": o.ClusterScript = Next(); break;
                    case "--etcdctl": o.Etcdctl = Next(); break;
                    case "--value-kb": o.ValueKb = NextInt(1); break;
                    case "--writers": o.Writers = NextInt(1); break;
                    case "--no-breakdown": o.Breakdown = false; break;
                    case "--breakdown-passes": o.BreakdownPasses = NextInt(1); break;
                    case "-h": case "--help": o.Help = true; break;
                    default: throw new ArgumentException($"Unknown option '{a}'.");
                }
            }
            if (o.ValueKb * 1024L * 4 / 3 + 1024 > 1536 * 1024) throw new ArgumentException("--value-kb: etcd refuses requests over 1.5 MiB; the base64 JSON must fit (at most ~1100).");
            return o;
        }

        /// <summary>The sizes to measure, smallest first (the cluster is filled up step by step).</summary>
        public IReadOnlyList<int> Sizes => AlsoMb.Where(m => m < SizeMb).Append(SizeMb).Distinct().OrderBy(m => m).ToList();
    }

    /// <summary>/proc readers (Linux only).</summary>
    public static class ProcStatus
    {
        public static long SelfKb(string field) => Kb("/proc/self/status", field);

        public static long Kb(string statusFile, string field)
        {
            try
            {
                foreach (var line in File.ReadLines(statusFile))
                    if (line.StartsWith(field + ":", StringComparison.Ordinal))
                        return long.Parse(line.Substring(field.Length + 1).Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
            catch (IOException) { }
            return -1;
        }

        /// <summary>utime+stime of a process, in seconds (USER_HZ = 100 on Linux).</summary>
        public static double ProcessCpuS(int pid)
        {
            try
            {
                string s = File.ReadAllText($"/proc/{pid}/stat");
                var f = s.Substring(s.LastIndexOf(')') + 2).Split(' ');
                // f[0] is field 3 (state): utime is field 14, stime field 15.
                return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (Exception ex) when (ex is IOException || ex is FormatException || ex is IndexOutOfRangeException) { return double.NaN; }
        }

        /// <summary>Busy CPU seconds of the whole machine (all cores) since boot.</summary>
        public static double MachineBusyS()
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // cpu user nice system idle iowait irq softirq steal ...
            long busy = 0;
            foreach (int i in new[] { 1, 2, 3, 6, 7, 8 }) busy += long.Parse(f[i], CultureInfo.InvariantCulture);
            return busy / 100.0;
        }

        public static string LoadAvg() => File.ReadAllText("/proc/loadavg").Trim();

        public static int Nice()
        {
            try
            {
                string s = File.ReadAllText("/proc/self/stat");
                return int.Parse(s.Substring(s.LastIndexOf(')') + 2).Split(' ')[16], CultureInfo.InvariantCulture);
            }
            catch { return 0; }
        }
    }
}
