using System;
using System.Globalization;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Swarm;
using ClusterDR.Transport;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// Swarm: Restore-SwarmManager's own procedure (extract, start, unlock, force a new cluster, compare) run against a
    /// throwaway dockerd in a network namespace of its own with only lo up, so the restored manager can reach no node of
    /// the backed-up swarm; then its nodes, services, secrets, configs and networks against the backup's counts.
    /// </summary>
    internal static class SwarmRehearsal
    {
        private const string Install = "Install Docker (Debian: apt-get install --no-install-recommends docker.io).";

        public static ClusterBackup Run(Stores.BackupLocation location, RehearsalOptions o, RehearsalResult result, IOperationContext outer)
        {
            RehearsalTools.EnsureLinux(SwarmBackup.Kind);
            var tools = new RehearsalTools(o.ToolPath);
            string dockerd = tools.Require("dockerd", Install, new[] { "/usr/sbin", "/usr/bin" });
            string docker = tools.Require("docker", Install, new[] { "/usr/bin" });
            string ip = tools.Require("ip", "Install iproute2 (Debian: apt-get install iproute2).", new[] { "/usr/sbin", "/sbin", "/bin" });
            string nsenter = tools.Require("nsenter", "Install util-linux (Debian: apt-get install util-linux).", new[] { "/usr/bin", "/bin" });
            var probe = new LocalShell();
            if (probe.RunText("id -u", null, outer.Cancellation).StdOut.Trim() != "0")
                throw new ClusterDrException(ErrorIds.RehearsalUnsupported, ErrorKind.PermissionDenied,
                    "A rehearsal of a swarm backup starts a dockerd in a network namespace of its own, which takes root; this session is not root.",
                    location.Display, surfaceAsIs: true, recommendedAction: "Run the rehearsal as root (sudo pwsh), e.g. on a Linux runbook worker.");
            var ctx = new RehearsalContext(outer);
            using (var scratch = Scratch.Create(SwarmBackup.Kind, outer))
            {
                var backup = BackupRehearsal.VerifyExtracting(location, SwarmBackup.Kind, result, outer);
                // Read from the verified manifest: an encrypted backup lists no facts before it is opened.
                if (string.Equals(backup.Manifest.Fact("autolock"), "true", StringComparison.OrdinalIgnoreCase) && o.UnlockKey == null)
                    throw new ClusterDrException(ErrorIds.UnlockKeyRequired, ErrorKind.InvalidArgument,
                        $"'{location.Display}' was taken with autolock on: rehearsing it needs the unlock key that was current then (-UnlockKey).", location.Display, surfaceAsIs: true);
                string ns = scratch.CreateNetworkNamespace();
                string d = scratch.Dir, pidFile = scratch.PathOf("dockerd.pid"), sock = scratch.PathOf("docker.sock");
                string q(string s) => Sh.Quote(s);
                string alive = $"p=$(cat {q(pidFile)} 2>/dev/null) && [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status";
                var options = new SwarmNodeOptions
                {
                    DockerPath = docker,
                    DockerHost = "unix://" + sock,
                    DataRoot = scratch.PathOf("root"),
                    StartCommand = $"{alive} && exit 0; {q(nsenter)} --net=/run/netns/{q(ns)} {q(dockerd)} --data-root {q(scratch.PathOf("root"))} --exec-root {q(scratch.PathOf("exec"))} " +
                                   $"--pidfile {q(pidFile)} -H {q("unix://" + sock)} --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none " +
                                   $"--storage-driver=vfs --shutdown-timeout 3 >>{q(scratch.PathOf("dockerd.log"))} 2>&1 </dev/null &",
                    StopCommand = $"{alive} || exit 0; kill -TERM $p; while [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null; do sleep 0.05; done",
                    WaitTimeout = o.WaitTimeout,
                };
                scratch.StopOnDispose(pidFile, "dockerd");
                SwarmRestoreResult restored = null;
                if (!BackupRehearsal.Step(result, "restores", "Restore-SwarmManager's steps on a throwaway dockerd", () =>
                {
                    restored = SwarmRestore.Run(new SwarmRestoreRequest
                    {
                        BackupPath = location,
                        Shell = scratch.Shell,
                        Options = options,
                        UnlockKey = o.UnlockKey,
                        AdvertiseAddress = "127.0.0.1",
                        ListenAddress = "127.0.0.1:2377",
                    }, ctx);
                    result.Server = $"dockerd {restored.Swarm.DockerVersion} in network namespace {ns}";
                    return $"a one-manager swarm on dockerd {restored.Swarm.DockerVersion} (network namespace {ns})";
                })) return backup;
                Compare(backup.Manifest, restored.Swarm, result);
                return backup;
            }
        }

        internal static void Compare(BackupManifest m, SwarmClusterStatus s, RehearsalResult result)
        {
            void Count(string name, string fact, int found)
            {
                if (int.TryParse(m.Fact(fact), NumberStyles.None, CultureInfo.InvariantCulture, out int expected)) result.Add(name, expected, found);
                else result.CouldNotCompare(name + " (the manifest records none)");
            }
            if (int.TryParse(m.Fact("managers"), NumberStyles.None, CultureInfo.InvariantCulture, out int managers) &&
                int.TryParse(m.Fact("workers"), NumberStyles.None, CultureInfo.InvariantCulture, out int workers))
                result.Add("nodes", managers + workers, s.ManagerCount + s.WorkerCount);
            else result.CouldNotCompare("nodes (the manifest records none)");
            Count("services", "services", s.Services);
            Count("secrets", "secrets", s.Secrets);
            Count("configs", "configs", s.Configs);
            Count("networks", "networks", s.Networks);
        }
    }
}
