using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;
using ICSharpCode.SharpZipLib.Tar;

namespace ClusterDR.Swarm
{
    public sealed class SwarmRestoreRequest : SwarmNodeRequest
    {
        public Stores.BackupLocation BackupPath { get; set; }
        /// <summary>--advertise-addr of the new cluster (null: the address in the restored state).</summary>
        public string AdvertiseAddress { get; set; }
        /// <summary>--listen-addr of the new cluster (null: Docker's default, 0.0.0.0:2377).</summary>
        public string ListenAddress { get; set; }
    }

    /// <summary>
    /// Restore-SwarmManager's engine: verify the archive, guard the host, stop Docker, move the swarm
    /// dir aside, stream the backup's tree into tar -x on the host, start Docker, unlock, force a new
    /// one-manager cluster, verify the object counts against the manifest. Autolocked backups: a locked
    /// node cannot force a new cluster (moby#36852), so autolock goes off for the step and back on
    /// after, which makes a new unlock key (handed back). A failure puts the old swarm dir back.
    /// </summary>
    public static class SwarmRestore
    {
        public static SwarmRestoreResult Run(SwarmRestoreRequest req, IOperationContext ctx) => (SwarmRestoreResult)new Adapter(req, ctx).Run();

        /// <summary>
        /// The single-member form of <see cref="MemberRestore{TMember}"/>: the member is the host's shell
        /// (the caller's, not disposed here); after Docker starts: unlock, force a new cluster, autolock.
        /// </summary>
        private sealed class Adapter : MemberRestore<IRemoteShell>
        {
            private readonly SwarmRestoreRequest _req;
            private SwarmClusterStatus _before, _after;
            private bool _autolock;
            public Adapter(SwarmRestoreRequest req, IOperationContext ctx) : base(ctx) { _req = req; }
            protected override RestoreResult NewResult() => new SwarmRestoreResult();
            private SwarmRestoreResult SwarmResult => (SwarmRestoreResult)Result;

            private SwarmNodeOptions O => _req.Options;
            protected override string Operation => "Restore-SwarmManager";
            protected override string Platform => SwarmStatusReader.Platform;
            protected override string BackupKind => SwarmBackup.Kind;
            protected override Stores.BackupLocation BackupPath => _req.BackupPath;
            protected override bool Force => _req.Force;
            protected override IList<IRemoteShell> Members => new[] { _req.Shell };
            protected override string Name(IRemoteShell sh) => sh.Node;
            protected override string Label(IRemoteShell sh) => $"Docker on {sh.Node}";
            protected override IEnumerable<string> DataDirs(IRemoteShell sh) => new[] { O.SwarmDir };
            protected override string DataNoun => "swarm state";
            protected override string DirNoun => "swarm dir";
            protected override string ClusterTarget => Label(_req.Shell);

            protected override void CheckBackup()
            {
                _autolock = string.Equals(Backup.Manifest.Fact("autolock"), "true", StringComparison.OrdinalIgnoreCase);
                if (_autolock && _req.UnlockKey == null)
                    throw new ClusterDrException(ErrorIds.UnlockKeyRequired, ErrorKind.InvalidArgument,
                        $"'{Backup.Path}' was taken with autolock on: restoring it needs the unlock key that was current then (-UnlockKey). Nothing was changed.", Backup.Path, surfaceAsIs: true);
            }

            protected override QuorumStatus ReadStatus()
            {
                try { _before = SwarmStatusReader.Read(_req.Shell, O, Ct); }
                catch (ClusterDrException ex) when (ex.ErrorId == ErrorIds.DockerUnavailable)
                {
                    Ctx.WriteVerbose($"Restore guard: Docker on {_req.Shell.Node} does not answer ({ex.Message}); nothing to protect there.");
                }
                return _before?.Quorum;
            }

            protected override IRemoteShell OpenShell(IRemoteShell sh) => sh;
            protected override bool OwnsShells => false;
            /// <summary>Docker answers or it does not: there is no silent member to prove down.</summary>
            protected override bool NeedsProofOfDown(QuorumStatus before, ClusterMember m) => false;
            protected override void Guard(QuorumStatus before, string quorumProof) { if (_before != null) SwarmRestore.Guard(_before, Force, Ctx); }
            protected override bool WasRunning(IRemoteShell sh, QuorumStatus before) => _before != null;

