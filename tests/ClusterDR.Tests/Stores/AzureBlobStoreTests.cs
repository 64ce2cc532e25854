using System;
using System.IO;
using System.Linq;
using ClusterDR.Stores;
using ClusterDR.Tests.Fixtures;
using Xunit;
using static ClusterDR.Tests.Engine.SinglePassArchiveTests;

namespace ClusterDR.Tests.Stores
{
    /// <summary>The store cycle against a real Azurite, one container per test.</summary>
    public sealed class AzureBlobStoreCycleTests : StoreCycleTests, IClassFixture<AzuriteBlob>
    {
        private readonly AzuriteBlob _azurite;
        public AzureBlobStoreCycleTests(AzuriteBlob azurite) => _azurite = azurite;

        protected override BackupStore NewStore() => AzureBlobStoreTests.NewContainer(_azurite, "cycle", "dr/");
    }

    /// <summary>What an Azure Blob store does on the wire: staged blocks, ranges, no overwrite, SAS and Shared Key, and its errors.</summary>
    public sealed class AzureBlobStoreTests : IClassFixture<AzuriteBlob>
    {
        private readonly AzuriteBlob _azurite;
        public AzureBlobStoreTests(AzuriteBlob azurite) => _azurite = azurite;

        internal static AzureBlobStore NewContainer(AzuriteBlob azurite, string name, string prefix = null, string key = AzuriteBlob.Key, string container = null, bool create = true)
        {
            var s = AzureBlobStore.Create(new AzureBlobStoreOptions
            {
                BlobEndpoint = azurite.Endpoint, Container = container ?? $"{name}-{Guid.NewGuid().ToString("N").Substring(0, 10)}", Prefix = prefix,
                AccountKey = AzuriteBlob.Secure(key),
            });
            s.PartSize = 5 * 1024 * 1024;
            if (create) s.CreateIfMissing();
            return s;
        }

        [Fact]
        public void AnUploadInBlocksIsPatchedAtItsHeadCommittedAtOnceAndReadInRanges()
        {
            var s = NewContainer(_azurite, "blocks");
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
            Assert.Equal(Sha(data), Sha(S3StoreTests.ReadAll(s.OpenRead(key, 0, null, default))));
            Assert.Equal(Sha(data.Skip(6_000_000).Take(24).ToArray()), Sha(S3StoreTests.ReadAll(s.OpenRead(key, 6_000_000, 24, default))));
            Assert.Equal(Sha(data.Skip(data.Length - 24).ToArray()), Sha(S3StoreTests.ReadAll(s.OpenRead(key, data.Length - 24, 24, default))));
        }

        [Fact]
        public void AnAbandonedUploadShowsNothingAndASecondOneNeverOverwrites()
        {
            var s = NewContainer(_azurite, "abandon");
            string key = s.Combine(".", "y.bin");
            var data = Data(12 * 1024 * 1024, 4);
            using (var u = s.BeginUpload(key, default)) u.Stream.Write(data, 0, data.Length); // blocks staged, never committed
            Assert.Null(s.Stat(key, default));
            Assert.Empty(s.List("", true, default));

            using (var u = s.BeginUpload(key, default)) { u.Stream.Write(data, 0, 1000); u.Commit(default); }
            var second = s.BeginUpload(key, default);
            second.Stream.Write(data, 0, data.Length);
            var ex = Assert.Throws<ClusterDrException>(() => second.Commit(default));
            second.Dispose();
            Assert.Equal(ErrorIds.BackupExists, ex.ErrorId);
            Assert.Equal(1000, s.Stat(key, default)!.Length);
        }

        [Fact]
        public void ListingPagesThroughTheContainerOneLevelOrAll()
        {
            var s = NewContainer(_azurite, "list", "p/");
            s.PageSize = 3;
            foreach (var k in new[] { "p/a1", "p/a2", "p/a3", "p/a4", "p/sub/b1", "p/sub/b2", "q/other" })
                using (var u = s.BeginUpload(k, default)) { u.Stream.WriteByte(1); u.Commit(default); }
            Assert.Equal(new[] { "p/a1", "p/a2", "p/a3", "p/a4" }, s.List("p/", false, default).Select(o => o.Key).ToArray());
            Assert.Equal(6, s.List("p/", true, default).Count());
            Assert.Equal($"{_azurite.Endpoint}/{s.Container}/p/", s.Location);
            Assert.Equal("p/x.tar.zst", s.KeyOf(s.Describe("p/x.tar.zst")));
        }

