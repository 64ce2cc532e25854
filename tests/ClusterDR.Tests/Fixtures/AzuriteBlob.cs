using System;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Security;
using System.Threading;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>A real Azure Blob emulator (Azurite 3.37 from npm, tests/tools/install-deps.sh azurite) on 127.0.0.1, shared by one test class; stopped by PID.</summary>
    public class AzuriteBlob : IDisposable
    {
        /// <summary>Azurite's well-known development account and key (public, documented by Microsoft).</summary>
        public const string Account = "devstoreaccount1";
        public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

        private readonly Process _process;

        public AzuriteBlob() : this(https: false) { }

        /// <param name="https">Serve https with a self-signed certificate for 127.0.0.1 (<see cref="Certificate"/>) and accept bearer tokens (--oauth basic).</param>
        protected AzuriteBlob(bool https)
        {
            string bin = Path.Combine(TestEnv.RepoRoot, "out", "tools", "azurite", "node_modules", ".bin", "azurite-blob");
            TestEnv.Require("node", "apt-get install nodejs npm");
            if (!File.Exists(bin))
                throw new InvalidOperationException("Azurite is required by this test but is not installed. Install it with: sh tests/tools/install-deps.sh azurite" +
                    (Environment.GetEnvironmentVariable("CI") == "true" ? " (CI=true: .ci/run should have installed it)" : ""));
            Dir = TestEnv.TempDir("azurite");
            Port = TestEnv.FreePorts(1);
            Https = https;
            string tls = "";
            if (https)
            {
                TestEnv.Require("openssl", "apt-get install openssl");
                string key = Path.Combine(Dir, "key.pem"), cert = Path.Combine(Dir, "cert.pem");
                var gen = Process.Start(new ProcessStartInfo("openssl", $"req -x509 -newkey rsa:2048 -nodes -keyout \"{key}\" -out \"{cert}\" -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1")
                { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })!;
                gen.WaitForExit();
                if (gen.ExitCode != 0) throw new InvalidOperationException("openssl could not make the test certificate: " + gen.StandardError.ReadToEnd());
                Certificate = new System.Security.Cryptography.X509Certificates.X509Certificate2(cert);
                tls = $" --oauth basic --cert \"{cert}\" --key \"{key}\"";
            }
            var psi = new ProcessStartInfo(bin, $"--blobHost 127.0.0.1 --blobPort {Port} --location \"{Dir}\" --silent --skipApiVersionCheck{tls}")
            { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (s, e) => { };
            _process.ErrorDataReceived += (s, e) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try { using (new TcpClient("127.0.0.1", Port)) break; }
                catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited) { Thread.Sleep(100); }
                catch (SocketException)
                {
                    Dispose();
                    throw new InvalidOperationException($"Azurite did not listen on 127.0.0.1:{Port}.");
                }
            }
        }

        public string Dir { get; }
        public int Port { get; }
        public bool Https { get; }
        public System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate { get; }
        public Uri Endpoint => new Uri($"{(Https ? "https" : "http")}://127.0.0.1:{Port}/{Account}");

        public static SecureString Secure(string s)
        {
            var ss = new SecureString();
            foreach (var c in s) ss.AppendChar(c);
            return ss;
        }

        public void Dispose()
        {
            try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(10000); } } catch { }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }
}

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>Azurite over https with its self-signed certificate, accepting bearer tokens (--oauth basic).</summary>
    public sealed class AzuriteBlobHttps : AzuriteBlob
    {
        public AzuriteBlobHttps() : base(https: true) { }
    }
}
