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

    /// <summary>The remote-store wire tests against radosgw (an abandoned multipart upload is aborted), and S3's own errors.</summary>
    public sealed class S3StoreTests : RemoteStoreTests, IClassFixture<CephS3>
    {
        private readonly CephS3 _ceph;
        public S3StoreTests(CephS3 ceph) => _ceph = ceph;

        protected override RemoteStore NewStore(string name, string prefix = null) => NewBucket(_ceph, name, prefix);
        protected override void SetPageSize(RemoteStore store, int size) => ((S3Store)store).PageSize = size;
        protected override int PendingUploads(RemoteStore store, string key) => ((S3Store)store).PendingUploads(key);

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
        public void EachRequestIsADebugLineWithoutTheKeys()
        {
            var s = NewBucket(_ceph, "debug");
            var ctx = new RecordingContext();
            using (ClusterDR.Transport.DebugLog.To(ctx))
            {
                using (var u = s.BeginUpload("d.bin", default)) { u.Stream.WriteByte(1); u.Commit(default); }
                Assert.Single(s.List("", true, default));
            }
            Assert.Contains(ctx.Debug, l => l.StartsWith("S3 ", StringComparison.Ordinal) && l.Contains(s.Bucket + "/d.bin"));
            Assert.Contains(ctx.Debug, l => l.StartsWith("S3 ListObjectsV2 ", StringComparison.Ordinal));
            Assert.DoesNotContain(ctx.Debug, l => l.Contains(CephS3.Secret) || l.Contains("Signature=") || l.Contains(CephS3.AccessKey));
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
    }
}
