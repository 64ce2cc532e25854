using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Etcd
{
    public sealed class EtcdRepairRequest
    {
        /// <summary>Client URLs of the healthy members.</summary>
        public IList<Uri> Endpoints { get; set; } = new List<Uri>();
        /// <summary>The lost member: its name, node, peer/client URLs, data dir and how to stop/start it.</summary>
        public EtcdMemberSpec Member { get; set; }
        /// <summary>Add the member even though the cluster has no member of that name or peer URL. Never overrides the quorum or healthy-member refusals.</summary>
        public bool Force { get; set; }
        public SshOptions Ssh { get; set; } = new SshOptions();
        public EtcdTlsOptions Tls { get; set; } = new EtcdTlsOptions();
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(2);
    }

    /// <summary>
    /// Repair-EtcdMember's engine: etcd's procedure for one lost member while the rest are healthy —
    /// member remove, move its data dir aside, member add, start it with initial-cluster-state
    /// existing. It never removes a healthy member nor one whose removal would cost quorum.
    /// </summary>
    public static class EtcdRepair
    {
        public static RestoreResult Run(EtcdRepairRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var clock = Stopwatch.StartNew();
            var started = DateTime.UtcNow;
            var ct = ctx.Cancellation;
            var m = req.Member ?? throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, "Describe the member to repair (-Member).");
            m.Validate();
            if (req.Endpoints.Count == 0)
                throw new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.InvalidArgument, "Give the client URLs of the healthy members (-Endpoint).");

            var status = EtcdStatusReader.Read(req.Endpoints, req.Tls, ct);
            if (status.MemberCount == 0)
                throw new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError,
                    $"No etcd member answered at {string.Join(", ", req.Endpoints)}.", string.Join(",", req.Endpoints));
            var target = status.Members.FirstOrDefault(x => x.Name == m.Name) ?? status.Members.FirstOrDefault(x => x.PeerUrls.Contains(m.PeerUrl));
            // A name or URL that matches no member is more often a typo than a member removed earlier: adding it would grow the cluster.
            if (target == null && !req.Force)
                throw new ClusterDrException(ErrorIds.MemberNotFound, ErrorKind.ObjectNotFound,
                    $"The etcd cluster {status.Cluster} has no member named {m.Name} or with peer URL {m.PeerUrl} (members: {string.Join(", ", status.Members.Select(x => x.Name + " " + string.Join(",", x.PeerUrls)))}). " +
                    "If it was removed already (an earlier repair stopped after removing it), run again with -Force to add it as a new member.", m);
            QuorumGuard.EnsureCanReplaceMember(status, target, m.Name, "Repair-EtcdMember", "Restore the cluster from a snapshot instead (Restore-EtcdSnapshot).", ctx);

            string stamp = UtcStamp.Now();
            string aside = NodeDataDir.AsidePath(m.DataDir, stamp);
            var healthyUrl = new Uri(status.Members.First(x => x.Healthy).Endpoint);
            var result = new RestoreResult { Platform = EtcdStatusReader.Platform, Cluster = status.Cluster, Members = new[] { m.Name }, StartedUtc = started };
            ulong addedId = 0;
            string initialCluster = null;
            using (var sh = ShellFactory.Create(m.Node, m.SshSession, req.Ssh))
            {
                var plan = new Plan(ctx, "Repair-EtcdMember", ErrorIds.RepairFailed);
                plan.SetState(m.Label, target == null ? "not a member" : "member, unhealthy");
                if (target?.Id != null)
                    plan.Add(m.Label, $"Remove member {target.Id} from the cluster", () =>
                    {
                        using (var c = new EtcdClient(healthyUrl, req.Tls)) c.MemberRemove(ulong.Parse(target.Id, NumberStyles.HexNumber), ct);
                    }, state: "removed from the cluster");
                plan.Add(m.Label, "Stop etcd", () => EtcdRestore.StopMember(sh, m, new EtcdRestoreRequest { Tls = req.Tls }, ctx), state: "removed, stopped");
                NodeDataDir.PlanMoveAside(plan, m.Label, sh, m.DataDir, stamp, ct, $"Move data dir {m.DataDir} aside to {aside}",
                    $"removed, stopped, old data at {aside}", "removed, stopped, original data dir back in place", a => result.MovedAside[m.Name] = a);
                plan.Add(m.Label, $"Add member with peer URL {m.PeerUrl}", () =>
                {
                    using (var c = new EtcdClient(healthyUrl, req.Tls))
                    {
                        var members = AddWhenReady(c, m.PeerUrl, ct);
                        var added = members.FirstOrDefault(x => x.PeerUrls.Contains(m.PeerUrl));
                        addedId = added?.Id ?? 0;
                        initialCluster = string.Join(",", members.SelectMany(x => x.PeerUrls.Select(p => (x.Id == addedId ? m.Name : x.Name) + "=" + p)));
                    }
                }, undo: () =>
                {
                    using (var c = new EtcdClient(healthyUrl, req.Tls)) c.MemberRemove(addedId, ct);
                }, state: "added back (unstarted)", undoneState: "removed, stopped");
                plan.Add(m.Label, "Start etcd with initial-cluster-state existing", () =>
                    sh.RunChecked("Start etcd", StartExistingScript(m, initialCluster), ct),
                    undo: () => EtcdRestore.StopMember(sh, m, new EtcdRestoreRequest { Tls = req.Tls }, ctx),
                    state: "running, catching up", undoneState: "stopped");
                QuorumStatus final = null;
                plan.Check("etcd cluster", $"Wait until {m.Name} is healthy", () =>
                {
                    var urls = req.Endpoints.Concat(new[] { new Uri(m.ClientUrl) }).ToList();
                    var wait = Stopwatch.StartNew();
                    while (true)
                    {
                        Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                        final = EtcdStatusReader.Read(urls, req.Tls, ct);
                        var me = final.Members.FirstOrDefault(x => x.Name == m.Name);
                        if (me != null && me.Healthy && final.HealthyCount == final.MemberCount) return;
                        if (wait.Elapsed > req.WaitTimeout)
                            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                                $"etcd member {m.Name} did not become healthy within {req.WaitTimeout.TotalSeconds:0} s: {final}.");
                        Thread.Sleep(500);
                    }
                });
                if (!plan.Execute()) return null;
                result.Status = final;
                result.Revision = final.Revision;
                result.Steps = plan.Steps.Select(s => s.ToString()).ToArray();
                result.Duration = clock.Elapsed;
                return result;
            }
        }

        /// <summary>
        /// With strict reconfiguration checks (etcd's default) a member add is refused as "unhealthy
        /// cluster" until the leader has been connected to every voting member for 5 s; right after the
        /// remove that may not hold yet, so retry that one answer for a while.
        /// </summary>
        private static IList<EtcdMemberInfo> AddWhenReady(EtcdClient c, string peerUrl, CancellationToken ct)
        {
            var wait = Stopwatch.StartNew();
            while (true)
            {
                try { return c.MemberAdd(new[] { peerUrl }, ct); }
                catch (ClusterDrException ex) when (ex.ErrorId == ErrorIds.EndpointError && ex.Message.Contains("unhealthy cluster") && wait.Elapsed < TimeSpan.FromSeconds(20))
                {
                    Thread.Sleep(1000);
                }
            }
        }

        /// <summary>
        /// etcd reads ETCD_* variables when the matching flag is absent: the start command gets the
        /// existing-cluster settings that way; with the systemd default they go through the manager's environment.
        /// </summary>
        private static string StartExistingScript(EtcdMemberSpec m, string initialCluster)
        {
            var env = new[]
            {
                "ETCD_INITIAL_CLUSTER_STATE=existing",
                "ETCD_INITIAL_CLUSTER=" + initialCluster,
                "ETCD_NAME=" + m.Name,
                "ETCD_INITIAL_ADVERTISE_PEER_URLS=" + m.PeerUrl,
            };
            if (m.StartCommand != null)
                return "export " + Sh.Join(env) + "; " + m.StartCommand;
            return "systemctl set-environment " + Sh.Join(env) + " && systemctl start " + Sh.Quote(m.Unit) +
                   "; rc=$?; systemctl unset-environment ETCD_INITIAL_CLUSTER_STATE ETCD_INITIAL_CLUSTER ETCD_NAME ETCD_INITIAL_ADVERTISE_PEER_URLS; exit $rc";
        }
    }
}
