using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Bench
{
    /// <summary>
    /// A 3-node ZooKeeper ensemble on 127.0.0.1 started by tests/tools/zk-ensemble.sh: each node has
    /// DIR/zN/start.sh and stop.sh (stop by PID) and DIR/zN/data. Polling uses plain `srvr`.
    /// </summary>
    public sealed class Ensemble
    {
        public string Dir { get; }
        public string Script { get; }
        public List<ZkMemberSpec> Members { get; } = new List<ZkMemberSpec>();
        public List<string> Servers => Members.Select(m => m.ClientAddress).ToList();

        private Ensemble(string script, string dir) { Script = script; Dir = dir; }

        public static string FindScript(string given)
        {
            if (given != null)
                return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException("--ensemble-script not found", given);
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
                for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                {
                    string f = Path.Combine(d.FullName, "tests", "tools", "zk-ensemble.sh");
                    if (File.Exists(f)) return f;
                }
            throw new FileNotFoundException("tests/tools/zk-ensemble.sh not found above the current directory; pass --ensemble-script.");
        }

        /// <summary>First base port at or above <paramref name="basePort"/> whose 12 node ports (base+4 .. base+15) are free.</summary>
        public static int FreeBasePort(int basePort, int size)
        {
            for (int b = basePort; b < basePort + 400; b += 20)
                if (Enumerable.Range(b + 4, 4 * size).All(PortFree)) return b;
            throw new InvalidOperationException($"No free port range near {basePort}.");
        }

        private static bool PortFree(int port)
        {
            try { var l = new TcpListener(IPAddress.Loopback, port); l.Start(); l.Stop(); return true; }
            catch (SocketException) { return false; }
        }

        /// <summary>Runs zk-ensemble.sh start. The caller stops it (Stop) in its finally block, also when this throws.</summary>
        public static Ensemble Start(string script, string dir, int size, int basePort, string heap)
        {
            var e = new Ensemble(script, dir);
            var psi = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { script, "start", dir, size.ToString(CultureInfo.InvariantCulture), basePort.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
            psi.Environment["ZK_HEAP"] = heap;
            psi.Environment["ZK_EXTRA_CFG"] = "";
            string so, se;
            using (var p = Process.Start(psi))
            {
                var err = p.StandardError.ReadToEndAsync();
                so = p.StandardOutput.ReadToEnd(); se = err.Result;
                p.WaitForExit();
                if (p.ExitCode != 0) throw new InvalidOperationException($"zk-ensemble.sh start failed ({p.ExitCode}): {se}");
            }
            foreach (var line in so.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = line.Split(' ');
                string nodeDir = Path.Combine(dir, f[0]);
                e.Members.Add(new ZkMemberSpec
                {
                    Name = f[0], Id = int.Parse(f[1], CultureInfo.InvariantCulture), ClientAddress = f[2], DataDir = f[3], Node = "localhost",
                    StartCommand = "sh " + Path.Combine(nodeDir, "start.sh"),
                    StopCommand = "sh " + Path.Combine(nodeDir, "stop.sh"),
                });
            }
            return e;
        }

        public string NodeDir(ZkMemberSpec m) => Path.Combine(Dir, m.Name);

        public void StopAll()
        {
            var psi = new ProcessStartInfo("sh") { UseShellExecute = false };
            psi.ArgumentList.Add(Script); psi.ArgumentList.Add("stop"); psi.ArgumentList.Add(Dir);
            using (var p = Process.Start(psi)) p.WaitForExit();
        }

        /// <summary>srvr on one node: (serving, mode, node count); null mode when it does not answer or does not serve.</summary>
        public static (bool Serving, string Mode, long Nodes) Srvr(string address, int timeoutMs = 1000)
        {
            try
            {
                var info = ZkClient.Probe(address, TimeSpan.FromMilliseconds(timeoutMs), CancellationToken.None, withConf: false);
                return (info.Serving, info.Mode, info.ZnodeCount);
            }
            catch (ZkProbeException) { return (false, null, 0); }
        }

        public static long MntrZnodeCount(string address)
        {
            string text = ZkClient.FourLetter(address, "mntr", TimeSpan.FromSeconds(3), CancellationToken.None);
            foreach (var line in text.Split('\n'))
                if (line.StartsWith("zk_znode_count\t", StringComparison.Ordinal)) return long.Parse(line.Substring(15).Trim(), CultureInfo.InvariantCulture);
            throw new InvalidOperationException($"mntr of {address} has no zk_znode_count: {text}");
        }

        /// <summary>Every node serving and exactly one leader (the manual operator's check, with srvr only).</summary>
        public bool AllServingOneLeader(out string leader)
        {
            leader = null;
            int leaders = 0;
            foreach (var m in Members)
            {
                var s = Srvr(m.ClientAddress);
                if (!s.Serving) return false;
                if (s.Mode == "leader") { leaders++; leader = m.ClientAddress; }
            }
            return leaders == 1;
        }

        public string WaitAllServing(TimeSpan timeout, int pollMs)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < timeout)
            {
                if (AllServingOneLeader(out var leader)) return leader;
                Thread.Sleep(pollMs);
            }
            throw new TimeoutException($"The ensemble in {Dir} did not serve with one leader within {timeout.TotalSeconds:0} s.\n{Logs()}");
        }

        public ZkMemberSpec Follower()
        {
            foreach (var m in Members) if (Srvr(m.ClientAddress).Mode == "follower") return m;
            throw new InvalidOperationException("No follower found.");
        }

        public string Logs() => string.Join("\n", Members.Select(m =>
        {
            var log = Path.Combine(NodeDir(m), "zookeeper.log");
            if (!File.Exists(log)) return m.Name + ": no log";
            var lines = File.ReadAllLines(log);
            return m.Name + ":\n" + string.Join("\n", lines.Skip(Math.Max(0, lines.Length - 10)));
        }));
    }

    /// <summary>
    /// Watches one node from outside with `srvr` every few ms on its own thread: when it stopped serving and
    /// when it served again, like a client would see it.
    /// </summary>
    public sealed class ServeWatcher : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private readonly Stopwatch _clock;
        public double DownAtMs = -1, BackAtMs = -1;

        public ServeWatcher(string address, Stopwatch clock, int pollMs)
        {
            _clock = clock;
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    bool serving = Ensemble.Srvr(address, 500).Serving;
                    double t = _clock.Elapsed.TotalMilliseconds;
                    if (!serving && DownAtMs < 0) DownAtMs = t;
                    else if (serving && DownAtMs >= 0 && BackAtMs < 0) BackAtMs = t;
                    Thread.Sleep(pollMs);
                }
            }) { IsBackground = true, Name = "srvr-watch" };
            _thread.Start();
        }

        public double WindowMs => DownAtMs >= 0 && BackAtMs >= 0 ? BackAtMs - DownAtMs : double.NaN;

        public void Dispose() { _stop = true; _thread.Join(); }
    }
}
