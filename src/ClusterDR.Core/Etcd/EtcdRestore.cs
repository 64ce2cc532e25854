using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Etcd
{
    public sealed class EtcdRestoreRequest
    {
        public string BackupPath { get; set; }
        public IList<EtcdMemberSpec> Members { get; set; } = new List<EtcdMemberSpec>();
        /// <summary>A new token keeps restored members from ever talking to stray members of the old cluster.</summary>
        public string InitialClusterToken { get; set; }
        public bool Force { get; set; }
        public SshOptions Ssh { get; set; } = new SshOptions();
        public EtcdTlsOptions Tls { get; set; } = new EtcdTlsOptions();
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(2);
    }

    /// <summary>
    /// Restore-EtcdSnapshot's engine: etcd's "quorum lost for good" procedure across every member, as
    /// a plan. Old data dirs are moved aside, never deleted; a failure puts them back.
    /// </summary>
    public static class EtcdRestore
    {
        public static RestoreResult Run(EtcdRestoreRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var started = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            var ct = ctx.Cancellation;
            EtcdMemberSpec.ValidateAll(req.Members);

            // 1. Nothing is touched before the archive proves intact (hashes + snapshot trailer).
            var backup = BackupVerifier.Verify(req.BackupPath, ctx, EtcdBackup.Kind);
            ctx.WriteVerbose($"Verified {backup.Path}: {backup.Verification}.");

            // 2. Guard: a cluster that still has quorum holds newer, good data.
            var clientUrls = req.Members.Select(m => new Uri(m.ClientUrl)).ToList();
            var before = EtcdStatusReader.Read(clientUrls, req.Tls, ct, req.Members);
            var shells = new Dictionary<string, IRemoteShell>();
            try
            {
            foreach (var m in req.Members) shells[m.Name] = ShellFactory.Create(m.Node, m.SshSession, req.Ssh);
            string quorumProof = null;
            if (!before.HasQuorum)
            {
                var proof = EtcdStatusReader.FindQuorumProof(before, req.Tls, ct);
                if (proof != null) quorumProof = $"a linearizable read through {proof.Name} succeeded";
                // A member this machine cannot reach may still run: ask its node whether anything holds its data dir.
                foreach (var cm in before.Members.Where(x => !x.Healthy && !x.ProvenDown))
                {
                    var spec = req.Members.FirstOrDefault(x => x.Name == cm.Name);
                    if (spec != null) NodeDataDir.ProveDown(cm, shells[spec.Name], new[] { spec.DataDir }, ct);
                }
            }
            QuorumGuard.EnsureClusterIsDown(before, req.Force, ctx, quorumProof);
            var running = new HashSet<string>(before.Members.Where(m => m.Endpoint != null || !m.ProvenDown).Select(m => m.Name));

            string stamp = UtcStamp.Now();
            string token = string.IsNullOrEmpty(req.InitialClusterToken) ? "clusterdr-" + stamp.ToLowerInvariant() : req.InitialClusterToken;
            string initialCluster = string.Join(",", req.Members.Select(m => m.Name + "=" + m.PeerUrl));
            var result = new RestoreResult
            {
                Platform = EtcdStatusReader.Platform,
                Cluster = backup.Cluster,
                BackupPath = backup.Path,
                Members = req.Members.Select(m => m.Name).ToArray(),
                StartedUtc = started,
            };
                var plan = new Plan(ctx, "Restore-EtcdSnapshot", ErrorIds.RestoreFailed);
                foreach (var m in req.Members)
                    plan.SetState(m.Label, running.Contains(m.Name) ? "running, data untouched" : "not answering, data untouched");

                foreach (var m in req.Members)
                {
                    var sh = shells[m.Name];
                    plan.Add(m.Label, "Stop etcd", () => StopMember(sh, m, req, ctx),
                        undo: running.Contains(m.Name) ? (Action)(() => sh.RunChecked("Start etcd", m.EffectiveStart, ct)) : null,
                        state: "stopped, data untouched", undoneState: running.Contains(m.Name) ? "started again with its original data" : "stopped with its original data");
                }
                foreach (var m in req.Members)
                {
                    var sh = shells[m.Name];
                    string aside = NodeDataDir.AsidePath(m.DataDir, stamp);
                    NodeDataDir.PlanMoveAside(plan, m.Label, sh, m.DataDir, stamp, ct, $"Move data dir {m.DataDir} aside to {aside}",
                        $"stopped, old data at {aside}", "stopped, original data dir back in place", a => result.MovedAside[m.Name] = a);
                }
                foreach (var m in req.Members)
                {
                    var sh = shells[m.Name];
                    string snap = m.DataDir.TrimEnd('/') + ".clusterdr-" + stamp + ".snapshot.db";
                    plan.Add(m.Label, $"Copy snapshot to {snap}", () =>
                        BackupArchiveReaderExtensions.ReadPayload(backup.Path, EtcdBackup.SnapshotFile, payload =>
                            sh.RunStreaming("Copy snapshot", "umask 077; mkdir -p \"$(dirname " + Sh.Quote(snap) + ")\" && cat > " + Sh.Quote(snap), payload, null, ct)),
                        undo: () => sh.RunChecked("Remove copied snapshot", "rm -f " + Sh.Quote(snap), ct),
                        state: "stopped, snapshot copied");
                    plan.Add(m.Label, $"Restore snapshot into {m.DataDir} (etcdctl snapshot restore, cluster token {token})",
                        () => sh.RunChecked("etcdctl snapshot restore", RestoreScript(m, snap, initialCluster, token, stamp), ct),
                        state: "stopped, data dir restored from snapshot");
                }
                foreach (var m in req.Members)
                {
                    var sh = shells[m.Name];
                    plan.Add(m.Label, "Start etcd", () => sh.RunChecked("Start etcd", m.EffectiveStart, ct),
                        undo: () => StopMember(sh, m, req, ctx),
                        state: "running restored data", undoneState: "stopped");
                }
                QuorumStatus after = null;
                plan.Check("etcd cluster", "Wait until every member is healthy", () => after = WaitHealthy(req, ctx));
                plan.Check("etcd cluster", "Check the restored revision", () =>
                {
                    long expected = long.Parse(backup.Manifest.Fact("revision") ?? "0", CultureInfo.InvariantCulture);
                    if (after.Revision < expected)
                        throw new ClusterDrException(ErrorIds.RevisionMismatch, ErrorKind.InvalidData,
                            $"The restored cluster is at revision {after.Revision}, older than the backup's {expected}.");
                    result.Revision = after.Revision;
                });
                if (!plan.Execute()) return null;
                result.Status = after;
                result.Steps = plan.Steps.Select(s => s.ToString()).ToArray();
                result.Duration = clock.Elapsed;
                return result;
            }
            finally
            {
                foreach (var s in shells.Values) s.Dispose();
            }
        }

        /// <summary>etcdctl refuses an existing data dir, which the move-aside step guarantees. The restored dir gets the old owner back.</summary>
        private static string RestoreScript(EtcdMemberSpec m, string snap, string initialCluster, string token, string stamp)
        {
            string aside = NodeDataDir.AsidePath(m.DataDir, stamp);
            string args = "snapshot restore " + Sh.Join(new[]
            {
                snap, "--name", m.Name, "--initial-cluster", initialCluster, "--initial-advertise-peer-urls", m.PeerUrl,
                "--initial-cluster-token", token, "--data-dir", m.DataDir,
            });
            // etcd 3.6 dropped "etcdctl snapshot restore" for etcdutl (3.5+): use etcdutl when the node has it.
            return "if command -v etcdutl >/dev/null 2>&1; then etcdutl " + args + " >&2 || exit $?; else ETCDCTL_API=3 " + Sh.Quote(m.EtcdctlPath) + " " + args +
                " >&2 || exit $?; fi; rm -f " + Sh.Quote(snap) + "; chmod 700 " + Sh.Quote(m.DataDir) +
                "; " + NodeDataDir.RestoreOwnerScript(m.DataDir, aside);
        }

        /// <summary>
        /// Runs the stop command, then waits until the member no longer answers and, on its node, no
        /// process holds a file under its data dir: the data dir must never move under a live etcd.
        /// </summary>
        internal static void StopMember(IRemoteShell sh, EtcdMemberSpec m, EtcdRestoreRequest req, IOperationContext ctx) =>
            NodeDataDir.StopAndWait(sh, "etcd member " + m.Name, m.EffectiveStop, new[] { m.DataDir }, () =>
            {
                try
                {
                    using (var c = new EtcdClient(new Uri(m.ClientUrl), req.Tls, TimeSpan.FromSeconds(1))) c.Status(ctx.Cancellation);
                    return "still answers at " + m.ClientUrl;
                }
                catch (ClusterDrException) { return null; }
            }, ctx);

        internal static QuorumStatus WaitHealthy(EtcdRestoreRequest req, IOperationContext ctx)
        {
            var urls = req.Members.Select(m => new Uri(m.ClientUrl)).ToList();
            var clock = Stopwatch.StartNew();
            QuorumStatus last = null;
            while (clock.Elapsed < req.WaitTimeout)
            {
                Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                last = EtcdStatusReader.Read(urls, req.Tls, ctx.Cancellation, req.Members);
                if (last.MemberCount == req.Members.Count && last.HealthyCount == last.MemberCount) return last;
                Thread.Sleep(500);
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                $"The restored etcd cluster did not become healthy within {req.WaitTimeout.TotalSeconds:0} s: {last}; " +
                string.Join(", ", (last?.Members ?? new ClusterMember[0]).Where(x => !x.Healthy).Select(x => x.Name + " " + x.Problem)));
        }
    }
}
