using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using ClusterDR.Backups;
using ClusterDR.Etcd;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Etcd
{
    /// <summary>
    /// The trailer check while a snapshot streams into an archive: with the size announced it shares the
    /// payload's SHA-256 pass, without it a second hash runs; both must catch the same damage.
    /// </summary>
    public sealed class EtcdSnapshotSinkTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("snapshot-sink");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        private static byte[] Snapshot(int dbLength)
        {
            var db = new byte[dbLength];
            new Random(dbLength).NextBytes(db);
            return db.Concat(SHA256.HashData(db)).ToArray();
        }

        private void Write(byte[] snap, bool announce, int chunk, string name)
        {
            using var w = BackupArchiveWriter.Create(_dir, name);
            w.AddStreamedPayload(EtcdBackup.SnapshotFile, sink =>
            {
                var s = new EtcdSnapshotSink(sink, "test");
                if (announce) s.DeclareLength(snap.Length);
                for (int at = 0; at < snap.Length; at += chunk) s.Write(snap, at, Math.Min(chunk, snap.Length - at));
                s.Complete();
            });
            w.Commit(new BackupManifest { Kind = "etcd", CreatedUtc = DateTime.UtcNow }, new RecordingContext());
        }

        [Theory]
        [InlineData(true, 32768)]
        [InlineData(true, 1000)]   // the trailer straddles writes
        [InlineData(true, 7)]
        [InlineData(false, 32768)]
        public void AnIntactSnapshotPassesAndItsArchiveVerifies(bool announce, int chunk)
        {
            var snap = Snapshot(200_000);
            Write(snap, announce, chunk, $"ok-{announce}-{chunk}.tar.gz");
            var file = Directory.GetFiles(_dir).Single();
            var v = BackupVerifier.Verify(file, new RecordingContext());
            Assert.True(v.Verified);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(snap)).ToLowerInvariant(), BackupArchiveReader.ReadBackup(file).Manifest.Files.Single().Sha256);
        }

        [Theory]
        [InlineData(true, 100)]          // in the db
        [InlineData(true, 200_010)]      // in the trailer
        [InlineData(false, 100)]
        [InlineData(false, 200_031)]
        public void AFlippedByteAnywhereIsRefusedAndNoArchiveIsLeft(bool announce, int at)
        {
            var snap = Snapshot(200_000);
            snap[at] ^= 0x40;
            var ex = Assert.Throws<ClusterDrException>(() => Write(snap, announce, 4096, $"bad-{announce}-{at}.tar.gz"));
            Assert.Equal(ErrorIds.SnapshotHashMismatch, ex.ErrorId);
            Assert.Empty(Directory.GetFileSystemEntries(_dir));
        }

        [Fact]
        public void AStreamCutShortOfItsAnnouncedSizeIsRefused()
        {
            var snap = Snapshot(50_000);
            using var w = BackupArchiveWriter.Create(_dir, "cut.tar.gz");
            var ex = Assert.Throws<ClusterDrException>(() => w.AddStreamedPayload(EtcdBackup.SnapshotFile, sink =>
            {
                var s = new EtcdSnapshotSink(sink, "test");
                s.DeclareLength(snap.Length);
                s.Write(snap, 0, snap.Length - 40);
                s.Complete();
            }));
            Assert.Contains(ex.ErrorId, new[] { ErrorIds.SnapshotHashMismatch, ErrorIds.PayloadSizeMismatch });
        }
    }
}
