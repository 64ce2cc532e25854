using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>
    /// A real ZooKeeper ensemble on 127.0.0.1 started by tests/tools/zk-ensemble.sh, each node stopped
    /// by PID through its stop.sh. Test data goes in and comes back out through zkCli.sh.
    /// </summary>
    public sealed class ZkTestEnsemble : IDisposable
    {
        public const string ZkCli = "/usr/share/zookeeper/bin/zkCli.sh";

        public ZkTestEnsemble(int size = 3, string extraConfig = null)
        {
            if (!File.Exists("/usr/share/java/zookeeper.jar") || !File.Exists(ZkCli))
                throw new InvalidOperationException("ZooKeeper is required by this test but is not installed. Install it with: apt-get install --no-install-recommends zookeeper" +
                    (Environment.GetEnvironmentVariable("CI") == "true" ? " (CI=true: .ci/run should have installed it)" : ""));
            TestEnv.Require("java", "apt-get install default-jre-headless");
            Dir = TestEnv.TempDir("zk");
            int basePort = TestEnv.FreePorts(4 * size + 4);
            try
            {
                var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in new[] { TestEnv.Tool("zk-ensemble.sh"), "start", Dir, size.ToString(), basePort.ToString() }) psi.ArgumentList.Add(a);
                psi.Environment["ZK_EXTRA_CFG"] = extraConfig ?? "";
                string output;
                using (var p = Process.Start(psi)!)
                {
                    output = p.StandardOutput.ReadToEnd();
                    p.WaitForExit();
                    if (p.ExitCode != 0) throw new InvalidOperationException("zk-ensemble.sh failed: " + p.StandardError.ReadToEnd());
                }
                Members = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
                {
                    var f = line.Split(' ');
                    string nodeDir = Path.Combine(Dir, f[0]);
                    AdminUrls.Add(new Uri(f[4]));
                    return new ZkMemberSpec
                    {
                        Name = f[0], Id = int.Parse(f[1]), ClientAddress = f[2], DataDir = f[3], Node = "localhost",
                        StartCommand = "sh " + Path.Combine(nodeDir, "start.sh"),
                        StopCommand = "sh " + Path.Combine(nodeDir, "stop.sh"),
                    };
                }).ToList();
                WaitServing(TimeSpan.FromSeconds(60));
            }
            catch
            {
                // A constructor that throws gets no Dispose: stop what a start that failed half-way left running.
                Dispose();
                throw;
            }
        }

        public string Dir { get; }
        public List<ZkMemberSpec> Members { get; }
        public List<Uri> AdminUrls { get; } = new List<Uri>();
        public List<string> Servers => Members.Select(m => m.ClientAddress).ToList();

        public QuorumStatus Status() =>
            ZkStatusReader.Read(Members.Select(m => new ZkTarget { Name = m.Name, Address = m.ClientAddress, Id = m.Id }), TimeSpan.FromSeconds(2), CancellationToken.None);

        public QuorumStatus WaitServing(TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            QuorumStatus s = null;
            while (sw.Elapsed < timeout)
            {
                s = Status();
                if (ZkStatusReader.Problem(s) == null)
                {
                    foreach (var m in s.Members) TestEnv.ExpectVersion("zookeeper", m.Version);
                    return s;
                }
                Thread.Sleep(200);
            }
            throw new TimeoutException($"ZooKeeper ensemble in {Dir} not serving after {timeout}: {s}\n" + Logs());
        }

        /// <summary>
        /// Runs zkCli commands (one a line) in one session against node <paramref name="member"/>; returns
        /// stdout (data that get/ls print), followed by stderr (where zkCli reports "Created …") when asked.
        /// </summary>
        public string Cli(IEnumerable<string> commands, int member = 0, bool withStderr = true)
        {
            var psi = new ProcessStartInfo(ZkCli) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-server");
            psi.ArgumentList.Add(Members[member].ClientAddress);
            psi.Environment["JVMFLAGS"] = "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
            psi.Environment["ZOO_LOG4J_PROP"] = "ERROR,CONSOLE";
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEndAsync();
            foreach (var c in commands) p.StandardInput.WriteLine(c);
            p.StandardInput.WriteLine("quit");
            p.StandardInput.Close();
            if (!p.WaitForExit(120_000)) { p.Kill(); throw new TimeoutException("zkCli hung"); }
            return withStderr ? stdout.Result + "\n" + err.Result : stdout.Result;
        }

        /// <summary>Creates znodes /path → value (parents first, values without spaces or newlines).</summary>
        public void Create(IEnumerable<KeyValuePair<string, string>> znodes, int member = 0)
        {
            var output = Cli(znodes.Select(kv => $"create {kv.Key} {kv.Value}"), member);
            int created = output.Split('\n').Count(l => l.StartsWith("Created "));
            if (created != znodes.Count()) throw new InvalidOperationException($"zkCli created {created} of {znodes.Count()} znodes: {output}");
        }

        /// <summary>Every znode outside /zookeeper with its data, read back through node <paramref name="member"/>.</summary>
        public SortedDictionary<string, string> Dump(int member = 0)
        {
            var paths = Cli(new[] { "ls -R /" }, member, withStderr: false).Split('\n').Select(l => l.Trim())
                .Where(l => l.StartsWith("/") && l != "/" && !l.StartsWith("/zookeeper")).OrderBy(l => l, StringComparer.Ordinal).ToList();
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (paths.Count == 0) return result;
            // "get" prints one line per znode (values are single words); mark each with an echo-able separator.
            var output = Cli(paths.Select(p => "get " + p), member, withStderr: false).Split('\n').Select(l => l.TrimEnd('\r'))
                .Where(l => l.Length > 0 && !l.StartsWith("WATCHER") && !l.StartsWith("WatchedEvent") && !l.StartsWith("[")
                    && !l.StartsWith("Connecting to ") && l != "Welcome to ZooKeeper!" && !l.StartsWith("JLine support")).ToList();
            if (output.Count != paths.Count) throw new InvalidOperationException($"zkCli get returned {output.Count} lines for {paths.Count} znodes: {string.Join("|", output.Take(20))}");
            for (int i = 0; i < paths.Count; i++) result[paths[i]] = output[i];
            return result;
        }

        /// <summary>Waits until <paramref name="count"/> servers serve (stopping a leader costs an election first).</summary>
        public QuorumStatus WaitServingCount(int count, TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            QuorumStatus s = null;
            while (sw.Elapsed < timeout)
            {
                s = Status();
                if (s.HealthyCount >= count) return s;
                Thread.Sleep(200);
            }
            throw new TimeoutException($"fewer than {count} ZooKeeper servers serve after {timeout}: {s}\n" + Logs());
        }

        public void Stop(int i) => Shell.Run("sh", Path.Combine(Dir, Members[i].Name, "stop.sh"));
        public void Start(int i) => Shell.Run("sh", Path.Combine(Dir, Members[i].Name, "start.sh"));

        public string Pid(int i)
        {
            var pid = Path.Combine(Dir, Members[i].Name, "pid");
            return File.Exists(pid) ? File.ReadAllText(pid).Trim() : null;
        }

        public bool IsRunning(int i)
        {
            var p = Pid(i);
            if (p == null) return false;
            var status = "/proc/" + p + "/status";
            return File.Exists(status) && !File.ReadAllText(status).Contains("State:\tZ");
        }

        /// <summary>Every node gone for good: stopped and its data dir (myid included) deleted.</summary>
        public void DestroyAll()
        {
            for (int i = 0; i < Members.Count; i++) Stop(i);
            foreach (var m in Members) Directory.Delete(m.DataDir, true);
        }

        public string Logs() => string.Join("\n", Members.Select(m =>
        {
            var log = Path.Combine(Dir, m.Name, "zookeeper.log");
            if (!File.Exists(log)) return m.Name + ": no log";
            var lines = File.ReadAllLines(log);
            return m.Name + ":\n" + string.Join("\n", lines.Skip(Math.Max(0, lines.Length - 15)));
        }));

        public void Dispose()
        {
            try { Shell.Run("sh", TestEnv.Tool("zk-ensemble.sh"), "stop", Dir); } catch { }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }
}