            protected override string StopAction(IRemoteShell sh) => "Stop Docker";
            protected override void Stop(IRemoteShell sh) => SwarmNode.StopDocker(sh, O, Ctx);

            protected override void PlanWrite(Plan plan, IRemoteShell sh) =>
                plan.Add(Label(sh), $"Extract the backup's swarm state into {O.SwarmDir}", () =>
                {
                    StreamTree(sh, O, Backup, Ctx);
                    sh.RunChecked("Give the swarm dir its old owner", NodeDataDir.RestoreOwnerScript(O.SwarmDir, NodeDataDir.AsidePath(O.SwarmDir, Stamp)), Ct);
                }, state: "stopped, backup's swarm state in place");

            protected override string StartAction(IRemoteShell sh) => "Start Docker";
            protected override void Start(IRemoteShell sh) => SwarmNode.StartDocker(sh, O, Ctx);
            protected override string StartedState => "running the backup's swarm state";

            protected override void PlanAfterStart(Plan plan)
            {
                var sh = _req.Shell;
                string who = Label(sh);
                if (_autolock)
                {
                    plan.Add(who, "Unlock the restored swarm", () => SwarmNode.Unlock(sh, O, _req.UnlockKey, Ct));
                    plan.Add(who, "Turn autolock off (a locked node cannot force a new cluster)", () => SwarmNode.SetAutolock(sh, O, false, Ct));
                }
                plan.Add(who, "Force a new cluster from the restored state (docker swarm init --force-new-cluster)",
                    () => SwarmNode.ForceNewCluster(sh, O, _req.AdvertiseAddress, _req.ListenAddress, Ct), state: "manager of a new one-manager swarm");
                if (_autolock)
                    plan.Add(who, "Turn autolock back on (a new unlock key)", () =>
                    {
                        SwarmNode.SetAutolock(sh, O, true, Ct);
                        SwarmResult.UnlockKey = SwarmNode.ReadUnlockKey(sh, O, rotate: false, Ct);
                    });
            }

            protected override string WaitAction => "Wait until the node is a ready manager";
            protected override void Wait() => _after = SwarmNode.WaitReady(_req.Shell, O, Ctx);
            protected override string CheckAction => "Compare services, secrets, configs and networks with the backup";
            protected override void Check()
            {
                _after = WaitCounts(_req.Shell, O, Backup.Manifest, _after, Ctx);
                Result.Revision = 0;
            }

            protected override void Done()
            {
                Result.Status = _after.Quorum;
                SwarmResult.Swarm = _after;
                if (_autolock) Ctx.WriteWarning("Autolock is on again with a NEW unlock key (the result's UnlockKey): store it where the old one was; the old key no longer unlocks this swarm.");
            }
        }

        /// <summary>A host in a working swarm holds newer state than any backup: refuse unless -Force.</summary>
        internal static void Guard(SwarmClusterStatus before, bool force, IOperationContext ctx)
        {
            if (before.IsManager && before.Managers.Length > 0)
            {
                QuorumGuard.EnsureClusterIsDown(before.Quorum, force, ctx);
                return;
            }
            if (string.Equals(before.LocalNodeState, "active", StringComparison.OrdinalIgnoreCase))
            {
                QuorumGuard.Refuse(ErrorIds.ClusterHealthy, ErrorKind.InvalidOperation,
                    $"Docker on {before.Node} is an active worker of swarm {before.Cluster}; a restore would make it leave that swarm.", force, ctx, before.Node,
                    recommendedAction: "Restore onto a host that is not in a working swarm, or pass -Force to make this one leave its swarm.");
                return;
            }
            ctx.WriteVerbose($"Restore guard: {before}: not a member of a working swarm.");
        }

