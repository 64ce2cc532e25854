using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ClusterDR.Etcd;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>
    /// A real etcd cluster on 127.0.0.1 started by tests/tools/etcd-cluster.sh, each member stopped by
    /// PID through its stop.sh. Dispose stops every member and deletes the directory.
    /// </summary>
    public sealed class EtcdTestCluster : IDisposable
    {
        public EtcdTestCluster(int size = 3)
        {
            TestEnv.Require("etcd", "apt-get install etcd-server etcd-client");
            TestEnv.Require("etcdctl", "apt-get install etcd-client");
            Dir = TestEnv.TempDir("etcd");
            int basePort = TestEnv.FreePorts(2 * size + 3);
            try
            {
                var output = Shell.Run("sh", TestEnv.Tool("etcd-cluster.sh"), "start", Dir, size.ToString(), basePort.ToString());
                Members = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
                {
                    var f = line.Split(' ');
                    string memberDir = Path.Combine(Dir, f[0]);
                    return new EtcdMemberSpec
                    {
                        Name = f[0], PeerUrl = f[1], ClientUrl = f[2], DataDir = f[3], Node = "localhost",
                        StartCommand = "sh " + Path.Combine(memberDir, "start.sh"),
                        StopCommand = "sh " + Path.Combine(memberDir, "stop.sh"),
                    };
                }).ToList();
                WaitHealthy(TimeSpan.FromSeconds(30));
            }
            catch
            {
                // A constructor that throws gets no Dispose: stop what a start that failed half-way left running.
                Dispose();
                throw;
            }
        }

        public string Dir { get; }
        public List<EtcdMemberSpec> Members { get; }
        public IList<Uri> ClientUrls => Members.Select(m => new Uri(m.ClientUrl)).ToList();
        public Uri Url(int i) => new Uri(Members[i].ClientUrl);

        public EtcdClient Client(int i = 0) => new EtcdClient(Url(i), timeout: TimeSpan.FromSeconds(10));

        public QuorumStatus Status() => EtcdStatusReader.Read(ClientUrls, null, CancellationToken.None, Members);

        public QuorumStatus WaitHealthy(TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            QuorumStatus s = null;
            while (sw.Elapsed < timeout)
            {
                s = Status();
                if (s.MemberCount == Members.Count && s.HealthyCount == s.MemberCount)
                {
                    foreach (var m in s.Members) TestEnv.ExpectVersion("etcd", m.Version);
                    return s;
                }
                Thread.Sleep(200);
            }
            throw new TimeoutException($"etcd cluster in {Dir} not healthy after {timeout}: {s}\n" + Logs());
        }

        public void Put(string key, string value, int member = 0)
        {
            using (var c = Client(member)) c.Put(key, value, CancellationToken.None);
        }

        public IDictionary<string, string> All(int member = 0)
        {
            using (var c = Client(member)) return c.Range("", CancellationToken.None, out _);
        }

        public void Stop(int i) => Shell.Run("sh", Path.Combine(Dir, Members[i].Name, "stop.sh"));
        public void Start(int i) => Shell.Run("sh", Path.Combine(Dir, Members[i].Name, "start.sh"));

        /// <summary>The member is gone for good: stopped and its data dir deleted.</summary>
        public void Destroy(int i)
        {
            Stop(i);
            Directory.Delete(Members[i].DataDir, true);
        }

        public bool IsRunning(int i)
        {
            var pid = Path.Combine(Dir, Members[i].Name, "pid");
            if (!File.Exists(pid)) return false;
            var p = File.ReadAllText(pid).Trim();
            var status = "/proc/" + p + "/status";
            return File.Exists(status) && !File.ReadAllText(status).Contains("State:\tZ");
        }

        public string Logs() => string.Join("\n", Members.Select(m =>
        {
            var log = Path.Combine(Dir, m.Name, "etcd.log");
            if (!File.Exists(log)) return m.Name + ": no log";
            var lines = File.ReadAllLines(log);
            return m.Name + ":\n" + string.Join("\n", lines.Skip(Math.Max(0, lines.Length - 15)));
        }));

        public void Dispose()
        {
            try { Shell.Run("sh", TestEnv.Tool("etcd-cluster.sh"), "stop", Dir); } catch { }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }
}
