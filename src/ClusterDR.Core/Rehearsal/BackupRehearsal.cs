using System;
using System.Diagnostics;
using System.Linq;
using ClusterDR.Backups;
using ClusterDR.Safety;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// Test-ClusterBackup -Rehearse's engine: verify the archive while extracting it, restore it into a throwaway server
    /// of its platform on loopback (free ports, a temp dir, a network namespace for Docker), compare what that server
    /// serves with what the backup recorded, and take every trace of the server away. It never opens a connection to
    /// the backed-up cluster: nothing it starts is told any address of it.
    /// </summary>
    public static class BackupRehearsal
    {
        /// <summary>
        /// The verified backup with its <see cref="ClusterBackup.Rehearsal"/> set. A rehearsal that ran and found the
        /// server unlike the backup throws RehearsalFailed, whose Target is that backup (its Rehearsal says which checks
        /// failed); a backup that fails verification throws what Test-ClusterBackup throws.
        /// </summary>
        public static ClusterBackup Run(Stores.BackupLocation location, RehearsalOptions options, IOperationContext ctx)
        {
            options = options ?? new RehearsalOptions();
            string kind = BackupArchiveReader.ReadBackup(location).Kind;
            var clock = Stopwatch.StartNew();
            var result = new RehearsalResult(kind);
            ClusterBackup backup;
            switch (kind)
            {
                case Etcd.EtcdBackup.Kind: backup = EtcdRehearsal.Run(location, options, result, ctx); break;
                case ZooKeeper.ZkBackup.Kind: backup = ZkRehearsal.Run(location, options, result, ctx); break;
                case Swarm.SwarmBackup.Kind: backup = SwarmRehearsal.Run(location, options, result, ctx); break;
                case Deis.DeisStore.Kind: backup = DeisRehearsal.Run(location, options, result, ctx); break;
                default:
                    throw new ClusterDrException(ErrorIds.RehearsalUnsupported, ErrorKind.NotImplemented,
                        $"'{location.Display}' is a {kind} backup; ClusterDR rehearses etcd, zookeeper, swarm and deis-store backups.", location.Display, surfaceAsIs: true);
            }
            result.Duration = clock.Elapsed;
            backup.Rehearsal = result;
            foreach (var c in result.Checks) ctx.WriteVerbose($"Rehearsal of {backup.Name}: {c}.");
            foreach (var n in result.NotCompared) ctx.WriteVerbose($"Rehearsal of {backup.Name}: not compared: {n}.");
            if (!result.Passed)
                throw new ClusterDrException(ErrorIds.RehearsalFailed, ErrorKind.InvalidData,
                    $"The rehearsal of '{backup.Path}' failed: {string.Join("; ", result.FailedChecks.Select(c => c.ToString()))}. The backup does not restore to what it recorded.",
                    backup, surfaceAsIs: true,
                    recommendedAction: "Do not rely on this backup: take a new one and rehearse it; the error's TargetObject.Rehearsal lists every check.");
            return backup;
        }

        /// <summary>
        /// The archive verified (every hash and check of its manifest) in the pass that hands each payload entry to
        /// <paramref name="extract"/> (null: none), recorded as the rehearsal's first check. What the extraction wrote
        /// is trustworthy once this returns; a backup that does not verify throws what Test-ClusterBackup throws.
        /// </summary>
        internal static ClusterBackup VerifyExtracting(Stores.BackupLocation location, string kind, RehearsalResult result, IOperationContext ctx,
            Func<string, ICSharpCode.SharpZipLib.Tar.TarEntry, System.IO.Stream> extract = null, string checkedElsewhere = null)
        {
            var backup = BackupVerifier.Verify(location, ctx, kind, null, extract, out var index, platformChecks: checkedElsewhere == null);
            index?.Dispose();
            result.Add("archive", "every hash and check of the manifest", backup.Verification + (checkedElsewhere == null ? "" : "; " + checkedElsewhere), true);
            return backup;
        }

        /// <summary>A check that a step ran, with what it said when it did not.</summary>
        internal static bool Step(RehearsalResult result, string name, string expected, Func<string> step)
        {
            try
            {
                result.Add(name, expected, step(), true);
                return true;
            }
            catch (ClusterDrException ex) when (ex.ErrorId != ErrorIds.RehearsalToolMissing && ex.ErrorId != ErrorIds.RehearsalUnsupported)
            {
                result.Add(name, expected, ex.Message, false);
                return false;
            }
        }

        /// <summary>The last lines a program printed, on one line, for a message.</summary>
        internal static string LastLines(string output, int lines = 3) =>
            string.Join(" | ", Enumerable.Reverse(Enumerable.Reverse((output ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)).Take(lines)));

        /// <summary>Polls <paramref name="ready"/> until it returns null (ready) or the server exits or time runs out: the last reason otherwise.</summary>
        internal static string WaitUntil(Func<string> ready, int pid, TimeSpan timeout, IOperationContext ctx)
        {
            var clock = Stopwatch.StartNew();
            string why = "not started";
            while (clock.Elapsed < timeout)
            {
                CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                why = ready();
                if (why == null) return null;
                if (!Scratch.Alive(pid)) return "the server exited: " + why;
                System.Threading.Thread.Sleep(20);
            }
            return $"not ready within {timeout.TotalSeconds:0} s: {why}";
        }
    }
}
