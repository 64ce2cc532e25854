using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ClusterDR.Swarm;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>
    /// A real dockerd with its own data root, exec root, pidfile and unix socket, started under
    /// nsenter into a network namespace (TESTING.md: only lo up, or a veth onto a test bridge), so
    /// swarm traffic and bridges never touch the host's network. Stopped with SIGTERM by PID.
    /// </summary>
    public sealed class DockerTestNode : IDisposable
    {
        public DockerTestNode(string netns, string address)
        {
            Dockerd = TestEnv.Require("dockerd", "apt-get install --no-install-recommends docker.io (tests/tools/install-deps.sh)");
            TestEnv.Require("docker", "apt-get install --no-install-recommends docker.io");
            TestEnv.Require("nsenter", "apt-get install util-linux");
            Netns = netns;
            Address = address;
            Dir = TestEnv.TempDir("dockerd");
            Directory.CreateDirectory(DataRoot);
            StartCommand =
                $"p=$(cat {PidFile} 2>/dev/null) && [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status && exit 0; " +
                $"setsid nsenter --net=/run/netns/{netns} {Dockerd} --data-root {DataRoot} --exec-root {Dir}/exec --pidfile {PidFile} -H unix://{Socket} " +
                "--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none --storage-driver=vfs --shutdown-timeout 3 " +
                $">>{Dir}/dockerd.log 2>&1 </dev/null & " +
                $"for i in $(seq 100); do [ -S {Socket} ] && exit 0; sleep 0.05; done; exit 0";
            StopCommand =
                $"p=$(cat {PidFile} 2>/dev/null) || exit 0; kill -TERM $p 2>/dev/null || exit 0; " +
                "while [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null; do sleep 0.05; done";
            try { Start(); }
            catch
            {
                // A constructor that throws gets no Dispose: stop what a start that failed half-way left running.
                Dispose();
                throw;
            }
        }

        public string Dockerd { get; }
        public string Netns { get; }
        public string Address { get; }
        public string Dir { get; }
        public string DataRoot => Path.Combine(Dir, "root");
        public string SwarmDir => Path.Combine(DataRoot, "swarm");
        public string PidFile => Path.Combine(Dir, "dockerd.pid");
        public string Socket => Path.Combine(Dir, "docker.sock");
        public string DockerHost => "unix://" + Socket;
        public string StartCommand { get; }
        public string StopCommand { get; }
        public int Pid => int.TryParse(File.Exists(PidFile) ? File.ReadAllText(PidFile).Trim() : "", out int p) ? p : 0;
        public bool Running => Pid > 0 && File.Exists($"/proc/{Pid}/status") && !File.ReadAllText($"/proc/{Pid}/status").Contains("State:\tZ");

        public SwarmNodeOptions Options => new SwarmNodeOptions
        {
            DockerHost = DockerHost, DataRoot = DataRoot, StartCommand = StartCommand, StopCommand = StopCommand, WaitTimeout = TimeSpan.FromSeconds(60),
        };

        public void Start()
        {
            Shell.Run("/bin/sh", "-c", StartCommand);
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(30))
            {
                string version;
                try { version = Docker("version", "--format", "{{.Server.Version}}"); }
                catch (InvalidOperationException) { Thread.Sleep(100); continue; }
                TestEnv.ExpectVersion("docker", version.Trim());
                return;
            }
            throw new TimeoutException("dockerd did not answer: " + Tail());
        }

        public void Stop() => Shell.Run("/bin/sh", "-c", StopCommand);

        public string Tail() => File.Exists(Path.Combine(Dir, "dockerd.log")) ? string.Join("\n", File.ReadAllLines(Path.Combine(Dir, "dockerd.log")).TakeLast(15)) : "";

        /// <summary>Runs the docker CLI against this daemon.</summary>
        public string Docker(params string[] args) => DockerWithInput(null, args);

        /// <summary>Runs the docker CLI with <paramref name="input"/> on its stdin (secrets, configs).</summary>
        public string DockerWithInput(string input, params string[] args)
        {
            var psi = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            psi.Environment["DOCKER_HOST"] = DockerHost;
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            if (input != null) p.StandardInput.Write(input);
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"docker {string.Join(" ", args)} failed ({p.ExitCode}): {err.Result}");
            return output.Trim();
        }

        public void Init() => Docker("swarm", "init", "--advertise-addr", Address, "--listen-addr", Address + ":2377");

        /// <summary>Secrets, configs, an overlay network and a one-replica service on a locally imported busybox image (no registry).</summary>
        public void Populate()
        {
            Docker("import", BusyboxTar.Value, "clusterdr/busybox:1");
            DockerWithInput("s3cret", "secret", "create", "s1", "-");
            DockerWithInput("s3cret2", "secret", "create", "s2", "-");
            DockerWithInput("cfg", "config", "create", "c1", "-");
            Docker("network", "create", "-d", "overlay", "ov1");
            Docker("service", "create", "--detach", "--name", "svc1", "--replicas", "1", "--network", "ov1", "--secret", "s1", "--config", "c1",
                "--stop-signal", "KILL", "clusterdr/busybox:1", "/bin/busybox", "sleep", "3600");
            Docker("service", "create", "--detach", "--name", "svc2", "--replicas", "0", "clusterdr/busybox:1", "/bin/busybox", "true");
        }

        public string Objects() => string.Join("|",
            Docker("service", "ls", "--format", "{{.Name}}").Split('\n').OrderBy(x => x).Concat(
            Docker("secret", "ls", "--format", "{{.Name}}").Split('\n').OrderBy(x => x)).Concat(
            Docker("config", "ls", "--format", "{{.Name}}").Split('\n').OrderBy(x => x)).Concat(
            Docker("network", "ls", "--filter", "scope=swarm", "--format", "{{.Name}}").Split('\n').OrderBy(x => x)));

        private static readonly Lazy<string> BusyboxTar = new Lazy<string>(() =>
        {
            var busybox = new[] { "/usr/bin/busybox", "/bin/busybox" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("busybox is required for the swarm service image: apt-get install busybox-static");
            var d = TestEnv.TempDir("busybox-image");
            Directory.CreateDirectory(Path.Combine(d, "img", "bin"));
            File.Copy(busybox, Path.Combine(d, "img", "bin", "busybox"));
            Shell.Run("tar", "-C", Path.Combine(d, "img"), "-cf", Path.Combine(d, "busybox.tar"), ".");
            return Path.Combine(d, "busybox.tar");
        });

        public void Dispose()
        {
            try { Stop(); } catch { }
            try
            {
                foreach (var m in File.ReadAllLines("/proc/mounts").Select(l => l.Split(' ')[1]).Where(m => m.StartsWith(Dir, StringComparison.Ordinal)).OrderByDescending(m => m.Length))
                    Shell.Run("umount", "-l", m);
            }
            catch { }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }

    /// <summary>A network namespace with only lo up, or (for several managers) a bridge namespace with veth pairs to per-node namespaces on 10.x addresses.</summary>
    public sealed class TestNetns : IDisposable
    {
        private readonly List<string> _names = new List<string>();
        private readonly string _tag = Guid.NewGuid().ToString("N").Substring(0, 6);

        public TestNetns() { TestEnv.Require("ip", "apt-get install iproute2"); }

        /// <summary>A namespace with only the loopback interface up.</summary>
        public string Loopback()
        {
            string ns = "cdr" + _tag + "l" + _names.Count;
            Add(ns);
            return ns;
        }

        /// <summary>N namespaces joined by a bridge living in its own namespace; returns (namespace, address) pairs.</summary>
        public (string Netns, string Address)[] Bridged(int count)
        {
            string br = "cdr" + _tag + "br";
            Add(br);
            Shell.Run("ip", "-n", br, "link", "add", "br0", "type", "bridge");
            Shell.Run("ip", "-n", br, "link", "set", "br0", "up");
            int net = 100 + Math.Abs(_tag.GetHashCode() % 100);
            var nodes = new (string, string)[count];
            for (int i = 0; i < count; i++)
            {
                string ns = "cdr" + _tag + "m" + i;
                Add(ns);
                string addr = $"10.{net}.0.{i + 1}";
                Shell.Run("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "p" + i, "netns", br);
                Shell.Run("ip", "-n", ns, "addr", "add", addr + "/24", "dev", "eth0");
                Shell.Run("ip", "-n", ns, "link", "set", "eth0", "up");
                Shell.Run("ip", "-n", br, "link", "set", "p" + i, "master", "br0");
                Shell.Run("ip", "-n", br, "link", "set", "p" + i, "up");
                nodes[i] = (ns, addr);
            }
            return nodes;
        }

        private void Add(string ns)
        {
            Shell.Run("ip", "netns", "add", ns);
            _names.Add(ns);
            Shell.Run("ip", "-n", ns, "link", "set", "lo", "up");
        }

        public void Dispose()
        {
            foreach (var ns in Enumerable.Reverse(_names)) { try { Shell.Run("ip", "netns", "del", ns); } catch { } }
        }
    }
}

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>A "node" that is a network namespace of this machine: scripts run under nsenter in it, as they would on that host.</summary>
    public sealed class NetnsShell : ClusterDR.Transport.ProcessShell
    {
        private readonly string _netns;
        public NetnsShell(string netns) { _netns = netns; }
        public override string Node => "netns:" + _netns;
        protected override (string FileName, System.Collections.Generic.IList<string> Args) Launch(string script) =>
            ("nsenter", new[] { "--net=/run/netns/" + _netns, "/bin/sh", "-c", script });
    }
}
