using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Deis;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Deis
{
    /// <summary>The Deis store engine's pieces that need no Ceph: keys from deisctl, tar warnings, the SigV2 signer.</summary>
    public sealed class DeisStoreEngineTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("deis-engine");
        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        /// <summary>Records every script a node is given.</summary>
        private sealed class RecordingShell : IRemoteShell
        {
            private readonly LocalShell _inner = new LocalShell();
            public List<string> Scripts { get; } = new List<string>();
            public string Node => _inner.Node;
            public int Run(string script, Stream stdin, Stream stdout, Stream stderr, CancellationToken ct) { Scripts.Add(script); return _inner.Run(script, stdin, stdout, stderr, ct); }
            public void Dispose() => _inner.Dispose();
        }

        [Fact]
        public void KeysFromDeisctlComeBackOnStdoutAndTheSecretIsOnNoCommandLine()
        {
            const string secret = "s3cr3t-never-shown-0b7d";
            string deisctl = Path.Combine(_dir, "deisctl");
            File.WriteAllText(deisctl, $"#!/bin/sh\n[ \"$1 $2 $3\" = 'config store get' ] || exit 9\ncase \"$4\" in gateway/accessKey) echo AKIDEIS;; gateway/secretKey) echo '{secret}';; *) exit 1;; esac\n");
            Shell.Run("chmod", "+x", deisctl);
            using var sh = new RecordingShell();
            var o = new DeisS3Options();
            DeisStore.ReadKeysFromNode(sh, new DeisNodeOptions { DeisctlPath = deisctl }, o, default);
            Assert.Equal("AKIDEIS", o.AccessKey);
            Assert.Equal(secret, Secrets.Plain(o.SecretKey));
            Assert.True(o.SecretKey.IsReadOnly());
            Assert.DoesNotContain(sh.Scripts, s => s.Contains(secret));

            // A deisctl that fails: a clear ErrorId, and its output (which may hold a key) is not in the message.
            File.WriteAllText(deisctl, $"#!/bin/sh\necho '{secret}'\nexit 4\n");
            var ex = Assert.Throws<ClusterDrException>(() => DeisStore.ReadKeysFromNode(sh, new DeisNodeOptions { DeisctlPath = deisctl }, new DeisS3Options(), default));
            Assert.Equal(ErrorIds.CredentialsUnavailable, ex.ErrorId);
            Assert.DoesNotContain(secret, ex.Message);
        }

        [Fact]
        public void FilesThatChangeWhileTarReadsThemAreAWarningOtherFailuresAreErrors()
        {
            using var sh = new LocalShell();
            var ctx = new RecordingContext();
            using (var w = BackupArchiveWriter.Create(_dir, "a.tar.gz"))
            {
                long n = DeisStoreBackup.StreamCommand(sh, "tar of /var/lib/deis/store", "printf abc; echo 'tar: ./logs/x.log: file changed as we read it' >&2; exit 1",
                    DeisStore.VolumePayload, w, ctx, tarWarnings: true);
                Assert.Equal(3, n);
                Assert.Contains(ctx.Warnings, m => m.Contains("file changed as we read it"));
                var ex = Assert.Throws<ClusterDrException>(() => DeisStoreBackup.StreamCommand(sh, "tar of /var/lib/deis/store", "printf abc; exit 2", "volume/other.tar", w, ctx, tarWarnings: true));
                Assert.Equal(ErrorIds.RemoteCommandFailed, ex.ErrorId);
                var db = Assert.Throws<ClusterDrException>(() => DeisStoreBackup.StreamCommand(sh, "pg_dumpall", "exit 1", DeisStore.DatabasePayload, w, ctx, tarWarnings: false));
                Assert.Equal(ErrorIds.RemoteCommandFailed, db.ErrorId);
            }
        }

        [Fact]
        public void SignatureVersion2MatchesTheSignaturesOfTheS3Documentation()
        {
            // The S3 developer guide's examples: a PUT with Content-MD5, Content-Type, Date and x-amz-* headers in mixed case, and a plain GET.
            var headers = new Dictionary<string, string> { ["X-Amz-Meta-Author"] = "foo@bar.com", ["X-Amz-Magic"] = "abracadabra", ["Content-Length"] = "5" };
            string put = S3SigV2.StringToSign("PUT", "c8fdb181845a4ca6b8fec737b3581d76", "text/html", "Thu, 17 Nov 2005 18:49:58 GMT", headers, "/quotes/nelson", "");
            Assert.Equal("PUT\nc8fdb181845a4ca6b8fec737b3581d76\ntext/html\nThu, 17 Nov 2005 18:49:58 GMT\nx-amz-magic:abracadabra\nx-amz-meta-author:foo@bar.com\n/quotes/nelson", put);
            Assert.Equal("jZNOcbfWmD/A/f3hSvVzXZjM2HU=", S3SigV2.Signature(Encoding.UTF8.GetBytes("OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV"), put));
            string get = S3SigV2.StringToSign("GET", null, null, "Tue, 27 Mar 2007 19:36:42 +0000", new Dictionary<string, string>(), "/johnsmith/photos/puppy.jpg", null);
            Assert.Equal("bWq2s1WEIj+Ydj0vQ697zp+IXMU=", S3SigV2.Signature(Encoding.UTF8.GetBytes("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), get));
        }

        [Theory]
        [InlineData("/b/k", "?uploads", "/b/k?uploads")]
        [InlineData("/b/k", "?uploads=", "/b/k?uploads")]
        [InlineData("/b/k", "?uploadId=2~x/y&partNumber=3&x-id=UploadPart", "/b/k?partNumber=3&uploadId=2~x/y")]
        [InlineData("/b/k", "?uploadId=2%7Ex%2Fy", "/b/k?uploadId=2~x/y")]
        [InlineData("/b/", "?list-type=2&prefix=a%2Fb&continuation-token=z", "/b/")]
        [InlineData("/b/k%20y/%25z", "?acl", "/b/k%20y/%25z?acl")]
        [InlineData("", "", "/")]
        public void TheCanonicalResourceIsThePathAsSentAndTheSignedSubresourcesSorted(string path, string query, string expected) =>
            Assert.Equal(expected, S3SigV2.CanonicalResource(path, query));

        [Fact]
        public void ARequestIsSignedAsItGoesOnTheWireAndTheSecretIsInNoHeader()
        {
            const string secret = "sigv2-secret-never-on-the-wire";
            var req = new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Put, "http://gw:7480/registry/a%20b?partNumber=2&uploadId=2~u")
            {
                Content = new System.Net.Http.ByteArrayContent(new byte[] { 1, 2, 3 }),
            };
            req.Content.Headers.ContentMD5 = System.Security.Cryptography.MD5.HashData(new byte[] { 1, 2, 3 });
            req.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            req.Headers.TryAddWithoutValidation("X-Amz-Meta-Owner", "deis");
            req.Headers.TryAddWithoutValidation("Authorization", "stale");
            var when = new DateTime(2026, 11, 22, 1, 2, 3, DateTimeKind.Utc);
            S3SigV2.Sign(req, "AKID", Encoding.UTF8.GetBytes(secret), when);
            Assert.Equal("Sun, 22 Nov 2026 01:02:03 GMT", req.Headers.GetValues("x-amz-date").Single());
            string expected = "PUT\n" + Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(new byte[] { 1, 2, 3 })) + "\napplication/octet-stream\n\n" +
                "x-amz-date:Sun, 22 Nov 2026 01:02:03 GMT\nx-amz-meta-owner:deis\n/registry/a%20b?partNumber=2&uploadId=2~u";
            Assert.Equal("AWS AKID:" + S3SigV2.Signature(Encoding.UTF8.GetBytes(secret), expected), req.Headers.GetValues("Authorization").Single());
            Assert.DoesNotContain(req.Headers.Concat(req.Content.Headers).SelectMany(h => h.Value), v => v.Contains(secret));
        }

        [Fact]
        public void AnObjectThatDoesNotMatchItsListingFailsABackupPlanAsS3ObjectMismatch()
        {
            var o = new DeisS3Options { GatewayUri = new Uri("http://deis-store.invalid") };
            var obj = new Amazon.S3.Model.S3Object { Key = "k", Size = 5 };
            var plan = new ClusterDR.Safety.Plan(new RecordingContext(), "Backup-DeisStore", ErrorIds.BackupFailed)
                .Add("t", "copy", () => DeisStore.S3(o, "Downloading db_wal/k", () => System.Threading.Tasks.Task.Run(() => { DeisStoreBackup.Check("db_wal", obj, 4, new byte[16], null); return 0; })));
            var ex = Assert.Throws<ClusterDrException>(() => plan.Execute());
            Assert.Equal((ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData), (ex.ErrorId, ex.Kind));
            Assert.Contains("db_wal/k: read 4 bytes, the listing says 5", ex.Message);
        }

        [Fact]
        public void OnlySignatureVersions2And4AreAccepted()
        {
            var ex = Assert.Throws<ClusterDrException>(() => DeisStore.Client(new DeisS3Options
            {
                GatewayUri = new Uri("http://127.0.0.1:1"), AccessKey = "a", SecretKey = CephS3.SecretKey("b"), SignatureVersion = "3",
            }));
            Assert.Equal(ErrorIds.S3Error, ex.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
            using (DeisStore.Client(new DeisS3Options { GatewayUri = new Uri("http://127.0.0.1:1"), AccessKey = "a", SecretKey = CephS3.SecretKey("b"), SignatureVersion = "2" })) { }
        }

        [Theory]
        [InlineData("SignatureDoesNotMatch")]
        [InlineData("InvalidAccessKeyId")]
        public void ARejectedSignatureBlamesTheKeysOnlyWhenTheyWereNotProvenYet(string code)
        {
            var o = new DeisS3Options { GatewayUri = new Uri("http://127.0.0.1:9") };
            var refused = new Amazon.S3.AmazonS3Exception("The request signature we calculated does not match", Amazon.Runtime.ErrorType.Sender, code, "req", System.Net.HttpStatusCode.Forbidden);
            // Listing, before any key is proven: the keys are wrong.
            var listing = DeisStore.Map(refused, o, "Listing bucket registry");
            Assert.Equal(ErrorIds.S3AccessDenied, listing.ErrorId);
            Assert.Contains("Check the access key", listing.Message);
            // An object the listing returned: the same keys worked, so the request reached the gateway otherwise than it was signed.
            var read = DeisStore.Map(refused, o, "Downloading registry/a/./b", "registry/a/./b");
            Assert.Equal(ErrorIds.S3Error, read.ErrorId);
            Assert.Contains("registry/a/./b", read.Message);
            Assert.DoesNotContain("Check the access key", read.Message);
            Assert.Same(refused, read.InnerException);
        }

        [Theory]
        [InlineData("echo this is not json")]
        [InlineData("echo '{\"quorum_names\": [{\"a\": 1}]}'; true")]
        public void ACephCommandThatPrintsNoQuorumJsonIsAnEndpointErrorQuotingItsOutput(string ceph)
        {
            using var sh = new LocalShell();
            var ex = Assert.Throws<ClusterDrException>(() => DeisStore.ReadCeph(sh, new DeisNodeOptions { CephCommand = ceph }, default, out _, out _));
            Assert.Equal(ErrorIds.EndpointError, ex.ErrorId);
            Assert.Contains("The ceph command's output on localhost is not the JSON", ex.Message);
            Assert.Contains(ceph.StartsWith("echo this") ? "this is not json" : "quorum_names", ex.Message);
            Assert.NotNull(ex.InnerException);
        }

        [Theory]
        [InlineData("s3x/registry/zz")]
        [InlineData("s3x/registry/616")]
        [InlineData("s3x/registry/")]
        public void AnEncodedObjectNameThatIsNotHexIsAnUnexpectedEntry(string name)
        {
            var ex = Assert.Throws<ClusterDrException>(() => DeisStore.TryParseArchiveName(name, out _, out _));
            Assert.Equal(ErrorIds.UnexpectedEntry, ex.ErrorId);
            Assert.Contains(name, ex.Message);
            Assert.True(DeisStore.TryParseArchiveName("s3x/registry/612f2e2f62", out var b, out var k));
            Assert.Equal(("registry", "a/./b"), (b, k));
        }
    }
}
