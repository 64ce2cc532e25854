using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using System.Threading;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>Transport's one HTTP layer: the status and no-answer mapping (HttpErrors), the client factory and send (HttpClients).</summary>
    public sealed class HttpLayerTests
    {
        private static readonly Uri Url = new Uri("https://svc.example:8443/api/");

        [Fact]
        public void AuthStatusesHaveTheirOwnIdsWhereTheServiceNamesTheCredential()
        {
            var unauthorized = HttpErrors.Status("Exhibitor", Url, 401, unauthorized: "a valid ACS token is required", forbidden: "the token lacks permission");
            Assert.Equal((ErrorIds.Unauthorized, ErrorKind.PermissionDenied, true), (unauthorized.ErrorId, unauthorized.Kind, unauthorized.SurfaceAsIs));
            Assert.Equal("Exhibitor at https://svc.example:8443/api/ answered 401: a valid ACS token is required.", unauthorized.Message);
            Assert.Equal(Url.ToString(), unauthorized.Target);

            var forbidden = HttpErrors.Status("the DC/OS backup service", Url, 403, "ignored", "Listing backups", "a token", "no permission");
            Assert.Equal((ErrorIds.Forbidden, ErrorKind.PermissionDenied), (forbidden.ErrorId, forbidden.Kind));
            Assert.Equal("Listing backups failed: the DC/OS backup service at https://svc.example:8443/api/ answered 403: no permission.", forbidden.Message);
        }

        [Theory]
        [InlineData(401, ErrorKind.PermissionDenied)]
        [InlineData(403, ErrorKind.PermissionDenied)]
        [InlineData(404, ErrorKind.InvalidOperation)]
        [InlineData(500, ErrorKind.InvalidOperation)]
        public void OtherStatusesAreAnEndpointErrorThatNamesServiceUrlAndCode(int code, ErrorKind kind)
        {
            var e = HttpErrors.Status("etcd", Url, code, "the detail", reason: "Why");
            Assert.Equal((ErrorIds.EndpointError, kind, false), (e.ErrorId, e.Kind, e.SurfaceAsIs));
            Assert.Equal($"etcd at https://svc.example:8443/api/ answered {code} Why: the detail", e.Message);
            Assert.Equal("Exhibitor at https://svc.example:8443/api/ answered 502.", HttpErrors.Status("Exhibitor", Url, 502).Message);
        }

        [Fact]
        public void NoAnswerIsEndpointUnreachableInASentenceThatStartsWithTheService()
        {
            var refused = new HttpRequestException("outer", new IOException("Connection refused"));
            var e = HttpErrors.Unreachable("the DC/OS backup service", Url, refused);
            Assert.Equal((ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError), (e.ErrorId, e.Kind));
            Assert.Equal("The DC/OS backup service at https://svc.example:8443/api/ is unreachable: Connection refused", e.Message);
            Assert.Same(refused, e.InnerException);
            Assert.Equal("etcd at https://svc.example:8443/api/ is unreachable: no answer in time", HttpErrors.Unreachable("etcd", Url, new System.Threading.Tasks.TaskCanceledException()).Message);
            var tls = HttpErrors.Unreachable("etcd", Url, refused, "TLS handshake failed: x", ErrorKind.SecurityError);
            Assert.Equal((ErrorKind.SecurityError, "etcd at https://svc.example:8443/api/ is unreachable: TLS handshake failed: x"), (tls.Kind, tls.Message));
            Assert.True(HttpErrors.NoAnswer(refused) && HttpErrors.NoAnswer(new IOException()) && HttpErrors.NoAnswer(new OperationCanceledException()));
            Assert.False(HttpErrors.NoAnswer(new InvalidOperationException()));
        }

        [Fact]
        public void SendWritesTheRequestLineAndMapsNoAnswerButLeavesStatusesAndCancellationToTheCaller()
        {
            var (listener, uri) = LoopbackHttp.Serve(_ => (418, "{}"));
            var ctx = new RecordingContext();
            using (listener)
            using (DebugLog.To(ctx))
            using (var http = HttpClients.Client(TimeSpan.FromSeconds(10), baseAddress: uri))
            using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/thing?secret=1"))
            using (var response = HttpClients.Send(http, request, HttpCompletionOption.ResponseContentRead, CancellationToken.None, ex => new Exception("unexpected")))
                Assert.Equal(418, (int)response.StatusCode);
            Assert.Equal($"HTTP POST {uri}v1/thing?…", Assert.Single(ctx.Debug));

            int closed = TestEnv.FreePorts(1);
            using (var http = HttpClients.Client(TimeSpan.FromSeconds(10)))
            {
                var down = new Uri($"http://127.0.0.1:{closed}/");
                var e = Assert.Throws<ClusterDrException>(() => HttpClients.Send(http, new HttpRequestMessage(HttpMethod.Get, down), HttpCompletionOption.ResponseContentRead,
                    CancellationToken.None, ex => HttpErrors.Unreachable("a test service", down, ex)));
                Assert.Equal(ErrorIds.EndpointUnreachable, e.ErrorId);
                Assert.StartsWith($"a test service at {down} is unreachable: ", e.Message);

                using var cancelled = new CancellationTokenSource();
                cancelled.Cancel();
                Assert.ThrowsAny<OperationCanceledException>(() => HttpClients.Send(http, new HttpRequestMessage(HttpMethod.Get, down), HttpCompletionOption.ResponseContentRead,
                    cancelled.Token, ex => new Exception("not this")));
            }
        }

        [Fact]
        public void AHandlerTrustsTheBundleAndPresentsTheClientCertificateOnlyWhenGiven()
        {
            using (var plain = HttpClients.Handler())
            {
                Assert.Null(plain.ServerCertificateCustomValidationCallback);
                Assert.Empty(plain.ClientCertificates);
                Assert.Equal(DecompressionMethods.None, plain.AutomaticDecompression);
            }
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var ca = new CertificateRequest("CN=http-layer-test-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            using (var trusting = HttpClients.Handler(new X509Certificate2Collection(ca), ca))
            {
                Assert.NotNull(trusting.ServerCertificateCustomValidationCallback);
                Assert.Equal(ClientCertificateOption.Manual, trusting.ClientCertificateOptions);
                Assert.Same(ca, Assert.Single(trusting.ClientCertificates));
            }
            using (var wire = HttpClients.WireHandler(24, null))
                Assert.Equal((false, false, DecompressionMethods.None, 24), (wire.AllowAutoRedirect, wire.UseCookies, wire.AutomaticDecompression, wire.MaxConnectionsPerServer));
            Assert.Null(CaBundle.Anchors(null));
        }

        [Fact]
        public void AnHttp2RequestIsNeverDowngraded()
        {
            Assert.True(HttpClients.Http2Supported);
            using var request = HttpClients.Http2Request(HttpMethod.Post, "/svc/Method");
            Assert.Equal((new Version(2, 0), HttpVersionPolicy.RequestVersionExact, "/svc/Method"), (request.Version, request.VersionPolicy, request.RequestUri!.OriginalString));
        }

        [Fact]
        public void NoEngineFileButTheFactoryBuildsAnHttpClientOrHandler()
        {
            var core = Path.Combine(TestEnv.RepoRoot, "src", "ClusterDR.Core");
            var builders = new Regex(@"new\s+(HttpClient|HttpClientHandler|SocketsHttpHandler)\s*[({]");
            var offenders = Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
                .Where(f => builders.IsMatch(File.ReadAllText(f)))
                .Select(f => Path.GetRelativePath(core, f).Replace('\\', '/'))
                .ToList();
            Assert.Equal(new[] { "Transport/HttpClients.cs" }, offenders);
        }
    }
}
