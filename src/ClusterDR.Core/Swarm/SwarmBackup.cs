using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Security;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;
using ICSharpCode.SharpZipLib.Tar;

namespace ClusterDR.Swarm
{
    public sealed class SwarmBackupRequest : SwarmNodeRequest
    {
        public string Directory { get; set; }
        public string Label { get; set; }
        /// <summary>Format and compression of the archive (zstd level 1 by default).</summary>
        public ArchiveOptions Archive { get; set; } = new ArchiveOptions();
    }

    /// <summary>
    /// Backup-SwarmManager's engine: guard, stop Docker, stream the swarm dir (tar on the node, parsed
    /// here as it arrives, one payload file per entry) into the archive, start Docker again (also when
    /// the copy failed), unlock, wait until the node is a reachable manager, then write the archive.
    /// The manager is down only from stop to start; compressing happens after it is back.
    /// </summary>
    public static class SwarmBackup
    {
        public const string Kind = "swarm";
        public const string PayloadRoot = "swarm";

        public static ClusterBackup Run(SwarmBackupRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var sh = req.Shell;
            var o = req.Options;
            var ct = ctx.Cancellation;
            var status = SwarmStatusReader.Read(sh, o, ct);
            if (!status.IsManager || status.Problem != null && status.Managers.Length == 0)
                throw new ClusterDrException(ErrorIds.NotASwarmManager, ErrorKind.InvalidOperation,
                    $"Backup-SwarmManager needs a manager: Docker on {sh.Node} is not one ({status.Problem ?? status.LocalNodeState}).", sh.Node);
            Guard(status, req.Force, ctx);
            bool autolock = status.Autolock == true;
            if (autolock && req.UnlockKey == null)
                throw new ClusterDrException(ErrorIds.UnlockKeyRequired, ErrorKind.InvalidArgument,
                    $"Autolock is on in swarm {status.Cluster}: Docker on {sh.Node} comes back locked after the backup, so give -UnlockKey (Get-SwarmUnlockKey reads it). Nothing was changed.", sh.Node, surfaceAsIs: true);

            var created = DateTime.UtcNow;
            string fileName = req.Archive.FileName(Kind, status.Cluster, req.Label, created);
            string target = Path.Combine(Path.GetFullPath(req.Directory), fileName);
            string who = $"swarm manager {sh.Node}";
            ClusterBackup result = null;
            BackupArchiveWriter writer = null;
            var window = new Stopwatch();
            SwarmClusterStatus after = null;
            bool started = false;
            try
            {
                var plan = new Plan(ctx, "Backup-SwarmManager", ErrorIds.BackupFailed);
                plan.SetState(who, "running");
                plan.Add(who, "Stop Docker (it is started again right after the copy)", () => { window.Start(); SwarmNode.StopDocker(sh, o, ctx); },
                    undo: () => { if (!started) { Restart(sh, o, req.UnlockKey, autolock, ctx); window.Stop(); } },
                    state: "Docker stopped", undoneState: "Docker started again");
                plan.Add(target, $"Copy {o.SwarmDir} from {sh.Node} into the backup{req.Archive.EncryptionNote}", () =>
                {
                    writer = req.Archive.CreateWriter(req.Directory, fileName);
                    StreamTree(sh, o, writer, ctx);
                });
                plan.Check(who, autolock ? "Start Docker and unlock the swarm" : "Start Docker", () =>
                {
                    Restart(sh, o, req.UnlockKey, autolock, ctx);
                    window.Stop();
                    started = true;
                    plan.SetState(who, "Docker started");
                });
                plan.Check(who, "Wait until the node is a reachable manager again", () => after = SwarmNode.WaitReady(sh, o, ctx, status.ReachableManagers));
                plan.Check(target, "Write the backup archive", () =>
                {
                    var manifest = new BackupManifest
                    {
                        Kind = Kind,
                        Cluster = status.Cluster,
                        Label = req.Label,
                        CreatedUtc = created,
                        SourceNodes = new List<string> { sh.Node },
                        Facts = new Dictionary<string, string>
                        {
                            ["nodeId"] = status.NodeId,
                            ["clusterId"] = status.Cluster,
                            ["nodeAddress"] = status.NodeAddress,
                            ["managers"] = status.ManagerCount.ToString(CultureInfo.InvariantCulture),
                            ["workers"] = status.WorkerCount.ToString(CultureInfo.InvariantCulture),
                            ["services"] = status.Services.ToString(CultureInfo.InvariantCulture),
                            ["secrets"] = status.Secrets.ToString(CultureInfo.InvariantCulture),
                            ["configs"] = status.Configs.ToString(CultureInfo.InvariantCulture),
                            ["networks"] = status.Networks.ToString(CultureInfo.InvariantCulture),
                            ["autolock"] = autolock ? "true" : "false",
                            ["dataRoot"] = o.DataRoot,
                            ["dockerVersion"] = status.DockerVersion ?? "",
                            ["downtimeSeconds"] = window.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture),
                        },
                    };
                    result = writer.Commit(manifest, ctx);
                });
                plan.Execute();
                if (after != null) ctx.WriteVerbose($"Backup-SwarmManager: {sh.Node} was down for {window.Elapsed.TotalSeconds:0.00} s; now {after}.");
                return result;
            }
            finally
            {
                writer?.Dispose();
            }
        }

