using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Security;
using ClusterDR.Safety;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Dcos
{
    /// <summary>What every DC/OS backup operation needs: the cluster, the token, the TLS trust, the guard and how to wait.</summary>
    public sealed class DcosRequest
    {
        public Uri Uri { get; set; }
        public SecureString AcsToken { get; set; }
        /// <summary>PEM bundle that anchors Admin Router's certificate (null: system trust).</summary>
        public string CaCertificatePath { get; set; }
        /// <summary>Exhibitor on the masters (a DC/OS cluster URL reaches it through Admin Router); null: no guard.</summary>
        public Uri ExhibitorUri { get; set; }
        public bool Force { get; set; }
        public bool Wait { get; set; }
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(15);
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
    }

    /// <summary>
    /// The engine of New-, Get-, Restore- and Remove-DcosBackup: look the backup up, guard, one plan step
    /// for the state-changing call, and optionally wait until the service reports the outcome.
    /// </summary>
    public static class DcosBackups
    {
        public static DcosBackupInfo Create(DcosRequest req, string label, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            DcosBackupLabel.Validate(label);
            using (var client = Open(req))
            {
                Guard(req, client, $"create a DC/OS backup of {client.Cluster}", ctx);
                DcosBackupInfo created = null;
                var plan = new Plan(ctx, "New-DcosBackup", ErrorIds.DcosBackupFailed)
                    .Add(client.Cluster.ToString(), $"Create a DC/OS backup labelled '{label}'", () => created = client.Create(label, ctx.Cancellation), state: "backing up");
                if (!plan.Execute()) return null;
                ctx.WriteVerbose($"New-DcosBackup: the service started backup {created.Id} ({created.Status}).");
                return req.Wait ? WaitForBackup(client, created.Id, req, ctx) : created;
            }
        }

        /// <summary>One backup by id (DcosBackupNotFound when there is none), or every backup whose label starts with <paramref name="labelPrefix"/>.</summary>
        public static IList<DcosBackupInfo> Get(DcosRequest req, string id, string labelPrefix, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            using (var client = Open(req))
            {
                var found = id != null
                    ? new List<DcosBackupInfo> { Resolve(client, id, ctx) }
                    : client.List(ctx.Cancellation).Where(b => labelPrefix == null || (b.Label ?? b.Id).StartsWith(labelPrefix, StringComparison.Ordinal)).ToList();
                return req.Wait ? found.Select(b => WaitForBackup(client, b.Id, req, ctx)).ToList() : found;
            }
        }

        public static DcosRestoreInfo Restore(DcosRequest req, string backupId, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            using (var client = Open(req))
            {
                var backup = Resolve(client, backupId, ctx);
                if (!backup.IsReady)
                    throw new ClusterDrException(ErrorIds.DcosBackupNotReady, ErrorKind.InvalidOperation,
                        $"DC/OS backup {backup.Id} is {Describe(backup)}; only a backup in STATUS_READY can be restored.", backup);
                Guard(req, client, $"restore DC/OS backup {backup.Id} on {client.Cluster}", ctx);
                DcosRestoreInfo restore = null;
                var plan = new Plan(ctx, "Restore-DcosBackup", ErrorIds.DcosRestoreFailed)
                    .Add(client.Cluster.ToString(), $"Restore DC/OS backup {backup.Id}", () => restore = client.Restore(backup.Id, ctx.Cancellation), state: "restoring " + backup.Id);
                if (!plan.Execute()) return null;
                ctx.WriteVerbose($"Restore-DcosBackup: the service started restore {restore.Id} of {backup.Id} ({restore.Status}).");
                if (!req.Wait) return restore;
                return Poll($"Restore {restore.Id} of DC/OS backup {backup.Id}", req, ctx, () =>
                {
                    var current = Resolve(client, backup.Id, ctx).Restores.FirstOrDefault(r => r.Id == restore.Id)
                        ?? throw NotFound(restore.Id, client, $"the service no longer lists this restore under backup {backup.Id}");
                    return (current, Settled(current, ErrorIds.DcosRestoreFailed, $"Restore {current.Id} of DC/OS backup {backup.Id}"), Describe(current));
                });
            }
        }

        public static void Remove(DcosRequest req, string backupId, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            using (var client = Open(req))
            {
                var backup = Resolve(client, backupId, ctx);
                var plan = new Plan(ctx, "Remove-DcosBackup", ErrorIds.DcosBackupFailed)
                    .Add(backup.Id, $"Delete the DC/OS backup ({Describe(backup)}) from {client.Cluster}", () => client.Delete(backup.Id, ctx.Cancellation), state: "deleted");
                if (!plan.Execute() || !req.Wait) return;
                Poll($"Deletion of DC/OS backup {backup.Id}", req, ctx, () =>
                {
                    bool gone = client.List(ctx.Cancellation).All(b => b.Id != backup.Id);
                    return (gone, gone, gone ? "gone" : "still listed");
                });
            }
        }

        private static DcosBackupClient Open(DcosRequest req) => new DcosBackupClient(req.Uri, req.AcsToken, req.CaCertificatePath);

        /// <summary>DC/OS backs up and restores only with every ZooKeeper server serving and one leader.</summary>
        private static void Guard(DcosRequest req, DcosBackupClient client, string operation, IOperationContext ctx)
        {
            if (req.ExhibitorUri == null)
            {
                ctx.WriteVerbose($"Quorum guard: no -ExhibitorUri was given, so ZooKeeper on the masters was not checked before going to {operation}.");
                return;
            }
            QuorumStatus status;
            try { status = client.WithToken(token => ExhibitorStatusReader.Read(req.ExhibitorUri, token, ctx.Cancellation, client.Handler)); }
            catch (ClusterDrException ex)
            {
                QuorumGuard.RefuseUnchecked(ex, $"Could not check ZooKeeper before going to {operation}: {ex.Message}", req.Force, ctx);
                return;
            }
            QuorumGuard.EnsureEnsembleWhole(status, ExhibitorStatusReader.Problem(status), operation, req.Force, ctx);
        }

        /// <summary>The backup with this id; a restore id or an unknown one is DcosBackupNotFound.</summary>
        private static DcosBackupInfo Resolve(DcosBackupClient client, string id, IOperationContext ctx)
        {
            var all = client.List(ctx.Cancellation);
            var backup = all.FirstOrDefault(b => b.Id == id);
            if (backup != null) return backup;
            var owner = all.FirstOrDefault(b => b.Restores.Any(r => r.Id == id));
            throw NotFound(id, client, owner == null ? null : $"it is the id of a restore of backup {owner.Id}; pass the backup's id");
        }

        private static ClusterDrException NotFound(string id, DcosBackupClient client, string why) =>
            new ClusterDrException(ErrorIds.DcosBackupNotFound, ErrorKind.ObjectNotFound,
                $"The DC/OS backup service at {client.Cluster} has no backup '{id}'" + (why == null ? " (Get-DcosBackup lists them)." : ": " + why + "."), id, surfaceAsIs: true);

        private static DcosBackupInfo WaitForBackup(DcosBackupClient client, string id, DcosRequest req, IOperationContext ctx) =>
            Poll($"DC/OS backup {id}", req, ctx, () =>
            {
                var current = Resolve(client, id, ctx);
                return (current, Settled(current, ErrorIds.DcosBackupFailed, $"DC/OS backup {id}"), Describe(current));
            });

        /// <summary>True when ready; a failure (the whole or a component in STATUS_ERROR) throws, naming the components.</summary>
        internal static bool Settled(DcosStatusInfo s, string failureId, string what)
        {
            if (!s.IsFailed) return s.IsReady;
            var failed = s.FailedComponents;
            string which = failed.Length == 0
                ? "the service reported STATUS_ERROR without naming a component"
                : string.Join("; ", failed.Select(c => s.ComponentErrors.TryGetValue(c, out var e) ? $"component {c} reported STATUS_ERROR: {e}" : $"component {c} reported STATUS_ERROR"));
            throw new ClusterDrException(failureId, ErrorKind.InvalidOperation, $"{what} failed: {which}.", s);
        }

        internal static string Describe(DcosStatusInfo s) =>
            s.ComponentStatus.Count == 0 ? s.Status : $"{s.Status} ({string.Join(", ", s.ComponentStatus.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + " " + kv.Value))})";

        /// <summary>Reads until done, every PollInterval, for at most WaitTimeout; progress and each change of state are reported.</summary>
        private static T Poll<T>(string activity, DcosRequest req, IOperationContext ctx, Func<(T Value, bool Done, string State)> read)
        {
            var clock = Stopwatch.StartNew();
            string last = null;
            while (true)
            {
                var (value, done, state) = read();
                if (state != last) ctx.WriteVerbose($"{activity}: {state} after {clock.Elapsed.TotalSeconds:0} s.");
                last = state;
                long total = (long)req.WaitTimeout.TotalSeconds;
                if (done)
                {
                    ctx.WriteProgress(new ProgressInfo(activity, state, total, total, completed: true));
                    return value;
                }
                var left = req.WaitTimeout - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                    throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout,
                        $"{activity} is still {state} after {req.WaitTimeout.TotalSeconds:0} s; it goes on in the cluster (Get-DcosBackup -Wait waits again).", value);
                ctx.WriteProgress(new ProgressInfo(activity, state, (long)clock.Elapsed.TotalSeconds, total));
                Safety.CancellationScope.Effective(ctx.Cancellation).WaitHandle.WaitOne(left < req.PollInterval ? left : req.PollInterval);
                Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
            }
        }
    }
}
