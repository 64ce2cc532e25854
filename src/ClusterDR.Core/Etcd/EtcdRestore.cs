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
        public Stores.BackupLocation BackupPath { get; set; }
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
    /// the adapter of <see cref="MemberRestore{TMember}"/> (the order and the guard are there). Old data
    /// dirs are moved aside, never deleted; a failure puts them back.
    /// </summary>
    public static class EtcdRestore
    {
        public static RestoreResult Run(EtcdRestoreRequest req, IOperationContext ctx) => new Adapter(req, ctx).Run();

        /// <summary>What differs for etcd: status over the client URLs, etcdctl snapshot restore, the revision check.</summary>
        private sealed class Adapter : MemberRestore<EtcdMemberSpec>
        {
            private readonly EtcdRestoreRequest _req;
            public Adapter(EtcdRestoreRequest req, IOperationContext ctx) : base(ctx) { _req = req; }

            protected override string Operation => "Restore-EtcdSnapshot";
            protected override string Platform => EtcdStatusReader.Platform;
            protected override string BackupKind => EtcdBackup.Kind;
            protected override Stores.BackupLocation BackupPath => _req.BackupPath;
            protected override bool Force => _req.Force;
            protected override IList<EtcdMemberSpec> Members => _req.Members;
            protected override string Name(EtcdMemberSpec m) => m.Name;
            protected override string Label(EtcdMemberSpec m) => m.Label;
            protected override IEnumerable<string> DataDirs(EtcdMemberSpec m) => new[] { m.DataDir };
            protected override string ClusterTarget => "etcd cluster";

            protected override void ValidateMembers() => EtcdMemberSpec.ValidateAll(_req.Members);

            protected override QuorumStatus ReadStatus() =>
                EtcdStatusReader.Read(_req.Members.Select(m => new Uri(m.ClientUrl)).ToList(), _req.Tls, Ct, _req.Members);

            protected override IRemoteShell OpenShell(EtcdMemberSpec m) => ShellFactory.Create(m.Node, m.SshSession, _req.Ssh);

            /// <summary>Only a cluster without quorum needs its silent members proven down; then any unhealthy one is asked.</summary>
            protected override bool NeedsProofOfDown(QuorumStatus before, ClusterMember m) => !before.HasQuorum && !m.Healthy && !m.ProvenDown;

            protected override string QuorumProof(QuorumStatus before)
            {
                if (before.HasQuorum) return null;
                var proof = EtcdStatusReader.FindQuorumProof(before, _req.Tls, Ct);
                return proof != null ? $"a linearizable read through {proof.Name} succeeded" : null;
            }

            protected override string StopAction(EtcdMemberSpec m) => "Stop etcd";
            protected override void Stop(EtcdMemberSpec m) => StopMember(Shell(m), m, _req, Ctx);
            protected override string MoveAsideAction(EtcdMemberSpec m, string dir, string aside) => $"Move data dir {dir} aside to {aside}";

            private string _token, _initialCluster;
            /// <summary>The members' copies run at once (Plan.AtOnce) from one read of the archive.</summary>
            private PayloadFanOut _snapshot;

            protected override void PlanWrite(Plan plan, EtcdMemberSpec m)
            {
                _token = _token ?? (string.IsNullOrEmpty(_req.InitialClusterToken) ? "clusterdr-" + Stamp.ToLowerInvariant() : _req.InitialClusterToken);
                _initialCluster = _initialCluster ?? string.Join(",", _req.Members.Select(x => x.Name + "=" + x.PeerUrl));
                var sh = Shell(m);
                string snap = m.DataDir.TrimEnd('/') + ".clusterdr-" + Stamp + ".snapshot.db";
                _snapshot = _snapshot ?? new PayloadFanOut(Backup.Location, EtcdBackup.SnapshotFile, _req.Members.Count);
                plan.Add(m.Label, $"Copy snapshot to {snap}", () =>
                    _snapshot.Consume(payload =>
                        sh.RunStreaming("Copy snapshot", "umask 077; mkdir -p \"$(dirname " + Sh.Quote(snap) + ")\" && cat > " + Sh.Quote(snap), payload, null, Ct)),
                    undo: () => sh.RunChecked("Remove copied snapshot", "rm -f " + Sh.Quote(snap), Ct),
                    state: "stopped, snapshot copied");
                plan.Add(m.Label, $"Restore snapshot into {m.DataDir} (etcdctl snapshot restore, cluster token {_token})",
                    () => sh.RunChecked("etcdctl snapshot restore", RestoreScript(m, snap, _initialCluster, _token, Stamp), Ct),
                    state: "stopped, data dir restored from snapshot");
            }

            protected override string StartAction(EtcdMemberSpec m) => "Start etcd";
            protected override void Start(EtcdMemberSpec m) => Shell(m).RunChecked("Start etcd", m.EffectiveStart, Ct);

            protected override string WaitAction => "Wait until every member is healthy";
            protected override void Wait() => Result.Status = WaitHealthy(_req, Ctx);

            protected override string CheckAction => "Check the restored revision";
            protected override void Check()
            {
                long expected = long.Parse(Backup.Manifest.Fact("revision") ?? "0", CultureInfo.InvariantCulture);
                if (Result.Status.Revision < expected)
                    throw new ClusterDrException(ErrorIds.RevisionMismatch, ErrorKind.InvalidData,
                        $"The restored cluster is at revision {Result.Status.Revision}, older than the backup's {expected}.");
                Result.Revision = Result.Status.Revision;
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
                Thread.Sleep(100); // a status read of each member is cheap; the cluster is down until this returns
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                $"The restored etcd cluster did not become healthy within {req.WaitTimeout.TotalSeconds:0} s: {last}; " +
                string.Join(", ", (last?.Members ?? new ClusterMember[0]).Where(x => !x.Healthy).Select(x => x.Name + " " + x.Problem)));
        }
    }
}
