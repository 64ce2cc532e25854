using System;
using System.IO;
using System.Linq;
using ClusterDR.Stores;
using Xunit;
using static ClusterDR.Tests.Engine.SinglePassArchiveTests;

namespace ClusterDR.Tests.Stores
{
    /// <summary>
    /// What a remote store does on the wire, the same for S3 and Azure Blob: parts patched at the head and published
    /// at once, ranged reads, an abandoned upload that shows nothing, no overwrite, and paged listings.
    /// </summary>
    public abstract class RemoteStoreTests
    {
        /// <summary>A store on a new, empty bucket or container, with 5 MiB parts.</summary>
        protected abstract RemoteStore NewStore(string name, string prefix = null);

        /// <summary>Sets the listing's page size (each store has its own knob).</summary>
        protected abstract void SetPageSize(RemoteStore store, int size);

        /// <summary>Uploads begun and never finished that the store still keeps (S3: multipart uploads; Azure keeps no such list).</summary>
        protected virtual int PendingUploads(RemoteStore store, string key) => 0;

        [Fact]
        public void AnUploadInPartsIsPatchedAtItsHeadPublishedAtOnceAndReadInRanges()
        {
            var s = NewStore("parts");
            var data = Data(17 * 1024 * 1024 + 333, 9);
            var head = Data(100, 10);
            string key = s.Combine(".", "x.bin");
            using (var u = s.BeginUpload(key, default))
            {
                u.Stream.Write(data, 0, data.Length);
                long end = u.Stream.Position;
                u.Stream.Seek(0, SeekOrigin.Begin);
                u.Stream.Write(head, 0, head.Length);
                u.Stream.Seek(end, SeekOrigin.Begin);
                Assert.Null(s.Stat(key, default));
                Assert.Empty(s.List("", true, default));
                u.Commit(default);
            }
            Buffer.BlockCopy(head, 0, data, 0, head.Length);
            Assert.Equal(data.Length, s.Stat(key, default)!.Length);
            Assert.Equal(Sha(data), Sha(ReadAll(s.OpenRead(key, 0, null, default))));
            Assert.Equal(Sha(data.Skip(6_000_000).Take(24).ToArray()), Sha(ReadAll(s.OpenRead(key, 6_000_000, 24, default))));
            Assert.Equal(Sha(data.Skip(data.Length - 24).ToArray()), Sha(ReadAll(s.OpenRead(key, data.Length - 24, 24, default))));
            Assert.Empty(ReadAll(s.OpenRead(key, 5, 0, default)));
            Assert.Equal(0, PendingUploads(s, key));
        }

        [Fact]
        public void AnAbandonedUploadShowsNothingAndASecondOneNeverOverwrites()
        {
            var s = NewStore("abandon");
            string key = s.Combine(".", "y.bin");
            var data = Data(12 * 1024 * 1024, 4);
            using (var u = s.BeginUpload(key, default)) u.Stream.Write(data, 0, data.Length); // parts sent, never committed
            Assert.Null(s.Stat(key, default));
            Assert.Empty(s.List("", true, default));
            Assert.Equal(0, PendingUploads(s, key));

            using (var u = s.BeginUpload(key, default)) { u.Stream.Write(data, 0, 1000); u.Commit(default); }
            var second = s.BeginUpload(key, default);
            second.Stream.Write(data, 0, data.Length);
            var ex = Assert.Throws<ClusterDrException>(() => second.Commit(default));
            second.Dispose();
            Assert.Equal(ErrorIds.BackupExists, ex.ErrorId);
            Assert.Equal(1000, s.Stat(key, default)!.Length);
            Assert.Equal(0, PendingUploads(s, key));
        }

        /// <summary>Two runs writing the same name at once: one is published whole, the other refused; never a mix of both.</summary>
        [Fact]
        public void TwoUploadsOfOneNameAtOncePublishOneWholeAndRefuseTheOther()
        {
            var s = NewStore("race");
            string key = s.Combine(".", "r.bin");
            var a = Data(11 * 1024 * 1024, 21);
            var b = Data(11 * 1024 * 1024, 22);
            var ua = s.BeginUpload(key, default);
            var ub = s.BeginUpload(key, default);
            ua.Stream.Write(a, 0, a.Length);
            ub.Stream.Write(b, 0, b.Length); // its parts go up after the first's, under the same name
            ua.Commit(default);
            var ex = Assert.Throws<ClusterDrException>(() => ub.Commit(default));
            Assert.Equal(ErrorIds.BackupExists, ex.ErrorId);
            ua.Dispose();
            ub.Dispose();
            Assert.Equal(Sha(a), Sha(ReadAll(s.OpenRead(key, 0, null, default))));
            Assert.Equal(0, PendingUploads(s, key));
        }

        /// <summary>A killed process runs no Dispose: its parts are on the server, yet nothing lists or reads as the object.</summary>
        [Fact]
        public void AnUploadCutOffWithoutAnyCleanupListsNothing()
        {
            var s = NewStore("killed");
            string key = s.Combine(".", "z.tar.zst");
            var data = Data(12 * 1024 * 1024, 6);
            var u = s.BeginUpload(key, default);
            u.Stream.Write(data, 0, data.Length);
            u.Stream.Flush();
            System.Threading.Thread.Sleep(500); // the part in flight reaches the server
            Assert.Null(s.Stat(key, default));
            Assert.Empty(s.List("", true, default));
            Assert.Empty(Backups.BackupCatalog.List(s, null, true, null, null, null));
            u.Dispose(); // the test's own clean-up; the process that was killed never gets here
        }

        [Fact]
        public void ListingPagesThroughOneLevelOrAll()
        {
            var s = NewStore("list", "p/");
            SetPageSize(s, 3);
            foreach (var k in new[] { "p/a1", "p/a2", "p/a3", "p/a4", "p/sub/b1", "p/sub/b2", "q/other" })
                using (var u = s.BeginUpload(k, default)) { u.Stream.WriteByte(1); u.Commit(default); }
            Assert.Equal(new[] { "p/a1", "p/a2", "p/a3", "p/a4" }, s.List("p/", false, default).Select(o => o.Key).ToArray());
            Assert.Equal(6, s.List("p/", true, default).Count());
            Assert.EndsWith("/p/", s.Location);
            Assert.Equal("p/x.tar.zst", s.KeyOf("x.tar.zst"));
            Assert.Equal("p/x.tar.zst", s.KeyOf(s.Describe("p/x.tar.zst")));
        }

        internal static byte[] ReadAll(Stream s)
        {
            using (s)
            using (var m = new MemoryStream())
            {
                s.CopyTo(m);
                return m.ToArray();
            }
        }
    }
}
