using System;
using System.Diagnostics;
using System.Linq;
using System.Security;
using System.Text;
using System.Threading;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Swarm
{
    /// <summary>How to drive Docker on one node: the CLI, the daemon's data root and how to stop and start it.</summary>
    public sealed class SwarmNodeOptions
    {
        /// <summary>The docker CLI on the node.</summary>
        public string DockerPath { get; set; } = "docker";
        /// <summary>DOCKER_HOST for the CLI on the node (null: the CLI's default socket).</summary>
        public string DockerHost { get; set; }
        /// <summary>dockerd's --data-root; the swarm state is its swarm/ subdirectory.</summary>
        public string DataRoot { get; set; } = "/var/lib/docker";
        /// <summary>The systemd unit, used when no start/stop commands are given.</summary>
        public string Unit { get; set; } = "docker";
        public string StopCommand { get; set; }
        public string StartCommand { get; set; }
        /// <summary>How long to wait for the daemon to stop, to answer after a start, or for the swarm to be ready.</summary>
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(2);

        public string SwarmDir => DataRoot.TrimEnd('/') + "/swarm";

        /// <summary>docker.socket would start the daemon again on the next CLI call: stop the socket too.</summary>
        public string EffectiveStop => StopCommand ?? $"systemctl stop {Sh.Quote(Unit + ".socket")} 2>/dev/null; systemctl stop {Sh.Quote(Unit + ".service")}";
        public string EffectiveStart => StartCommand ?? $"systemctl start {Sh.Quote(Unit + ".service")}";

        /// <summary>"export DOCKER_HOST=…; " when a host is given: for scripts that run docker under other programs (timeout).</summary>
        public string Prelude => string.IsNullOrEmpty(DockerHost) ? "" : "export DOCKER_HOST=" + Sh.Quote(DockerHost) + "; ";

        /// <summary>The start of every docker command in a script: "[DOCKER_HOST=… ]docker".</summary>
        public string Docker => (string.IsNullOrEmpty(DockerHost) ? "" : "DOCKER_HOST=" + Sh.Quote(DockerHost) + " ") + Sh.Quote(DockerPath);
    }

    /// <summary>What every Swarm operation on one node gets: the node, how to drive Docker there, the unlock key and the guard override.</summary>
    public abstract class SwarmNodeRequest
    {
        public IRemoteShell Shell { get; set; }
        public SwarmNodeOptions Options { get; set; } = new SwarmNodeOptions();
        /// <summary>The autolock key: to unlock after a restart, or a locked node.</summary>
        public SecureString UnlockKey { get; set; }
        /// <summary>Go on although the operation's guard refuses (see each operation).</summary>
        public bool Force { get; set; }
    }

    /// <summary>The Docker daemon operations the Swarm procedures share: stop, start, unlock, wait.</summary>
    public static class SwarmNode
    {
        /// <summary>Runs the stop command, then waits until the daemon no longer answers and no process holds the swarm dir.</summary>
        public static void StopDocker(IRemoteShell sh, SwarmNodeOptions o, IOperationContext ctx) =>
            NodeDataDir.StopAndWait(sh, "Docker on " + sh.Node, o.EffectiveStop, new[] { o.SwarmDir },
                () => Answers(sh, o, ctx.Cancellation) ? "still answers" : null, ctx, o.WaitTimeout);

        /// <summary>Runs the start command and waits until the daemon answers.</summary>
        public static void StartDocker(IRemoteShell sh, SwarmNodeOptions o, IOperationContext ctx)
        {
            var ct = ctx.Cancellation;
            sh.RunChecked("Start Docker", o.EffectiveStart, ct);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < o.WaitTimeout)
            {
                Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                if (Answers(sh, o, ct)) return;
                Thread.Sleep(100);
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                $"Docker on {sh.Node} did not answer within {o.WaitTimeout.TotalSeconds:0} s of its start command.", sh.Node);
        }

        /// <summary>True when the daemon answers the CLI (docker version reaches the server).</summary>
        public static bool Answers(IRemoteShell sh, SwarmNodeOptions o, CancellationToken ct) =>
            sh.RunText(o.Docker + " version --format '{{.Server.Version}}' >/dev/null 2>&1", null, ct).ExitCode == 0;

        /// <summary>`docker swarm unlock` with the key on stdin: never on a command line, never in a message.</summary>
        public static void Unlock(IRemoteShell sh, SwarmNodeOptions o, SecureString key, CancellationToken ct)
        {
            if (key == null)
                throw new ClusterDrException(ErrorIds.UnlockKeyRequired, ErrorKind.InvalidArgument,
                    $"Docker on {sh.Node} is locked (autolock) and no -UnlockKey was given.", sh.Node, surfaceAsIs: true);
            string plain = Secrets.Plain(key);
            var r = sh.RunText(o.Docker + " swarm unlock", plain + "\n", ct);
            plain = null;
            if (r.ExitCode == 0) return;
            string err = Redact(r.StdErr, key);
            if (err.IndexOf("invalid", StringComparison.OrdinalIgnoreCase) >= 0 || err.IndexOf("incorrect", StringComparison.OrdinalIgnoreCase) >= 0)
                throw new ClusterDrException(ErrorIds.UnlockKeyInvalid, ErrorKind.SecurityError, $"Docker on {sh.Node} rejected the unlock key: {err.Trim()}", sh.Node, surfaceAsIs: true);
            throw ShellExtensions.Failed(sh, "docker swarm unlock", r.ExitCode, err);
        }

        /// <summary>Reads (or rotates) the unlock key; the text goes straight into a SecureString.</summary>
        public static SecureString ReadUnlockKey(IRemoteShell sh, SwarmNodeOptions o, bool rotate, CancellationToken ct)
        {
            var r = sh.RunText(o.Docker + " swarm unlock-key -q" + (rotate ? " --rotate" : ""), null, ct);
            if (r.ExitCode != 0)
            {
                if (r.StdErr.IndexOf("not a swarm manager", StringComparison.OrdinalIgnoreCase) >= 0)
                    throw new ClusterDrException(ErrorIds.NotASwarmManager, ErrorKind.InvalidOperation, $"Docker on {sh.Node} is not a swarm manager: {r.StdErr.Trim()}", sh.Node);
                if (r.StdErr.IndexOf("no unlock key", StringComparison.OrdinalIgnoreCase) >= 0)
                    throw new ClusterDrException(ErrorIds.AutolockOff, ErrorKind.InvalidOperation,
                        $"The swarm of {sh.Node} has no unlock key: autolock is off (docker swarm update --autolock=true turns it on).", sh.Node);
                throw ShellExtensions.Failed(sh, rotate ? "docker swarm unlock-key --rotate" : "docker swarm unlock-key", r.ExitCode, r.StdErr);
            }
            string text = r.StdOut.Trim();
            var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("SWMKEY-", StringComparison.Ordinal)).ToList();
            string key = lines.LastOrDefault() ?? text;
            if (key.Length == 0 || key.IndexOf(' ') >= 0)
                throw new ClusterDrException(ErrorIds.AutolockOff, ErrorKind.InvalidOperation,
                    $"The swarm of {sh.Node} has no unlock key: autolock is off (docker swarm update --autolock=true turns it on).", sh.Node);
            return Secrets.Secure(key);
        }

        /// <summary>Removes the key from text that came back from the node, in case a tool ever echoes it.</summary>
        internal static string Redact(string text, SecureString key)
        {
            if (string.IsNullOrEmpty(text) || key == null) return text ?? "";
            string plain = Secrets.Plain(key);
            return plain.Length == 0 ? text : text.Replace(plain, "<unlock key>");
        }

        /// <summary>Turns autolock on or off (needs an unlocked manager with quorum).</summary>
        public static void SetAutolock(IRemoteShell sh, SwarmNodeOptions o, bool on, CancellationToken ct) =>
            sh.RunChecked(on ? "docker swarm update --autolock=true" : "docker swarm update --autolock=false",
                o.Docker + " swarm update --autolock=" + (on ? "true" : "false") + " >/dev/null", ct);

        /// <summary>`docker swarm init --force-new-cluster`, keeping this node's state, with the addresses when given.</summary>
        public static void ForceNewCluster(IRemoteShell sh, SwarmNodeOptions o, string advertise, string listen, CancellationToken ct)
        {
            var args = new StringBuilder(" swarm init --force-new-cluster");
            if (!string.IsNullOrEmpty(advertise)) args.Append(" --advertise-addr ").Append(Sh.Quote(advertise));
            if (!string.IsNullOrEmpty(listen)) args.Append(" --listen-addr ").Append(Sh.Quote(listen));
            // The restored node's own swarm side starts after dockerd answers and binds the listen port; forcing a new
            // cluster while it is still starting lost that race about 1 restore in 30 ("bind: address already in use").
            // So wait until it has settled, and should the port still be taken, settle and try again, for a bounded time.
            var clock = Stopwatch.StartNew();
            while (true)
            {
                WaitSwarmSettled(sh, o, ct);
                var r = sh.RunText(o.Docker + args + " >/dev/null", null, ct);
                if (r.ExitCode == 0) return;
                bool portBusy = (r.StdErr ?? "").IndexOf("address already in use", StringComparison.OrdinalIgnoreCase) >= 0;
                if (!portBusy || clock.Elapsed > PortBusyRetry) throw ShellExtensions.Failed(sh, "docker swarm init --force-new-cluster", r.ExitCode, r.StdErr);
                Thread.Sleep(500);
            }
        }

        /// <summary>How long a force-new-cluster keeps trying while the node's swarm listen port is taken.</summary>
        internal static readonly TimeSpan PortBusyRetry = TimeSpan.FromSeconds(30);

        /// <summary>Waits (up to the node's wait timeout) until the local swarm state is no longer "pending".</summary>
        private static void WaitSwarmSettled(IRemoteShell sh, SwarmNodeOptions o, CancellationToken ct)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < o.WaitTimeout)
            {
                Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                var r = sh.RunText(o.Docker + " info --format '{{.Swarm.LocalNodeState}}'", null, ct);
                if (r.ExitCode == 0 && r.StdOut.Trim() != "pending") return;
                Thread.Sleep(200);
            }
        }

        /// <summary>
        /// Polls until the node is an active, reachable manager of a swarm with quorum whose node list
        /// answers (and, with <paramref name="managers"/>, has at least that many reachable managers).
        /// </summary>
        public static SwarmClusterStatus WaitReady(IRemoteShell sh, SwarmNodeOptions o, IOperationContext ctx, int managers = 1, bool requireQuorum = true)
        {
            var clock = Stopwatch.StartNew();
            SwarmClusterStatus last = null;
            string problem = null;
            while (clock.Elapsed < o.WaitTimeout)
            {
                Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                try
                {
                    last = SwarmStatusReader.Read(sh, o, ctx.Cancellation, probeUnreachable: false);
                    problem = NotReadyBecause(last, managers, requireQuorum);
                    if (problem == null) return last;
                }
                catch (ClusterDrException ex) { problem = ex.Message; }
                Thread.Sleep(250);
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                $"Docker on {sh.Node} did not come back as a reachable swarm manager within {o.WaitTimeout.TotalSeconds:0} s: {problem}", sh.Node);
        }

        /// <summary>Why the node is not yet a ready manager of a quorate swarm; null when it is.</summary>
        private static string NotReadyBecause(SwarmClusterStatus s, int managers, bool requireQuorum)
        {
            if (!string.Equals(s.LocalNodeState, "active", StringComparison.OrdinalIgnoreCase)) return $"its swarm state is {s.LocalNodeState}";
            if (!s.IsManager) return "it is not a manager";
            if (s.Problem != null) return s.Problem;
            var self = s.Managers.FirstOrDefault(m => m.Id == s.NodeId);
            if (self == null || !self.Healthy) return "it is not listed as a reachable manager yet";
            if (requireQuorum && !s.HasQuorum) return $"{s.ReachableManagers} of {s.ManagerCount} managers are reachable";
            if (s.Leader == null) return "the swarm has no leader yet";
            if (s.ReachableManagers < managers) return $"{s.ReachableManagers} of the expected {managers} managers are reachable";
            return null;
        }
    }
}
