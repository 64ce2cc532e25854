using System;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Security;
using System.Threading;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>A real Azure Blob emulator (Azurite 3.37 from npm, tests/tools/install-deps.sh azurite) on 127.0.0.1, shared by one test class; stopped by PID.</summary>
    public sealed class AzuriteBlob : IDisposable
    {
        /// <summary>Azurite's well-known development account and key (public, documented by Microsoft).</summary>
        public const string Account = "devstoreaccount1";
        public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

        private readonly Process _process;

        public AzuriteBlob()
        {
            string bin = Path.Combine(TestEnv.RepoRoot, "out", "tools", "azurite", "node_modules", ".bin", "azurite-blob");
            TestEnv.Require("node", "apt-get install nodejs npm");
            if (!File.Exists(bin))
                throw new InvalidOperationException("Azurite is required by this test but is not installed. Install it with: sh tests/tools/install-deps.sh azurite" +
                    (Environment.GetEnvironmentVariable("CI") == "true" ? " (CI=true: .ci/run should have installed it)" : ""));
            Dir = TestEnv.TempDir("azurite");
            Port = TestEnv.FreePorts(1);
            var psi = new ProcessStartInfo(bin, $"--blobHost 127.0.0.1 --blobPort {Port} --location \"{Dir}\" --silent --skipApiVersionCheck")
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
        public Uri Endpoint => new Uri($"http://127.0.0.1:{Port}/{Account}");

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
