using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>Where the repository is, which servers exist, free loopback ports.</summary>
    internal static class TestEnv
    {
        public static string RepoRoot { get; } = FindRoot();

        private static string FindRoot()
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d != null && !File.Exists(Path.Combine(d.FullName, "ClusterDR.sln"))) d = d.Parent;
            return d?.FullName ?? throw new InvalidOperationException("ClusterDR.sln not found above " + AppContext.BaseDirectory);
        }

        public static string Tool(string name) => Path.Combine(RepoRoot, "tests", "tools", name);

        /// <summary>A required server that is missing fails the test loudly (CI installs them in .ci/run).</summary>
        public static string Require(string program, string install)
        {
            var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                .Concat(new[] { "/usr/sbin", "/sbin" })
                .Select(p => Path.Combine(p, program)).FirstOrDefault(File.Exists);
            if (path == null)
                throw new InvalidOperationException($"{program} is required by this test but is not installed. Install it with: {install}" +
                    (Environment.GetEnvironmentVariable("CI") == "true" ? " (CI=true: .ci/run should have installed it)" : ""));
            return path;
        }

        /// <summary>
        /// The version matrix (build.sh test runs the etcd, swarm and ZooKeeper suites again against Debian 13's
        /// servers): when CLUSTERDR_EXPECT_&lt;COMPONENT&gt; is set, a server that reports another version fails
        /// the test, so the newer run can never pass on the distribution's binaries by mistake.
        /// </summary>
        public static void ExpectVersion(string component, string reported)
        {
            string expected = Environment.GetEnvironmentVariable("CLUSTERDR_EXPECT_" + component.ToUpperInvariant());
            if (string.IsNullOrEmpty(expected)) return;
            if (reported == null || !reported.StartsWith(expected, StringComparison.Ordinal))
                throw new InvalidOperationException($"The version matrix expects {component} {expected}*, but the server reports '{reported}'.");
        }

        private static readonly object PortGate = new object();
        // Below Linux's ephemeral range (32768+), so a port a test frees is not taken by some outgoing connection.
        private static int _next = 20000 + (Environment.ProcessId % 40) * 200;

        /// <summary>A run of <paramref name="count"/> consecutive free ports on 127.0.0.1.</summary>
        public static int FreePorts(int count)
        {
            lock (PortGate)
            {
                for (int attempt = 0; attempt < 500; attempt++)
                {
                    int start = _next;
                    _next += count + 1;
                    if (_next > 32000) _next = 20000;
                    if (Enumerable.Range(start, count).All(IsFree)) return start;
                }
                throw new InvalidOperationException("No free loopback ports.");
            }
        }

        private static bool IsFree(int port)
        {
            try
            {
                var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                l.Stop();
                return true;
            }
            catch (SocketException) { return false; }
        }

        public static string TempDir(string prefix)
        {
            var d = Path.Combine(Path.GetTempPath(), "clusterdr-test-" + prefix + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(d);
            return d;
        }
    }
}
