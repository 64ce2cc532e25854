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
            var ctx = new RecordingContext();
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _url, Tls = _tls, Directory = P("backups") }, ctx);
            Assert.True(ClusterDR.Backups.BackupVerifier.Verify(backup.Path, new RecordingContext()).Verified);
            // gRPC over TLS (ALPN h2) with the same client certificate and CA bundle as the gateway.
            Assert.Contains(ctx.Verbose, v => v.Contains("fetched over gRPC"));
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
