using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ClusterDR.Backups;
using ClusterDR.Stores;
using ClusterDR.Tests.Fixtures;
using Xunit;
using static ClusterDR.Tests.Engine.SinglePassArchiveTests;

namespace ClusterDR.Tests.Stores
{
    /// <summary>
    /// The archive layer over each kind of store, against the real server of each (a directory; radosgw; Azurite):
    /// a backup streams in, lists by its manifest, verifies, copies both ways and is removed; an interrupted one, a
    /// damaged copy and a second backup of the same name leave nothing behind and overwrite nothing.
    /// </summary>
    public abstract class StoreCycleTests : IDisposable
    {
        protected readonly string Local = TestEnv.TempDir("store-cycle");

        /// <summary>A new, empty store (its own bucket or container) for one test.</summary>
        protected abstract BackupStore NewStore();

        public virtual void Dispose() { try { Directory.Delete(Local, true); } catch { } }

        private static ClusterBackup Write(BackupStore store, string folder, string label, byte[] big, Action<PayloadSink> midway = null)
        {
            var options = new ArchiveOptions { Store = store };
            string name = options.FileName("test", "c1", label, DateTime.UtcNow);
            using (var w = options.CreateWriter(folder, name))
            {
                w.AddStreamedPayload("snapshot.db", s =>
                {
                    if (midway == null) Stream(s, big, 1 << 20);
                    else midway(s);
                });
                var note = Encoding.UTF8.GetBytes("staged: its length is not declared");
                w.AddPayload("note.txt", s => s.Write(note, 0, note.Length));
                return w.Commit(Manifest(), new RecordingContext());
            }
        }

        [Fact]
        public void ABackupStreamsInListsByItsManifestVerifiesCopiesBothWaysAndIsRemoved()
        {
            var store = NewStore();
            var big = Data(14 * 1024 * 1024, 7, compressible: true);
            var b = Write(store, ".", "cycle", big);
            Assert.Same(store is LocalStore ? LocalStore.Instance : store, b.Store);
            Assert.StartsWith(store.Location.TrimEnd('/'), b.Path);

            var listed = BackupCatalog.List(store, null, false, null, null, (f, e) => throw new Xunit.Sdk.XunitException($"{f}: {e.Message}"));
            var one = Assert.Single(listed);
            Assert.Equal(b.Path, one.Path);
            Assert.Equal(b.SizeBytes, one.SizeBytes);
            Assert.Equal(Sha(big), one.Files.Single(f => f.Path == "snapshot.db").Sha256);

            var verified = BackupVerifier.Verify(one.Location, new RecordingContext());
            Assert.True(verified.Verified);

            // Out of the store to a directory, verified on the way; the copy is the same bytes.
            var down = BackupCopy.Copy(one.Location, null, Path.Combine(Local, "down"), new RecordingContext());
            Assert.True(down.Verified);
            Assert.Equal(b.SizeBytes, new FileInfo(down.Path).Length);
            Assert.True(BackupVerifier.Verify(down.Path, new RecordingContext()).Verified);

            // And back into another folder of the store.
            var up = BackupCopy.Copy(down.Path, store, "copies", new RecordingContext());
            Assert.Equal(down.SizeBytes, up.SizeBytes);
            var copies = BackupCatalog.List(store, "copies", false, null, null, null);
            Assert.Equal(up.Path, Assert.Single(copies).Path);
            Assert.Single(BackupCatalog.List(store, null, false, null, null, null)); // one level: the copy is in its folder
            Assert.Equal(2, BackupCatalog.List(store, null, true, null, null, null).Count);

            // Never over a backup that is there.
            var again = Assert.Throws<ClusterDrException>(() => BackupCopy.Copy(down.Path, store, "copies", new RecordingContext()));
            Assert.Equal(ErrorIds.BackupExists, again.ErrorId);

            BackupCatalog.Remove(one.Location);
            BackupCatalog.Remove(up.Location);
            Assert.Empty(BackupCatalog.List(store, null, true, null, null, null));
        }