        [Fact]
        public void ASasTokenWorksAndAWrongKeyIsAccessDeniedWithoutTheKeyInAnyText()
        {
            var s = NewContainer(_azurite, "sas");
            using (var u = s.BeginUpload("a.bin", default)) { u.Stream.WriteByte(7); u.Commit(default); }
            string sas = ContainerSas(s.Container);
            var viaSas = AzureBlobStore.Create(new AzureBlobStoreOptions { BlobEndpoint = _azurite.Endpoint, Container = s.Container, SasToken = AzuriteBlob.Secure("?" + sas) });
            Assert.Equal("a.bin", Assert.Single(viaSas.List("", true, default)).Key);
            Assert.Equal(new byte[] { 7 }, S3StoreTests.ReadAll(viaSas.OpenRead("a.bin", 0, null, default)));

            string wrong = Convert.ToBase64String(Enumerable.Range(1, 64).Select(i => (byte)i).ToArray());
            var bad = NewContainer(_azurite, "x", key: wrong, container: s.Container, create: false);
            var ex = Assert.Throws<ClusterDrException>(() => bad.List("", true, default).ToList());
            Assert.Equal(ErrorIds.StoreAccessDenied, ex.ErrorId);
            Assert.DoesNotContain(wrong, ex.ToString());
            Assert.DoesNotContain(AzuriteBlob.Key.Substring(0, 16), ex.ToString());

            var badSas = AzureBlobStore.Create(new AzureBlobStoreOptions { BlobEndpoint = _azurite.Endpoint, Container = s.Container, SasToken = AzuriteBlob.Secure(sas.Replace("sig=", "sig=AAAA")) });
            var ex2 = Assert.Throws<ClusterDrException>(() => badSas.List("", true, default).ToList());
            Assert.Equal(ErrorIds.StoreAccessDenied, ex2.ErrorId);
            Assert.DoesNotContain("sig=", ex2.ToString());
        }

        [Fact]
        public void AMissingContainerIsStoreNotFoundAClosedPortUnreachableAndATokenNeedsHttps()
        {
            var s = NewContainer(_azurite, "missing", create: false);
            Assert.Equal(ErrorIds.StoreNotFound, Assert.Throws<ClusterDrException>(() => s.List("", false, default).ToList()).ErrorId);
            Assert.Equal(ErrorIds.StoreNotFound, Assert.Throws<ClusterDrException>(() => s.Stat("k", default)).ErrorId);

            var closed = AzureBlobStore.Create(new AzureBlobStoreOptions
            {
                BlobEndpoint = new Uri($"http://127.0.0.1:{TestEnv.FreePorts(1)}/{AzuriteBlob.Account}"), Container = "c", AccountKey = AzuriteBlob.Secure(AzuriteBlob.Key),
            });
            Assert.Equal(ErrorIds.StoreUnreachable, Assert.Throws<ClusterDrException>(() => closed.List("", false, default).ToList()).ErrorId);

            var plain = Assert.Throws<ClusterDrException>(() => AzureBlobStore.Create(new AzureBlobStoreOptions
            {
                BlobEndpoint = _azurite.Endpoint, Container = "c", AccessToken = AzuriteBlob.Secure("eyJ0eXAiOiJKV1QifQ.e30.sig"),
            }));
            Assert.Equal(ErrorIds.InvalidAddress, plain.ErrorId);
            Assert.DoesNotContain("eyJ0eXAi", plain.ToString());
        }

        /// <summary>A service SAS for a container (read, write, delete, list), signed with the account key as Azure documents it.</summary>
        private static string ContainerSas(string container)
        {
            const string version = "2021-08-06";
            string start = DateTime.UtcNow.AddMinutes(-5).ToString("yyyy-MM-ddTHH:mm:ssZ"), expiry = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ");
            string toSign = string.Join("\n", "racwdl", start, expiry, $"/blob/{AzuriteBlob.Account}/{container}", "", "", "", version, "c", "", "", "", "", "", "", "");
            using var hmac = new System.Security.Cryptography.HMACSHA256(Convert.FromBase64String(AzuriteBlob.Key));
            string sig = Convert.ToBase64String(hmac.ComputeHash(System.Text.Encoding.UTF8.GetBytes(toSign)));
            return $"sv={version}&st={Uri.EscapeDataString(start)}&se={Uri.EscapeDataString(expiry)}&sr=c&sp=racwdl&sig={Uri.EscapeDataString(sig)}";
        }
    }
}
