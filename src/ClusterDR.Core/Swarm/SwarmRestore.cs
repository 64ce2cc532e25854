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
        public string BackupPath { get; set; }
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
        public static RestoreResult Run(SwarmRestoreRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var started = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            var sh = req.Shell;
            var o = req.Options;
            var ct = ctx.Cancellation;

            var backup = BackupVerifier.Verify(req.BackupPath, ctx, SwarmBackup.Kind);
            ctx.WriteVerbose($"Verified {backup.Path}: {backup.Verification}.");
            var m = backup.Manifest;
            bool autolock = string.Equals(m.Fact("autolock"), "true", StringComparison.OrdinalIgnoreCase);
            if (autolock && req.UnlockKey == null)
                throw new ClusterDrException(ErrorIds.UnlockKeyRequired, ErrorKind.InvalidArgument,
                    $"'{backup.Path}' was taken with autolock on: restoring it needs the unlock key that was current then (-UnlockKey). Nothing was changed.", backup.Path, surfaceAsIs: true);

            // Guard: never replace the state of a host that serves a working swarm.
            SwarmClusterStatus before = null;
            try { before = SwarmStatusReader.Read(sh, o, ct); }
            catch (ClusterDrException ex) when (ex.ErrorId == ErrorIds.DockerUnavailable)
            {
                ctx.WriteVerbose($"Restore guard: Docker on {sh.Node} does not answer ({ex.Message}); nothing to protect there.");
            }
            bool wasRunning = before != null;
            if (before != null) Guard(before, req.Force, ctx);

            string stamp = UtcStamp.Now();
            string dir = o.SwarmDir;
            string aside = NodeDataDir.AsidePath(dir, stamp);
            string who = $"Docker on {sh.Node}";
            var result = new RestoreResult
            {
                Platform = SwarmStatusReader.Platform,
                Cluster = backup.Cluster,
                BackupPath = backup.Path,
                Members = new[] { sh.Node },
                StartedUtc = started,
            };
            SwarmClusterStatus after = null;
            var plan = new Plan(ctx, "Restore-SwarmManager", ErrorIds.RestoreFailed);
            plan.SetState(who, wasRunning ? "running, swarm state untouched" : "not answering, swarm state untouched");
            plan.Add(who, "Stop Docker", () => SwarmNode.StopDocker(sh, o, ctx),
                undo: wasRunning ? (Action)(() => SwarmNode.StartDocker(sh, o, ctx)) : null,
                state: "stopped, swarm state untouched", undoneState: wasRunning ? "started again with its original swarm state" : "stopped with its original swarm state");
            NodeDataDir.PlanMoveAside(plan, who, sh, dir, stamp, ct, $"Move {dir} aside to {aside}",
                $"stopped, old swarm state at {aside}", "stopped, original swarm dir back in place", a => result.MovedAside[sh.Node] = a, "swarm dir");
            plan.Add(who, $"Extract the backup's swarm state into {dir}", () =>
            {
                StreamTree(sh, o, backup, ctx);
                sh.RunChecked("Give the swarm dir its old owner", NodeDataDir.RestoreOwnerScript(dir, aside), ct);
            }, state: "stopped, backup's swarm state in place");
            plan.Add(who, "Start Docker", () => SwarmNode.StartDocker(sh, o, ctx),
                undo: () => SwarmNode.StopDocker(sh, o, ctx), state: "running the backup's swarm state", undoneState: "stopped");
            if (autolock)
            {
                plan.Add(who, "Unlock the restored swarm", () => SwarmNode.Unlock(sh, o, req.UnlockKey, ct));
                plan.Add(who, "Turn autolock off (a locked node cannot force a new cluster)", () => SwarmNode.SetAutolock(sh, o, false, ct));
            }
            plan.Add(who, "Force a new cluster from the restored state (docker swarm init --force-new-cluster)",
                () => SwarmNode.ForceNewCluster(sh, o, req.AdvertiseAddress, req.ListenAddress, ct), state: "manager of a new one-manager swarm");
            if (autolock)
                plan.Add(who, "Turn autolock back on (a new unlock key)", () =>
                {
                    SwarmNode.SetAutolock(sh, o, true, ct);
                    result.UnlockKey = SwarmNode.ReadUnlockKey(sh, o, rotate: false, ct);
                });
            plan.Check(who, "Wait until the node is a ready manager", () => after = SwarmNode.WaitReady(sh, o, ctx));
            plan.Check(who, "Compare services, secrets, configs and networks with the backup", () =>
            {
                after = WaitCounts(sh, o, m, after, ctx);
                result.Revision = 0;
            });
            if (!plan.Execute()) return null;
            result.Status = after.Quorum;
            result.Swarm = after;
            result.Steps = plan.Steps.Select(s => s.ToString()).ToArray();
            result.Duration = clock.Elapsed;
            if (autolock) ctx.WriteWarning("Autolock is on again with a NEW unlock key (the result's UnlockKey): store it where the old one was; the old key no longer unlocks this swarm.");
            return result;
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
                string msg = $"Docker on {before.Node} is an active worker of swarm {before.Cluster}; a restore would make it leave that swarm.";
                if (!force) throw new ClusterDrException(ErrorIds.ClusterHealthy, ErrorKind.InvalidOperation, msg + " Use -Force to override.", before.Node,
                    recommendedAction: "Restore onto a host that is not in a working swarm, or pass -Force to make this one leave its swarm.");
                ctx.WriteWarning(msg + " Going on because -Force was given.");
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
                System.Threading.Thread.Sleep(500);
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
                    using (var reader = BackupArchiveReader.Open(backup.Path))
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
