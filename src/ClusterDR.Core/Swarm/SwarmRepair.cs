using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Security;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Swarm
{
    public sealed class SwarmRepairRequest : SwarmNodeRequest
    {
        public string AdvertiseAddress { get; set; }
        public string ListenAddress { get; set; }
        /// <summary>Nodes (names or ids) to promote back to managers once the swarm works again.</summary>
        public IList<string> Promote { get; set; } = new List<string>();
    }

    /// <summary>
    /// Repair-SwarmQuorum's engine: Docker's quorum-loss procedure from a surviving manager. Refuses
    /// while the swarm has quorum, or while managers it cannot see could still form one elsewhere (a
    /// manager counts as down only when its swarm port refuses connections).
    /// </summary>
    public static class SwarmRepair
    {
        public static SwarmRestoreResult Run(SwarmRepairRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var clock = Stopwatch.StartNew();
            var started = DateTime.UtcNow;
            var sh = req.Shell;
            var o = req.Options;
            var ct = ctx.Cancellation;
            var before = SwarmStatusReader.Read(sh, o, ct);
            if (before.Locked)
            {
                ctx.WriteVerbose($"Docker on {sh.Node} is locked: unlocking it to read the swarm.");
                SwarmNode.Unlock(sh, o, req.UnlockKey, ct);
                before = SwarmStatusReader.Read(sh, o, ct);
            }
            if (!before.IsManager || before.Managers.Length == 0)
                throw new ClusterDrException(ErrorIds.NotASwarmManager, ErrorKind.InvalidOperation,
                    $"Repair-SwarmQuorum runs on a surviving manager: Docker on {sh.Node} is not one ({before.Problem ?? before.LocalNodeState}).", sh.Node);
            QuorumGuard.EnsureClusterIsDown(before.Quorum, req.Force, ctx);

            string who = $"swarm manager {sh.Node}";
            var result = new SwarmRestoreResult
            {
                Platform = SwarmStatusReader.Platform,
                Cluster = before.Cluster,
                Members = new[] { sh.Node },
                StartedUtc = started,
            };
            SwarmClusterStatus after = null;
            var plan = new Plan(ctx, "Repair-SwarmQuorum", ErrorIds.RepairFailed);
            plan.SetState(who, $"manager without quorum ({before.ReachableManagers} of {before.ManagerCount} managers reachable)");
            plan.Add(who, "Force a new cluster from this manager's state (docker swarm init --force-new-cluster)",
                () => SwarmNode.ForceNewCluster(sh, o, req.AdvertiseAddress, req.ListenAddress, ct), state: "sole manager of the recovered swarm");
            plan.Check(who, "Wait until the node leads the recovered swarm", () => after = SwarmNode.WaitReady(sh, o, ctx, requireQuorum: false));
            foreach (var name in req.Promote ?? new List<string>())
            {
                string n = name;
                plan.Add(n, "Promote to manager (docker node promote)", () =>
                    sh.RunChecked("docker node promote " + n, o.Docker + " node promote " + Sh.Quote(n), ct), state: "promoted to manager");
            }
            if (req.Promote != null && req.Promote.Count > 0)
                plan.Check(who, "Wait until the promoted managers are reachable", () => after = SwarmNode.WaitReady(sh, o, ctx, 1 + req.Promote.Count, requireQuorum: false));
            if (!plan.Execute()) return null;
            result.Swarm = after;
            result.Status = after.Quorum;
            result.Steps = plan.Steps.Select(s => s.ToString()).ToArray();
            result.Duration = clock.Elapsed;
            return result;
        }
    }

    /// <summary>Get-SwarmUnlockKey and Update-SwarmUnlockKey.</summary>
    public static class SwarmUnlockKeys
    {
        public static SecureString Get(IRemoteShell sh, SwarmNodeOptions o, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            return SwarmNode.ReadUnlockKey(sh, o, rotate: false, ctx.Cancellation);
        }

        /// <summary>Rotates the key; needs autolock on and a swarm with quorum (the rotation is a raft write).</summary>
        public static SecureString Rotate(IRemoteShell sh, SwarmNodeOptions o, bool force, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var status = SwarmStatusReader.Read(sh, o, ctx.Cancellation);
            if (!status.IsManager || status.Managers.Length == 0)
                throw new ClusterDrException(ErrorIds.NotASwarmManager, ErrorKind.InvalidOperation,
                    $"Docker on {sh.Node} is not a working swarm manager ({status.Problem ?? status.LocalNodeState}).", sh.Node);
            QuorumGuard.EnsureReadableWithQuorum(status.Quorum, status.NodeId, force, ctx);
            if (status.Autolock != true)
                throw new ClusterDrException(ErrorIds.AutolockOff, ErrorKind.InvalidOperation,
                    $"Autolock is off in swarm {status.Cluster}: there is no unlock key to rotate (docker swarm update --autolock=true turns it on).", sh.Node);
            SecureString key = null;
            var plan = new Plan(ctx, "Update-SwarmUnlockKey", ErrorIds.RemoteCommandFailed);
            plan.Add($"swarm {status.Cluster} on {sh.Node}", "Rotate the unlock key", () => key = SwarmNode.ReadUnlockKey(sh, o, rotate: true, ctx.Cancellation));
            return plan.Execute() ? key : null;
        }
    }
}
