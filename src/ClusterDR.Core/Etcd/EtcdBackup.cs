using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Etcd
{
    public sealed class EtcdBackupRequest
    {
        /// <summary>Client URL to snapshot. With a Shell, the URL as seen from that node.</summary>
        public Uri Endpoint { get; set; }
        public EtcdTlsOptions Tls { get; set; } = new EtcdTlsOptions();
        public string Directory { get; set; }
        public string Label { get; set; }
        public bool Force { get; set; }
        /// <summary>When set, etcdctl runs on this node and the snapshot streams back over it.</summary>
        public IRemoteShell Shell { get; set; }
        public string Etcdctl { get; set; } = "etcdctl";
        /// <summary>Format and compression of the archive (zstd level 1 by default).</summary>
        public ArchiveOptions Archive { get; set; } = new ArchiveOptions();
        /// <summary>How the snapshot is fetched from an endpoint (not with a Shell).</summary>
        public EtcdSnapshotProtocol Protocol { get; set; } = EtcdSnapshotProtocol.Auto;
    }

    /// <summary>
    /// Backup-EtcdSnapshot's engine: guard, then stream the member's v3 snapshot into a backup
    /// archive, checking the snapshot's trailing SHA-256 as it arrives.
    /// </summary>
    public static class EtcdBackup
    {
        public const string Kind = "etcd";
        public const string SnapshotFile = "snapshot.db";

        public static ClusterBackup Run(EtcdBackupRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            if (req.Endpoint == null) throw new ArgumentException("An endpoint is required.");
            var ct = ctx.Cancellation;
            QuorumStatus status;
            EtcdEndpointStatus self;
            if (req.Shell == null)
            {
                using (var client = new EtcdClient(req.Endpoint, req.Tls)) self = client.Status(ct);
                status = EtcdStatusReader.Read(new[] { req.Endpoint }, req.Tls, ct);
            }
            else
            {
                self = SelfOnNode(req, ct);
                status = EtcdStatusReader.ReadOnNode(req.Shell, req.Endpoint.ToString(), req.Tls, req.Etcdctl, ct);
            }
            var member = status.Members.FirstOrDefault(m => m.Id == self.MemberId.ToString("x"));
            bool proven = !status.HasQuorum && member != null && member.Healthy && ProvesQuorum(req, ct);
            if (proven)
                ctx.WriteVerbose($"Quorum guard: only {status.HealthyCount} of {status.MemberCount} members answer from here, but a linearizable read through {member.Name} succeeded, so it is part of a quorate cluster.");
            else
                QuorumGuard.EnsureReadableWithQuorum(status, self.MemberId.ToString("x"), req.Force, ctx);

            var created = DateTime.UtcNow;
            string cluster = self.ClusterId.ToString("x");
            string fileName = req.Archive.FileName(Kind, cluster, req.Label, created);
            string target = Path.Combine(Path.GetFullPath(req.Directory), fileName);
            string source = req.Shell == null ? req.Endpoint.ToString() : $"{req.Shell.Node} ({req.Endpoint})";
            ClusterBackup result = null;
            var plan = new Plan(ctx, "Backup-EtcdSnapshot", ErrorIds.BackupFailed);
            plan.Add(target, $"Write a snapshot of etcd member {member?.Name ?? self.MemberId.ToString("x")} from {source}{req.Archive.EncryptionNote}", () =>
            {
                using (var writer = req.Archive.CreateWriter(req.Directory, fileName))
                {
                    var progress = new ProgressReporter(ctx, "Snapshot of etcd member " + (member?.Name ?? source), self.DbSize + 32);
                    // The snapshot's first message announces its size, so it streams straight into the archive in one pass.
                    writer.AddStreamedPayload(SnapshotFile, sink =>
                    {
                        var snapshot = new EtcdSnapshotSink(sink, SnapshotFile + " from " + source);
                        if (req.Shell == null)
                        {
                            using (var client = new EtcdClient(req.Endpoint, req.Tls) { SnapshotProtocol = req.Protocol })
                            using (var pipe = new BackgroundWriteStream(snapshot))
                            {
                                client.Snapshot(pipe, size => { snapshot.DeclareLength(size); progress.Total = size; }, progress.Report, ct);
                                pipe.Complete();
                                ctx.WriteVerbose($"Snapshot of {req.Endpoint} fetched over {client.LastSnapshotTransport}.");
                            }
                        }
                        else
                        {
                            // The script sends the file's size on a line of its own first, so this path streams in one pass too.
                            using (var counting = new CountingWriteStream(snapshot, progress.Report))
                            using (var sized = new SizeLineStream(counting, size => { snapshot.DeclareLength(size); progress.Total = size; }))
                            {
                                req.Shell.RunStreaming("etcdctl snapshot save", SnapshotScript(req), null, sized, ct);
                                sized.EnsureSizeSeen();
                            }
                        }
                        snapshot.Complete();
                    });
                    progress.Complete();
                    var facts = new Dictionary<string, string>
                    {
                        ["revision"] = self.Revision.ToString(CultureInfo.InvariantCulture),
                        ["memberId"] = self.MemberId.ToString("x"),
                        ["memberName"] = member?.Name ?? "",
                        ["clusterId"] = cluster,
                        ["etcdVersion"] = self.Version ?? "",
                        ["dbSize"] = self.DbSize.ToString(CultureInfo.InvariantCulture),
                        ["raftIndex"] = self.RaftIndex.ToString(CultureInfo.InvariantCulture),
                        ["memberCount"] = status.MemberCount.ToString(CultureInfo.InvariantCulture),
                        ["members"] = string.Join(",", status.Members.Select(m => m.Name)),
                    };
                    RecordRehearsalFacts(req, self.Revision, facts, ctx);
                    var manifest = new BackupManifest
                    {
                        Kind = Kind,
                        Cluster = cluster,
                        Label = req.Label,
                        CreatedUtc = created,
                        SourceNodes = new List<string> { source },
                        Facts = facts,
                    };
                    result = writer.Commit(manifest, ctx);
                }
            });
            plan.Execute();
            return result;
        }

        /// <summary>
        /// What a rehearsal compares with (<see cref="EtcdKeyFacts"/>), read at the revision recorded before the snapshot, and
        /// the revision after it: the snapshot lies between the two. A member that cannot answer leaves them out, with a
        /// warning; the backup itself is still good.
        /// </summary>
        private static void RecordRehearsalFacts(EtcdBackupRequest req, long revision, Dictionary<string, string> facts, IOperationContext ctx)
        {
            var ct = ctx.Cancellation;
            try
            {
                if (req.Shell == null)
                {
                    using (var client = new EtcdClient(req.Endpoint, req.Tls, TimeSpan.FromSeconds(30)))
                    {
                        EtcdKeyFacts.Read(r => client.RangeRaw(r, ct), revision).AddTo(facts);
                        facts[RevisionAfterFact] = client.Status(ct).Revision.ToString(CultureInfo.InvariantCulture);
                    }
                }
                else
                {
                    EtcdKeyFacts.Read(r => JObject.Parse(req.Shell.RunChecked("etcdctl get", EtcdctlPrefix(req) + " " + EtcdctlGet(r), ct).StdOut), revision).AddTo(facts);
                    facts[RevisionAfterFact] = SelfOnNode(req, ct).Revision.ToString(CultureInfo.InvariantCulture);
                }
            }
            catch (Exception ex) when (ex is ClusterDrException || ex is Newtonsoft.Json.JsonException)
            {
                facts.Remove(EtcdKeyFacts.CountFact);
                facts.Remove(EtcdKeyFacts.SampleFact);
                ctx.WriteWarning($"Could not count the keys of {req.Endpoint} at revision {revision} ({ex.Message}); a rehearsal of this backup will not compare them.");
            }
        }

        /// <summary>The revision of the member right after the snapshot: a rehearsal's restored revision must lie between "revision" and it.</summary>
        public const string RevisionAfterFact = "revisionAfterSnapshot";

        /// <summary>etcdctl get over every key for <see cref="EtcdKeyFacts.Request"/>'s request (its JSON answer has the whole range's count).</summary>
        private static string EtcdctlGet(JObject r) => Sh.Join(new List<string> { "--command-timeout=30s", "-w", "json", "get", "", "--from-key", "--rev=" + (string)r["revision"], "--limit=" + (string)r["limit"] });

        private static bool ProvesQuorum(EtcdBackupRequest req, System.Threading.CancellationToken ct)
        {
            if (req.Shell == null)
            {
                using (var c = new EtcdClient(req.Endpoint, req.Tls, TimeSpan.FromSeconds(3))) return c.ProvesQuorum(ct);
            }
            return req.Shell.RunText(EtcdctlPrefix(req) + " --command-timeout=3s get --consistency=l --limit=1 --keys-only --from-key ''", null, ct).ExitCode == 0;
        }

        private static string EtcdctlPrefix(EtcdBackupRequest req) =>
            "ETCDCTL_API=3 " + Sh.Quote(req.Etcdctl) + " " + Sh.Join(new[] { "--endpoints=" + req.Endpoint }.Concat(req.Tls.EtcdctlFlags()));

        /// <summary>
        /// Snapshot to a private temp file on the node (etcdctl cannot write to stdout), then its size on a
        /// line of its own and the file; always clean up.
        /// </summary>
        internal static string SnapshotScript(EtcdBackupRequest req) =>
            "umask 077; f=$(mktemp \"${TMPDIR:-/tmp}/clusterdr-etcd.XXXXXX\") || exit 1; trap 'rm -f \"$f\"' EXIT; " +
            EtcdctlPrefix(req) + " snapshot save \"$f\" >&2 || exit $?; wc -c <\"$f\" || exit 1; cat \"$f\"";

        private static EtcdEndpointStatus SelfOnNode(EtcdBackupRequest req, System.Threading.CancellationToken ct)
        {
            var r = req.Shell.RunChecked("etcdctl endpoint status", EtcdctlPrefix(req) + " --command-timeout=3s -w json endpoint status", ct);
            try
            {
                return EtcdEndpointStatus.FromJson(JArray.Parse(r.StdOut)[0]["Status"], req.Endpoint.ToString());
            }
            catch (Exception ex)
            {
                throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"etcdctl endpoint status on {req.Shell.Node} printed no usable JSON.", req.Shell.Node, ex);
            }
        }
    }
}