        /// <summary>The swarm needs a moment after forcing a new cluster before every object lists: retry the comparison for a while.</summary>
        private static SwarmClusterStatus WaitCounts(IRemoteShell sh, SwarmNodeOptions o, BackupManifest m, SwarmClusterStatus now, IOperationContext ctx)
        {
            var clock = Stopwatch.StartNew();
            string diff = Compare(m, now);
            while (diff != null && clock.Elapsed < TimeSpan.FromSeconds(15))
            {
                System.Threading.Thread.Sleep(200);
                now = SwarmStatusReader.Read(sh, o, ctx.Cancellation, probeUnreachable: false);
                diff = Compare(m, now);
            }
            if (diff != null)
                throw new ClusterDrException(ErrorIds.SwarmObjectsMismatch, ErrorKind.InvalidData,
                    $"The restored swarm on {sh.Node} does not hold what the backup recorded: {diff}.", sh.Node, surfaceAsIs: true);
            ctx.WriteVerbose($"Restored swarm on {sh.Node}: {now.Services} service(s), {now.Secrets} secret(s), {now.Configs} config(s), {now.Networks} swarm network(s), as in the backup.");
            return now;
        }

        internal static string Compare(BackupManifest m, SwarmClusterStatus s)
        {
            var wrong = new List<string>();
            void Check(string fact, int actual)
            {
                if (int.TryParse(m.Fact(fact), NumberStyles.None, CultureInfo.InvariantCulture, out int expected) && expected != actual)
                    wrong.Add($"{fact}: {actual} (backup: {expected})");
            }
            Check("services", s.Services);
            Check("secrets", s.Secrets);
            Check("configs", s.Configs);
            Check("networks", s.Networks);
            return wrong.Count == 0 ? null : string.Join(", ", wrong);
        }

        /// <summary>
        /// Builds a tar of the backup's swarm tree (directories and files with their modes, every file
        /// re-hashed against the manifest) on a worker thread and streams it into tar -x on the host.
        /// </summary>
        internal static void StreamTree(IRemoteShell sh, SwarmNodeOptions o, ClusterBackup backup, IOperationContext ctx)
        {
            var pipe = new StreamPipe();
            var expected = backup.Manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
            var producer = Task.Run(() =>
            {
                try
                {
                    using (var reader = BackupArchiveReader.Open(backup.Location))
                    using (var tar = new TarOutputStream(pipe.Writer, Encoding.UTF8) { IsStreamOwner = false })
                    {
                        var buffer = new byte[1 << 16];
                        reader.ForEachEntry((name, entry, content) =>
                        {
                            if (name != SwarmBackup.PayloadRoot && !name.StartsWith(SwarmBackup.PayloadRoot + "/", StringComparison.Ordinal))
                                throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{backup.Path}' holds '{name}' outside swarm/.", backup.Path);
                            var e = TarEntry.CreateTarEntry(entry.IsDirectory ? name + "/" : name);
                            e.ModTime = entry.ModTime;
                            e.TarHeader.Mode = entry.TarHeader.Mode;
                            e.TarHeader.TypeFlag = entry.IsDirectory ? TarHeader.LF_DIR : TarHeader.LF_NORMAL;
                            e.Size = entry.IsDirectory ? 0 : entry.Size;
                            tar.PutNextEntry(e);
                            if (!entry.IsDirectory)
                            {
                                if (!expected.TryGetValue(name, out var file))
                                    throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{backup.Path}' holds '{name}', which its manifest does not list.", backup.Path);
                                using (var hashing = new ReadHashingStream(content))
                                {
                                    int n;
                                    while ((n = hashing.Read(buffer, 0, buffer.Length)) > 0) tar.Write(buffer, 0, n);
                                    hashing.EnsureUnchanged(file, name, backup.Path);
                                }
                            }
                            tar.CloseEntry();
                        });
                        tar.Finish();
                    }
                    pipe.CompleteWriting();
                }
                catch (Exception ex)
                {
                    pipe.Fail(ex.Message);
                    throw;
                }
            });
            string d = Sh.Quote(o.DataRoot);
            Exception shellError = null;
            try
            {
                sh.RunStreaming("tar -x of the swarm state", $"umask 077; mkdir -p {d} && tar -x --no-same-owner -C {d} -f -", pipe.Reader, null, ctx.Cancellation);
            }
            catch (Exception ex) { shellError = ex; pipe.Fail("tar -x on " + sh.Node + " stopped"); }
            try { producer.GetAwaiter().GetResult(); }
            catch (ClusterDrException) { throw; }
            catch (Exception) when (shellError != null) { }
            if (shellError != null) throw shellError;
        }
    }
}
