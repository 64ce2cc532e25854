using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Backup-ZkState and Restore-ZkState as users run them (pwsh -File, end to end) against the manual
    /// stop, tar, start procedure, on a throwaway 3-node ZooKeeper ensemble on 127.0.0.1, per data set
    /// (cluster-like, incompressible, a million-znode scale run). See bench/ZOOKEEPER.md or --help.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length == 3 && args[0] == "--load-only") return LoadOnly(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
            Options o;
            try { o = Options.Parse(args); }
            catch (ArgumentException ex) { Console.Error.WriteLine(ex.Message); Console.Error.WriteLine(Options.Usage); return 2; }
            if (o.Help) { Console.WriteLine(Options.Usage); return 0; }
            return new Bench(o).Run();
        }

        /// <summary>Debug aid: `--load-only HOST:PORT N` writes N znodes /zkload/kN to a running server.</summary>
        private static int LoadOnly(string address, int n)
        {
            ClusterDR.ZooKeeper.ZkClient.TryParseAddress(address, out var host, out var port);
            var paths = new List<string> { "/zkload" };
            for (int i = 0; i < n; i++) paths.Add("/zkload/k" + i.ToString(CultureInfo.InvariantCulture));
            var sw = Stopwatch.StartNew();
            using (var wire = new ZkWire(host, port))
                Console.WriteLine($"{wire.CreateMany(paths, i => new byte[32], 2000)} created in {sw.Elapsed.TotalSeconds:0.00} s");
            return 0;
        }
    }

    public sealed class Options
    {
        public List<string> Modes = new List<string> { "cluster", "random" };
        public int Znodes = 100000;
        public int Rounds = 3;
        public int Warmup = 1;
        public int PayloadBytes = 1024;
        public int ScaleZnodes = 1000000;
        public int ScalePayloadBytes = 32;
        public int ScaleRounds = 1;
        public string ScaleHeap = "2g";
        public string Pwsh, Module;
        public int Window = 2000;
        public string Heap = "1g";
        public int BasePort = 21400;
        public int PollMs = 250;
        public int WatchMs = 50;
        public string WorkDir = Path.GetTempPath();
        public string Script;
        public string Report;
        public bool Breakdown = true;
        public bool WriteAfterRestore = true;
        public bool Rehearse;
        public bool Help;

        public const string Usage =
@"ZkBench: Backup-ZkState / Restore-ZkState through pwsh (pwsh -NoProfile -NonInteractive -File, end to end)
vs the manual stop, tar, start procedure, on a throwaway 3-node ZooKeeper ensemble on 127.0.0.1.
  nice -n 10 dotnet run -c Release --project bench/ZkBench -- [options]
  --mode LIST          data sets to run, comma-separated, each on a fresh ensemble (default cluster,random):
                       cluster  znodes shaped like a DC/OS master's (Marathon JSON, SDK framework blobs)
                       random   /zkbench/dNNNN/kNNNNNNN leaves of --payload-bytes random bytes
                       scale    --scale-znodes random leaves of --scale-payload-bytes; peak RSS vs idle pwsh
  --znodes N           znodes of the cluster and random sets (default 100000; written over the wire, pipelined)
  --payload-bytes N    data of each random leaf (default 1024)
  --rounds N           measured rounds; each round runs both backups and both restores, alternating
                       which goes first (default 3; scale: --scale-rounds, default 1)
  --warmup N           untimed rounds first (page cache, pwsh's disk cache; default 1; scale: none)
  --scale-znodes N     leaves of the scale set (default 1000000)
  --scale-payload-bytes N   (default 32)
  --scale-heap SIZE    JVM -Xmx of every node for the scale set (default 2g)
  --scale-rounds N     (default 1)
  --pwsh FILE          the pwsh to run (default: out/tools/pwsh's pwsh.dll under dotnet, else pwsh on PATH)
  --module PSD1        the module manifest (default out/ClusterDR/ClusterDR.psd1: ./build.sh build first)
  --window N           create requests in flight while loading (default 2000)
  --heap SIZE          JVM -Xmx of every node, passed as ZK_HEAP to zk-ensemble.sh (default 1g)
  --poll-ms N          the manual procedure's srvr polling interval (default 250, the engines' own)
  --watch-ms N         interval of the outside srvr watcher that times both sides (default 50)
  --base-port N        client ports N+4, N+8, N+12 (default 21400, below the ephemeral range; moved up when taken)
  --work-dir DIR       where the ensemble, the archives and the tars go (default $TMPDIR or /tmp)
  --ensemble-script F  tests/tools/zk-ensemble.sh (default: found above the current directory)
  --report FILE        also write the markdown results to FILE
  --no-write-after-restore
                       do not write one marker znode after each restore (untimed). Without that write,
                       every restore is a new leader epoch without transactions, and from the second
                       round on Backup-ZkState's catch-up check times out (see bench/ZOOKEEPER.md)
  --no-breakdown       skip the extra untimed in-process engine runs that time each step (never in scale)
  --load-only HOST:PORT N   (debug) write N znodes /zkload/kN to a running server and exit";

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
                    case "--mode":
                        o.Modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
                        foreach (var m in o.Modes)
                            if (m != "cluster" && m != "random" && m != "scale") throw new ArgumentException($"--mode: '{m}' is not cluster, random or scale.");
                        break;
                    case "--znodes": o.Znodes = NextInt(1); break;
                    case "--scale-znodes": o.ScaleZnodes = NextInt(1); break;
                    case "--scale-payload-bytes": o.ScalePayloadBytes = NextInt(0); break;
                    case "--scale-heap": o.ScaleHeap = Next(); break;
                    case "--scale-rounds": o.ScaleRounds = NextInt(1); break;
                    case "--pwsh": o.Pwsh = Next(); break;
                    case "--module": o.Module = Next(); break;
                    case "--rounds": o.Rounds = NextInt(1); break;
                    case "--warmup": o.Warmup = NextInt(0); break;
                    case "--payload-bytes": o.PayloadBytes = NextInt(0); break;
                    case "--window": o.Window = NextInt(1); break;
                    case "--heap": o.Heap = Next(); break;
                    case "--poll-ms": o.PollMs = NextInt(10); break;
                    case "--watch-ms": o.WatchMs = NextInt(10); break;
                    case "--base-port": o.BasePort = NextInt(1024); break;
                    case "--work-dir": o.WorkDir = Next(); break;
                    case "--ensemble-script": o.Script = Next(); break;
                    case "--report": o.Report = Next(); break;
                    case "--no-breakdown": o.Breakdown = false; break;
                    case "--no-write-after-restore": o.WriteAfterRestore = false; break;
                    case "--rehearse": o.Rehearse = true; break;
                    case "-h": case "--help": o.Help = true; break;
                    default: throw new ArgumentException($"Unknown option '{a}'.");
                }
            }
            return o;
        }
    }

    /// <summary>Load average and niceness, as `uptime` prints them.</summary>
    public static class Machine
    {
        public static string Uptime()
        {
            try
            {
                var psi = new ProcessStartInfo("uptime") { UseShellExecute = false, RedirectStandardOutput = true };
                using (var p = Process.Start(psi)) { string s = p.StandardOutput.ReadToEnd().Trim(); p.WaitForExit(); return s; }
            }
            catch (Exception) { return "load " + File.ReadAllText("/proc/loadavg").Trim(); }
        }

        /// <summary>"3.54, 5.57, 5.23" out of uptime's line.</summary>
        public static string Load(string uptime)
        {
            int i = uptime.IndexOf("load average:", StringComparison.Ordinal);
            return i < 0 ? uptime : uptime.Substring(i + 13).Trim();
        }

        public static int Nice()
        {
            try
            {
                string s = File.ReadAllText("/proc/self/stat");
                return int.Parse(s.Substring(s.LastIndexOf(')') + 2).Split(' ')[16], CultureInfo.InvariantCulture);
            }
            catch (Exception) { return 0; }
        }
    }
}
