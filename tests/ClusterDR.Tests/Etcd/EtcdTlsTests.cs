using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using ClusterDR.Etcd;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Etcd
{
    /// <summary>A real single-member etcd serving https with client-certificate auth; certificates made in the test.</summary>
    public sealed class EtcdTlsTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("etcd-tls");
        private readonly Process _etcd;
        private readonly Uri _url;
        private readonly EtcdTlsOptions _tls;
        private readonly System.Text.StringBuilder _log = new System.Text.StringBuilder();

        public EtcdTlsTests()
        {
            TestEnv.Require("etcd", "apt-get install etcd-server etcd-client");
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caReq = new CertificateRequest("CN=clusterdr-test-ca", caKey, HashAlgorithmName.SHA256);
            caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            using var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2)); // outlives every leaf issued below
            Write("ca.pem", ca.ExportCertificatePem());
            // etcd's gateway dials its own gRPC port with the server certificate: it needs clientAuth too.
            Issue(ca, "server", new OidCollection { new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2") }, 1);
            Issue(ca, "client", new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") }, 2);

            int port = TestEnv.FreePorts(2);
            string url = $"https://127.0.0.1:{port}";
            _url = new Uri(url);
            var psi = new ProcessStartInfo(TestEnv.Require("etcd", "apt-get install etcd-server")) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[]
            {
                "--name", "t1", "--data-dir", Path.Combine(_dir, "data"),
                "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", $"http://127.0.0.1:{port + 1}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{port + 1}",
                "--initial-cluster", $"t1=http://127.0.0.1:{port + 1}", "--listen-metrics-urls", "",
                "--cert-file", P("server.pem"), "--key-file", P("server-key.pem"), "--trusted-ca-file", P("ca.pem"), "--client-cert-auth",
            }) psi.ArgumentList.Add(a);
            _etcd = Process.Start(psi)!;
            _etcd.OutputDataReceived += (_, __) => { };
            _etcd.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
            _etcd.BeginOutputReadLine();
            _etcd.BeginErrorReadLine();
            _tls = new EtcdTlsOptions { CaCertificatePath = P("ca.pem"), ClientCertificatePath = P("client.pem"), ClientKeyPath = P("client-key.pem") };
            var sw = Stopwatch.StartNew();
            while (true)
            {
                var s = EtcdStatusReader.Read(new[] { _url }, _tls, CancellationToken.None);
                if (s.HealthyCount == 1) break;
                if (sw.Elapsed > TimeSpan.FromSeconds(20) || _etcd.HasExited) throw new TimeoutException("TLS etcd did not become healthy: " + s.Members.FirstOrDefault()?.Problem + "\n" + _log);
                Thread.Sleep(200);
            }
        }

        private string P(string name) => Path.Combine(_dir, name);
        private void Write(string name, string text) => File.WriteAllText(P(name), text);

        private void Issue(X509Certificate2 ca, string name, OidCollection usage, int serial)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var req = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            req.CertificateExtensions.Add(san.Build());
            req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usage, false));
            req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), new byte[] { (byte)serial, 7 });
            Write(name + ".pem", cert.ExportCertificatePem());
            Write(name + "-key.pem", key.ExportPkcs8PrivateKeyPem());
        }

        public void Dispose()
        {
            try { if (!_etcd.HasExited) { _etcd.Kill(); _etcd.WaitForExit(10000); } } catch { }
            try { Directory.Delete(_dir, true); } catch { }
        }

        [Fact]
        public void StatusAndBackupWorkOverHttpsWithAClientCertificate()
        {
            var s = EtcdStatusReader.Read(new[] { _url }, _tls, CancellationToken.None);
            Assert.Equal((1, 1, true), (s.MemberCount, s.HealthyCount, s.Members[0].IsLeader));
            // Values of ~100 KB make the snapshot span many stream messages (etcd sends 32 KB blobs).
            var rnd = new Random(11);
            using (var client = new EtcdClient(_url, _tls))
            {
                for (int i = 0; i < 12; i++)
                {
                    var v = new byte[75_000];
                    rnd.NextBytes(v);
                    client.Put("/big/" + i, Convert.ToBase64String(v), CancellationToken.None);
                }
            }
            var ctx = new RecordingContext();
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _url, Tls = _tls, Directory = P("backups") }, ctx);
            Assert.True(ClusterDR.Backups.BackupVerifier.Verify(backup.Path, new RecordingContext()).Verified);
            // gRPC over TLS (ALPN h2) on our own HTTP/2 client, with the same client certificate and CA bundle as the gateway.
            Assert.Contains(ctx.Verbose, v => v.Contains("fetched over gRPC Maintenance/Snapshot (HTTP/2 over TLS on a blocking socket)"));
            var native = P("native.db");
            TestEnv.Require("etcdctl", "apt-get install etcd-client");
            Shell.Run("sh", "-c", $"ETCDCTL_API=3 etcdctl --endpoints={_url} --cacert={P("ca.pem")} --cert={P("client.pem")} --key={P("client-key.pem")} snapshot save {native} >/dev/null");
            byte[] ours = null;
            ClusterDR.Backups.BackupArchiveReaderExtensions.ReadPayload(backup.Path, EtcdBackup.SnapshotFile, x => { var ms = new MemoryStream(); x.CopyTo(ms); ours = ms.ToArray(); });
            Assert.True(ours.Length > 1_000_000);
            SnapshotAssert.Same(File.ReadAllBytes(native), ours);
        }

        [Fact]
        public void OverHttpsHttpClientsHttp2AndTheGatewayGiveTheSameSnapshot()
        {
            byte[] Fetch(EtcdSnapshotProtocol protocol, string transport)
            {
                using var client = new EtcdClient(_url, _tls) { SnapshotProtocol = protocol };
                var ms = new MemoryStream();
                client.Snapshot(ms, null, CancellationToken.None);
                Assert.StartsWith(transport, client.LastSnapshotTransport);
                return ms.ToArray();
            }
            var own = Fetch(EtcdSnapshotProtocol.Grpc, "gRPC Maintenance/Snapshot (HTTP/2 over TLS on a blocking socket)");
            SnapshotAssert.Same(own, Fetch(EtcdSnapshotProtocol.GrpcHttpClient, "gRPC Maintenance/Snapshot (HttpClient, HTTP/2)"));
            SnapshotAssert.Same(own, Fetch(EtcdSnapshotProtocol.Gateway, "JSON gateway"));
        }

        [Fact]
        public void AnUntrustedServerCertificateFailsTheSnapshotAsATlsErrorWhicheverWayItIsFetched()
        {
            // No CA bundle: standard validation, and the test CA is not in the system's trust.
            var untrusting = new EtcdTlsOptions { ClientCertificatePath = P("client.pem"), ClientKeyPath = P("client-key.pem") };
            var dir = P("untrusted");
            var ex = Assert.Throws<ClusterDrException>(() => EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _url, Tls = untrusting, Directory = dir, Force = true }, new RecordingContext()));
            Assert.Equal((ErrorIds.EndpointUnreachable, ErrorKind.SecurityError), (ex.ErrorId, ex.Kind));
            Assert.Contains("TLS handshake failed", ex.Message);
            Assert.True(!Directory.Exists(dir) || Directory.GetFileSystemEntries(dir).Length == 0);

            // The snapshot itself (past the pre-flight): our own TLS refuses the certificate and nothing falls back to accept it.
            foreach (var protocol in new[] { EtcdSnapshotProtocol.Auto, EtcdSnapshotProtocol.Grpc, EtcdSnapshotProtocol.GrpcHttpClient, EtcdSnapshotProtocol.Gateway })
            {
                using var client = new EtcdClient(_url, untrusting) { SnapshotProtocol = protocol };
                var sink = new MemoryStream();
                var refused = Assert.Throws<ClusterDrException>(() => client.Snapshot(sink, null, CancellationToken.None));
                Assert.Equal((ErrorIds.EndpointUnreachable, ErrorKind.SecurityError), (refused.ErrorId, refused.Kind));
                Assert.Contains("TLS handshake failed", refused.Message);
                if (protocol == EtcdSnapshotProtocol.Auto || protocol == EtcdSnapshotProtocol.Grpc)
                    Assert.Contains("the server's certificate was rejected (RemoteCertificateChainErrors", refused.Message);
                Assert.Equal(0, sink.Length);
                // Auto never reached a fallback (it would have named the transport it fell back to).
                if (protocol != EtcdSnapshotProtocol.Gateway) Assert.Null(client.LastSnapshotTransport);
            }
        }

        [Fact]
        public void WithoutAClientCertificateTheSnapshotIsRefusedClearly()
        {
            var noClientCert = new EtcdTlsOptions { CaCertificatePath = P("ca.pem") };
            var dir = P("nocert");
            var ex = Assert.Throws<ClusterDrException>(() => EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _url, Tls = noClientCert, Directory = dir, Force = true }, new RecordingContext()));
            Assert.Equal((ErrorIds.EndpointUnreachable, ErrorKind.SecurityError), (ex.ErrorId, ex.Kind));
            Assert.Contains("the server refused the client certificate", ex.Message);
            Assert.Contains("-ClientCertificatePath", ex.Message);
            Assert.True(!Directory.Exists(dir) || Directory.GetFileSystemEntries(dir).Length == 0);

            using var client = new EtcdClient(_url, noClientCert);
            var sink = new MemoryStream();
            var refused = Assert.Throws<ClusterDrException>(() => client.Snapshot(sink, null, CancellationToken.None));
            Assert.Equal((ErrorIds.EndpointUnreachable, ErrorKind.SecurityError), (refused.ErrorId, refused.Kind));
            Assert.Contains("the server refused the client certificate", refused.Message);
            Assert.Contains("-ClientCertificatePath", refused.Message);
            // Refused by our own TLS connection, not passed on to the other ways.
            Assert.IsType<System.IO.IOException>(refused.InnerException);
            Assert.Null(client.LastSnapshotTransport);
            Assert.Equal(0, sink.Length);
        }

        [Fact]
        public async System.Threading.Tasks.Task ATlsServerThatDoesNotChooseH2IsLeftToTheOtherWaysWithNothingSent()
        {
            // TLS servers with etcd's certificate whose ALPN offers no protocol, or only http/1.1 (a proxy that speaks
            // only HTTP/1.1): our connection is not used, with nothing sent on it, and it is not a certificate
            // rejection, so the snapshot goes on to HttpClient and the JSON gateway.
            using var pem = X509Certificate2.CreateFromPemFile(P("server.pem"), P("server-key.pem"));
            using var serverCert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            Assert.True(H2Connection.TlsAlpnSupported);

            var (url, received) = Serve(serverCert, null);
            var connection = H2Connection.OpenTls(url, CaBundle.Load(_tls.CaCertificatePath), _tls.LoadClientCertificate(), CancellationToken.None, out string notH2);
            Assert.Null(connection);
            Assert.Contains("no application protocol", notH2);
            Assert.Equal(0, await received.WaitAsync(TimeSpan.FromSeconds(10)));

            // .NET's TLS server answers an ALPN it cannot meet with an alert (Go's ignores it, and etcd offers h2 anyway).
            (url, received) = Serve(serverCert, System.Net.Security.SslApplicationProtocol.Http11);
            var ex = Assert.ThrowsAny<System.Security.Authentication.AuthenticationException>(() => H2Connection.OpenTls(url, CaBundle.Load(_tls.CaCertificatePath), _tls.LoadClientCertificate(), CancellationToken.None, out notH2));
            Assert.IsNotType<TlsRejectedException>(ex);
            Assert.Equal(0, await received.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        /// <summary>A one-connection TLS server offering <paramref name="alpn"/> (null: no ALPN); the task gives the bytes it received after the handshake.</summary>
        private static (Uri, System.Threading.Tasks.Task<long>) Serve(X509Certificate2 certificate, System.Net.Security.SslApplicationProtocol? alpn)
        {
            var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var url = new Uri($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
            var task = System.Threading.Tasks.Task.Run(async () =>
            {
                try
                {
                    using var tcp = await listener.AcceptTcpClientAsync();
                    using var ssl = new System.Net.Security.SslStream(tcp.GetStream());
                    var options = new System.Net.Security.SslServerAuthenticationOptions { ServerCertificate = certificate };
                    if (alpn != null) options.ApplicationProtocols = new() { alpn.Value };
                    try { await ssl.AuthenticateAsServerAsync(options); }
                    catch (System.Security.Authentication.AuthenticationException) { return 0L; }
                    var buf = new byte[4096];
                    long n = 0;
                    int k;
                    try { while ((k = await ssl.ReadAsync(buf)) > 0) n += k; } catch (IOException) { }
                    return n;
                }
                finally { listener.Stop(); }
            });
            return (url, task);
        }

        [Fact]
        public void AnUntrustedServerIsATlsFailureNotAMemberThatIsDown()
        {
            var s = EtcdStatusReader.Read(new[] { _url }, new EtcdTlsOptions { ClientCertificatePath = P("client.pem"), ClientKeyPath = P("client-key.pem") }, CancellationToken.None);
            var m = Assert.Single(s.Members);
            Assert.False(m.Healthy);
            Assert.False(m.ProvenDown);
            Assert.Contains("TLS", m.Problem);
        }

        [Fact]
        public void WithoutAClientCertificateTheServerRefusesAndTheMemberIsNotProvenDown()
        {
            var s = EtcdStatusReader.Read(new[] { _url }, new EtcdTlsOptions { CaCertificatePath = P("ca.pem") }, CancellationToken.None);
            Assert.False(s.Members.Single().ProvenDown);
            Assert.Equal(0, s.HealthyCount);
        }

        [Fact]
        public void UnusableTlsSettingsAreAnErrorOfTheirOwn()
        {
            var missingCa = Assert.Throws<ClusterDrException>(() => EtcdStatusReader.Read(new[] { _url }, new EtcdTlsOptions { CaCertificatePath = P("nope.pem") }, CancellationToken.None));
            Assert.Equal(ErrorIds.TlsConfiguration, missingCa.ErrorId);
            var noKey = Assert.Throws<ClusterDrException>(() => EtcdStatusReader.Read(new[] { _url }, new EtcdTlsOptions { ClientCertificatePath = P("client.pem") }, CancellationToken.None));
            Assert.Equal(ErrorIds.TlsConfiguration, noKey.ErrorId);
        }
    }
}
