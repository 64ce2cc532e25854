using System;
using System.IO;
using System.Linq;
using ClusterDR.Stores;
using ClusterDR.Tests.Fixtures;
using Xunit;
using static ClusterDR.Tests.Engine.SinglePassArchiveTests;

namespace ClusterDR.Tests.Stores
{
    /// <summary>The store cycle against a real Ceph radosgw, one bucket per test.</summary>
    public sealed class S3StoreCycleTests : StoreCycleTests, IClassFixture<CephS3>
    {
        private readonly CephS3 _ceph;
        public S3StoreCycleTests(CephS3 ceph) => _ceph = ceph;

        protected override BackupStore NewStore() => S3StoreTests.NewBucket(_ceph, "cycle", "backups/");
    }

    /// <summary>What an S3 store does on the wire: parts, ranges, no overwrite, aborted uploads, and its errors.</summary>
    public sealed class S3StoreTests : IClassFixture<CephS3>
    {
        private readonly CephS3 _ceph;
        public S3StoreTests(CephS3 ceph) => _ceph = ceph;

        internal static S3Store NewBucket(CephS3 ceph, string name, string prefix = null, string secret = CephS3.Secret, string bucket = null, bool create = true)
        {
            var s = S3Store.Create(new S3StoreOptions
            {
                Endpoint = ceph.Gateway, Bucket = bucket ?? $"{name}-{Guid.NewGuid().ToString("N").Substring(0, 10)}", Prefix = prefix, ForcePathStyle = true,
                AccessKey = CephS3.AccessKey, SecretKey = CephS3.SecretKey(secret),
            });
            s.PartSize = 5 * 1024 * 1024;
            if (create) s.CreateIfMissing();
            return s;
        }

        [Fact]
        public void AnUploadInPartsIsPatchedAtItsHeadPublishedAtOnceAndReadInRanges()
        {
            var s = NewBucket(_ceph, "parts");
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
            Assert.Equal(0, s.PendingUploads(key));
        }

        [Fact]
        public void AnAbandonedUploadIsAbortedAndASecondOneNeverOverwrites()
        {
            var s = NewBucket(_ceph, "abort");
            string key = s.Combine(".", "y.bin");
            var data = Data(12 * 1024 * 1024, 4);
            using (var u = s.BeginUpload(key, default)) u.Stream.Write(data, 0, data.Length); // parts sent, never committed
            Assert.Null(s.Stat(key, default));
            Assert.Equal(0, s.PendingUploads(key));

            using (var u = s.BeginUpload(key, default)) { u.Stream.Write(data, 0, 1000); u.Commit(default); }
            var second = s.BeginUpload(key, default);
            second.Stream.Write(data, 0, data.Length);
            var ex = Assert.Throws<ClusterDrException>(() => second.Commit(default));
            second.Dispose();
            Assert.Equal(ErrorIds.BackupExists, ex.ErrorId);
            Assert.Equal(1000, s.Stat(key, default)!.Length);
            Assert.Equal(0, s.PendingUploads(key));
        }

        [Fact]
        public void ListingPagesThroughTheBucketOneLevelOrAll()
        {
            var s = NewBucket(_ceph, "list", "p/");
            s.PageSize = 3;
            foreach (var k in new[] { "p/a1", "p/a2", "p/a3", "p/a4", "p/sub/b1", "p/sub/b2", "q/other" })
                using (var u = s.BeginUpload(k, default)) { u.Stream.WriteByte(1); u.Commit(default); }
            Assert.Equal(new[] { "p/a1", "p/a2", "p/a3", "p/a4" }, s.List("p/", false, default).Select(o => o.Key).ToArray());
            Assert.Equal(6, s.List("p/", true, default).Count());
            Assert.Equal("s3://" + s.Bucket + "/p/", s.Location);
            Assert.Equal("p/x.tar.zst", s.KeyOf("x.tar.zst"));
            Assert.Equal("p/x.tar.zst", s.KeyOf(s.Describe("p/x.tar.zst")));
        }

        [Fact]
        public void AWrongSecretIsAccessDeniedAndNoTextCarriesIt()
        {
            const string wrong = "wrong-secret-7f1e2d3c4b5a";
            var s = NewBucket(_ceph, "denied", secret: wrong, create: false);
            var ex = Assert.Throws<ClusterDrException>(() => s.List("", true, default).ToList());
            Assert.Equal(ErrorIds.StoreAccessDenied, ex.ErrorId);
            Assert.DoesNotContain(wrong, ex.Message);
            Assert.DoesNotContain(CephS3.Secret, ex.Message);
            Assert.Contains(s.Bucket, ex.Message);
        }

        [Fact]
        public void AMissingBucketIsStoreNotFoundAndAClosedPortUnreachable()
        {
            var s = NewBucket(_ceph, "missing", create: false);
            Assert.Equal(ErrorIds.StoreNotFound, Assert.Throws<ClusterDrException>(() => s.List("", false, default).ToList()).ErrorId);
            Assert.Equal(ErrorIds.StoreNotFound, Assert.Throws<ClusterDrException>(() => s.Stat("k", default)).ErrorId);

            var closed = S3Store.Create(new S3StoreOptions
            {
                Endpoint = new Uri($"http://127.0.0.1:{TestEnv.FreePorts(1)}"), Bucket = "b", ForcePathStyle = true,
                AccessKey = CephS3.AccessKey, SecretKey = CephS3.SecretKey(),
            });
            Assert.Equal(ErrorIds.StoreUnreachable, Assert.Throws<ClusterDrException>(() => closed.List("", false, default).ToList()).ErrorId);
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