        /// <summary>
        /// Stopping this manager must leave a quorum of reachable managers; a one-manager swarm loses its
        /// management plane for the duration (and the node's own containers stop with Docker), so it needs -Force.
        /// </summary>
        internal static void Guard(SwarmClusterStatus status, bool force, IOperationContext ctx)
        {
            if (status.ManagerCount == 1 && status.HasQuorum)
            {
                QuorumGuard.Refuse(ErrorIds.QuorumAtRisk, ErrorKind.InvalidOperation,
                    $"Swarm {status.Cluster} has a single manager ({status.Node}): its management plane is down while Docker is stopped for the backup, and so are this node's own containers.", force, ctx, status.Quorum,
                    recommendedAction: "Add managers so one can stop while the others keep quorum, or pass -Force to back up this single manager anyway (its management plane pauses).");
                return;
            }
            QuorumGuard.EnsureCanTakeDown(status.Quorum, new[] { status.NodeId }, force, ctx);
        }

        private static void Restart(IRemoteShell sh, SwarmNodeOptions o, SecureString key, bool autolock, IOperationContext ctx)
        {
            SwarmNode.StartDocker(sh, o, ctx);
            if (autolock) SwarmNode.Unlock(sh, o, key, ctx.Cancellation);
        }

        /// <summary>
        /// `tar -cf - swarm` on the node; its stdout is parsed here while it arrives (the shell runs on a
        /// worker thread, feeding a bounded pipe), each file staged as one payload with its mode, each
        /// directory kept as a directory entry. Progress is reported on the calling thread.
        /// </summary>
        internal static void StreamTree(IRemoteShell sh, SwarmNodeOptions o, BackupArchiveWriter writer, IOperationContext ctx)
        {
            var ct = ctx.Cancellation;
            var pipe = new StreamPipe();
            var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var stderr = new MemoryStream();
            string script = $"cd {Sh.Quote(o.DataRoot)} && test -d swarm || {{ echo 'no swarm directory under {o.DataRoot.Replace("'", "")}' >&2; exit 3; }}; tar -cf - swarm";
            var producer = Task.Run(() =>
            {
                try { return sh.Run(script, null, pipe.Writer, Stream.Synchronized(stderr), stop.Token); }
                finally { pipe.CompleteWriting(); }
            });
            var progress = new ProgressReporter(ctx, "Copying the swarm state of " + sh.Node, -1);
            long bytes = 0;
            int files = 0;
            try
            {
                using (var tar = new TarInputStream(pipe.Reader, Encoding.UTF8) { IsStreamOwner = false })
                {
                    TarEntry e;
                    var buffer = new byte[1 << 16];
                    while ((e = tar.GetNextEntry()) != null)
                    {
                        Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                        string name = ArchivePaths.Normalize(e.Name);
                        if (name != PayloadRoot && !name.StartsWith(PayloadRoot + "/", StringComparison.Ordinal))
                            throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"The tar of {o.SwarmDir} on {sh.Node} holds '{name}'.", sh.Node);
                        byte type = e.TarHeader.TypeFlag;
                        if (type == TarHeader.LF_DIR) { writer.AddDirectory(name, e.TarHeader.Mode); continue; }
                        if (type != TarHeader.LF_NORMAL && type != TarHeader.LF_OLDNORM)
                            throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData,
                                $"{o.SwarmDir} on {sh.Node} holds '{name}', of tar type '{(char)type}': only files and directories are backed up.", sh.Node);
                        writer.AddPayload(name, sink =>
                        {
                            int n;
                            while ((n = tar.Read(buffer, 0, buffer.Length)) > 0)
                            {
                                sink.Write(buffer, 0, n);
                                bytes += n;
                                progress.Report(bytes);
                            }
                        }, e.TarHeader.Mode);
                        files++;
                    }
                }
                // Drain what tar wrote after its end-of-archive blocks, then take its exit code.
                var rest = new byte[1 << 16];
                while (pipe.Reader.Read(rest, 0, rest.Length) > 0) { }
            }
            catch (Exception ex)
            {
                pipe.Fail(ex.Message);
                stop.Cancel();
                try { producer.Wait(); } catch { }
                if (ex is TarException || ex is ICSharpCode.SharpZipLib.SharpZipBaseException || ex is IOException && !(ex is FileNotFoundException))
                {
                    string err = Encoding.UTF8.GetString(stderr.ToArray()).Trim();
                    throw new ClusterDrException(ErrorIds.RemoteCommandFailed, ErrorKind.InvalidData,
                        $"The tar of {o.SwarmDir} from {sh.Node} broke off: {ex.Message}{(err.Length > 0 ? " (" + err + ")" : "")}", sh.Node, ex);
                }
                throw;
            }
            int code;
            try { code = producer.GetAwaiter().GetResult(); }
            finally { stop.Dispose(); }
            if (code != 0) throw ShellExtensions.Failed(sh, "tar of " + o.SwarmDir, code, Encoding.UTF8.GetString(stderr.ToArray()));
            if (files == 0)
                throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData, $"{o.SwarmDir} on {sh.Node} holds no files.", sh.Node);
            progress.Complete();
            ctx.WriteVerbose($"Copied {files} file(s), {bytes} bytes of {o.SwarmDir} from {sh.Node}.");
        }
    }
}