        [Fact]
        public void ABackupThatFailsHalfWayLeavesNothingThatListsAndNoObject()
        {
            var store = NewStore();
            var big = Data(12 * 1024 * 1024, 3);
            var ex = Assert.Throws<IOException>(() => Write(store, ".", "cut", big, sink =>
            {
                sink.DeclareLength(big.Length);
                sink.Write(big, 0, big.Length / 2 + 12345);
                throw new IOException("the cluster went away");
            }));
            Assert.Equal("the cluster went away", ex.Message);
            Assert.Empty(BackupCatalog.List(store, null, true, null, null, null));
            Assert.Empty(store.List(Prefix(store), true, default).Where(o => !o.Key.EndsWith("/", StringComparison.Ordinal)));
        }

        [Fact]
        public void ADamagedArchiveIsNotCopiedAndTheDestinationKeepsNothing()
        {
            var store = NewStore();
            var source = Write(LocalStore.Instance, Path.Combine(Local, "src"), "damaged", Data(9 * 1024 * 1024, 5));
            var bytes = File.ReadAllBytes(source.Path);
            bytes[bytes.Length / 2] ^= 0x55;
            File.WriteAllBytes(source.Path, bytes);
            var ex = Assert.Throws<ClusterDrException>(() => BackupCopy.Copy(source.Path, store, ".", new RecordingContext()));
            Assert.Contains(ex.ErrorId, new[] { ErrorIds.ArchiveCorrupt, ErrorIds.PayloadHashMismatch });
            Assert.Null(store.Stat(store.Combine(".", source.Name), default));
            Assert.Empty(BackupCatalog.List(store, null, true, null, null, null));
        }

        [Fact]
        public void AListingLeavesOutForeignObjectsAndNamesTheDamagedOne()
        {
            var store = NewStore();
            var good = Write(store, ".", "good", Data(100_000, 1));
            Put(store, store.Combine(".", "notes.txt"), Encoding.UTF8.GetBytes("not a backup"));
            Put(store, store.Combine(".", "junk.tar.zst"), new byte[] { 0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5, 6, 7, 8 });
            var skipped = new List<string>();
            var listed = BackupCatalog.List(store, null, false, null, null, (f, e) => skipped.Add(f));
            Assert.Equal(good.Path, Assert.Single(listed).Path);
            Assert.Equal(store.Describe(store.Combine(".", "junk.tar.zst")), Assert.Single(skipped));
        }

        [Fact]
        public void TheSameBackupNameTwiceIsRefusedAndTheFirstStays()
        {
            var store = NewStore();
            var options = new ArchiveOptions { Store = store };
            string name = options.FileName("test", "c1", "twice", DateTime.UtcNow);
            ClusterBackup first;
            using (var w = options.CreateWriter(".", name))
            {
                w.AddPayload("a.txt", s => s.WriteByte(1));
                first = w.Commit(Manifest(), new RecordingContext());
            }
            var ex = Assert.Throws<ClusterDrException>(() => options.CreateWriter(".", name).Dispose());
            Assert.Equal(ErrorIds.BackupExists, ex.ErrorId);
            Assert.True(BackupVerifier.Verify(first.Location, new RecordingContext()).Verified);
        }

        protected static string Prefix(BackupStore store) => store is LocalStore l ? l.Root : store.Prefix;

        protected static void Put(BackupStore store, string key, byte[] data)
        {
            using (var u = store.BeginUpload(key, default))
            {
                u.Stream.Write(data, 0, data.Length);
                u.Commit(default);
            }
        }
    }

    public sealed class LocalStoreCycleTests : StoreCycleTests
    {
        private int _n;
        protected override BackupStore NewStore() => new LocalStore(Directory.CreateDirectory(Path.Combine(Local, "store" + ++_n)).FullName);
    }
}
