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

    /// <summary>The remote-store wire tests against Azurite (staged blocks), and Azure's credentials and errors.</summary>
    public sealed class AzureBlobStoreTests : RemoteStoreTests, IClassFixture<AzuriteBlob>
    {
        private readonly AzuriteBlob _azurite;
        public AzureBlobStoreTests(AzuriteBlob azurite) => _azurite = azurite;

        protected override RemoteStore NewStore(string name, string prefix = null) => NewContainer(_azurite, name, prefix);
        protected override void SetPageSize(RemoteStore store, int size) => ((AzureBlobStore)store).PageSize = size;

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
        public void ASasTokenWorksAndAWrongKeyIsAccessDeniedWithoutTheKeyInAnyText()
        {
            var s = NewContainer(_azurite, "sas");
            using (var u = s.BeginUpload("a.bin", default)) { u.Stream.WriteByte(7); u.Commit(default); }
            string sas = ContainerSas(s.Container);
            var viaSas = AzureBlobStore.Create(new AzureBlobStoreOptions { BlobEndpoint = _azurite.Endpoint, Container = s.Container, SasToken = AzuriteBlob.Secure("?" + sas) });
            Assert.Equal("a.bin", Assert.Single(viaSas.List("", true, default)).Key);
            Assert.Equal(new byte[] { 7 }, ReadAll(viaSas.OpenRead("a.bin", 0, null, default)));

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
        public void EachRequestIsADebugLineWithoutTheSasOrTheKey()
        {
            var s = NewContainer(_azurite, "debug");
            string sas = ContainerSas(s.Container);
            var viaSas = AzureBlobStore.Create(new AzureBlobStoreOptions { BlobEndpoint = _azurite.Endpoint, Container = s.Container, SasToken = AzuriteBlob.Secure(sas) });
            var ctx = new RecordingContext();
            using (ClusterDR.Transport.DebugLog.To(ctx))
            {
                using (var u = s.BeginUpload("d.bin", default)) { u.Stream.WriteByte(1); u.Commit(default); }
                Assert.Single(viaSas.List("", true, default));
                Assert.Single(ReadAll(viaSas.OpenRead("d.bin", 0, null, default)));
            }
            Assert.Contains(ctx.Debug, l => l.StartsWith("HTTP PUT ", StringComparison.Ordinal) && l.Contains(s.Container + "/d.bin"));
            Assert.Contains(ctx.Debug, l => l.StartsWith("HTTP GET ", StringComparison.Ordinal) && l.Contains(s.Container));
            Assert.DoesNotContain(ctx.Debug, l => l.Contains("sig=") || l.Contains(sas.Substring(sas.IndexOf("sig=") + 4, 10)) || l.Contains("SharedKey") || l.Contains(AzuriteBlob.Key.Substring(0, 12)));
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

    /// <summary>
    /// A bearer token (what a managed identity's Get-AzAccessToken gives) against Azurite over https, which checks the
    /// token's issuer, audience and lifetime (not its signature) as Azure does: a round trip works, an expired token
    /// is BackupStoreAccessDenied, and the token is in no message.
    /// </summary>
    public sealed class AzureBlobBearerTests : IClassFixture<AzuriteBlobHttps>
    {
        private readonly AzuriteBlobHttps _azurite;
        public AzureBlobBearerTests(AzuriteBlobHttps azurite) => _azurite = azurite;

        private static string Token(DateTimeOffset notBefore, DateTimeOffset expires)
        {
            static string B64(string json) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            string payload = $"{{\"aud\":\"https://storage.azure.com\",\"iss\":\"https://sts.windows.net/ab1f708d-50f6-404c-a006-d71b2ac7a606/\",\"iat\":{notBefore.ToUnixTimeSeconds()},\"nbf\":{notBefore.ToUnixTimeSeconds()},\"exp\":{expires.ToUnixTimeSeconds()},\"oid\":\"11059fcc-5514-4800-b5f8-49808b9cfab6\"}}";
            return B64("{\"typ\":\"JWT\",\"alg\":\"RS256\"}") + "." + B64(payload) + ".c2lnbmF0dXJl";
        }

        private AzureBlobStore Store(string token, string container) => AzureBlobStore.Create(new AzureBlobStoreOptions
        {
            BlobEndpoint = _azurite.Endpoint, Container = container, AccessToken = AzuriteBlob.Secure(token),
            TrustedCertificates = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(_azurite.Certificate),
        });

        [Fact]
        public void ABearerTokenMakesARoundTripAndAnExpiredOneIsAccessDenied()
        {
            string container = "bearer-" + Guid.NewGuid().ToString("N").Substring(0, 10);
            var now = DateTimeOffset.UtcNow;
            var s = Store(Token(now.AddMinutes(-5), now.AddHours(1)), container);
            s.CreateIfMissing();
            using (var u = s.BeginUpload("a.bin", default)) { u.Stream.Write(new byte[] { 1, 2, 3 }, 0, 3); u.Commit(default); }
            Assert.Equal("a.bin", Assert.Single(s.List("", true, default)).Key);
            Assert.Equal(new byte[] { 1, 2, 3 }, RemoteStoreTests.ReadAll(s.OpenRead("a.bin", 0, null, default)));

            string expired = Token(now.AddHours(-2), now.AddHours(-1));
            var ex = Assert.Throws<ClusterDrException>(() => Store(expired, container).List("", true, default).ToList());
            Assert.Equal(ErrorIds.StoreAccessDenied, ex.ErrorId);
            Assert.DoesNotContain(expired.Substring(0, 30), ex.ToString());
        }
    }
}
