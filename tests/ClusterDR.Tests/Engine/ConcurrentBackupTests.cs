using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Backups;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// Two backups of one cluster started in the same second get the same file name in the same directory.
    /// Each writer owns its temporary files, so they never destroy each other: both finish, or one finishes
    /// and the other says BackupExists; a night never ends without a backup.
    /// </summary>
    public sealed class ConcurrentBackupTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("race");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        private static byte[] Data(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

        private static BackupManifest Manifest() => new BackupManifest { Kind = "test", Cluster = "c1", CreatedUtc = DateTime.UtcNow };

        /// <summary>One backup as the platforms write them: a streamed payload (etcd, Deis) and a staged one (swarm, ZooKeeper).</summary>
        private ClusterBackup Backup(string name, Barrier start, int seed)
        {
            var streamed = Data(300_000, seed);
            var staged = Data(50_000, seed + 1);
            start.SignalAndWait();
            using var w = BackupArchiveWriter.Create(_dir, name);
            w.AddStreamedPayload("snapshot.db", sink =>
            {
                sink.DeclareLength(streamed.Length);
                for (int at = 0; at < streamed.Length; at += 8192) sink.Write(streamed, at, Math.Min(8192, streamed.Length - at));
            });
            w.AddPayload("tree/staged", s => s.Write(staged, 0, staged.Length));
            return w.Commit(Manifest(), new RecordingContext());
        }

        [Fact]
        public async Task TwoBackupsOfTheSameNameRacingIntoOneDirectoryNeverBothFail()
        {
            for (int round = 0; round < 8; round++)
            {
                string name = $"race-{round}.tar.gz";
                var start = new Barrier(2);
                var runs = Enumerable.Range(0, 2).Select(i => Task.Run(() => Backup(name, start, round * 10 + i))).ToArray();
                try { await Task.WhenAll(runs); } catch (Exception) { /* each run's outcome is checked below */ }
                var failures = runs.Where(t => t.IsFaulted).Select(t => t.Exception.InnerException).ToList();
                foreach (var f in failures)
                {
                    var cde = Assert.IsType<ClusterDrException>(f);
                    Assert.Equal(ErrorIds.BackupExists, cde.ErrorId);
                    Assert.Equal(ErrorKind.ResourceExists, cde.Kind);
                    Assert.True(cde.SurfaceAsIs);
                }
                Assert.Equal(1, runs.Count(t => t.Status == TaskStatus.RanToCompletion));
                Assert.True(BackupVerifier.Verify(Path.Combine(_dir, name), new RecordingContext()).Verified);
            }
            // Only the finished archives are left: no .partial, .2 or staging dir of either run.
            Assert.Equal(Enumerable.Range(0, 8).Select(r => $"race-{r}.tar.gz").OrderBy(n => n),
                Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).OrderBy(n => n));
        }

        [Fact]
        public void EachWriterOwnsUniqueTemporaryFilesThatNeverList()
        {
            var a = BackupArchiveWriter.Create(_dir, "same.tar.gz");
            a.AddPayload("staged", s => s.Write(new byte[] { 1, 2, 3 }, 0, 3));
            a.AddStreamedPayload("streamed", s => { s.DeclareLength(2); s.Write(new byte[] { 4, 5 }, 0, 2); });
            // A second run of the same name must not take over (or delete) the first one's .partial and staging dir.
            var b = BackupArchiveWriter.Create(_dir, "same.tar.gz");
            b.AddPayload("staged", s => s.Write(new byte[] { 6 }, 0, 1));
            b.AddStreamedPayload("streamed", s => { s.DeclareLength(1); s.Write(new byte[] { 7 }, 0, 1); });
            Assert.NotEqual(a.PartialPath, b.PartialPath);
            Assert.True(File.Exists(a.PartialPath));
            Assert.True(File.Exists(b.PartialPath));
            Assert.Matches(@"^same\.tar\.gz\.[0-9a-f]{12}\.partial$", Path.GetFileName(a.PartialPath));
            var skipped = new List<string>();
            Assert.Empty(BackupCatalog.List(_dir, true, null, null, (f, _) => skipped.Add(f)));
            Assert.Empty(skipped);

            var done = a.Commit(Manifest(), new RecordingContext());
            Assert.True(BackupVerifier.Verify(done.Path, new RecordingContext()).Verified);
            var ex = Assert.Throws<ClusterDrException>(() => b.Commit(Manifest(), new RecordingContext()));
            Assert.Equal(ErrorIds.BackupExists, ex.ErrorId);
            Assert.Contains("finished first", ex.Message);
            a.Dispose();
            b.Dispose();
            Assert.Equal(new[] { "same.tar.gz" }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).ToArray());
            Assert.True(BackupVerifier.Verify(done.Path, new RecordingContext()).Verified);
        }

        [Fact]
        public void AStreamedEntryThatCannotStartReleasesTheArchiveOnce()
        {
            using var w = BackupArchiveWriter.Create(_dir, "twice.tar.gz");
            w.AddStreamedPayload("a", s => { s.DeclareLength(1); s.Write(new byte[] { 1 }, 0, 1); });
            // The same path again fails inside BeginStreamedEntry: the writer must stay usable, not hit a SemaphoreFullException.
            var ex = Assert.ThrowsAny<Exception>(() => w.AddStreamedPayload("a", s => s.DeclareLength(1)));
            Assert.IsNotType<SemaphoreFullException>(ex);
            w.AddStreamedPayload("b", s => { s.DeclareLength(1); s.Write(new byte[] { 2 }, 0, 1); });
            Assert.True(BackupVerifier.Verify(w.Commit(Manifest(), new RecordingContext()).Path, new RecordingContext()).Verified);
        }
    }
}
