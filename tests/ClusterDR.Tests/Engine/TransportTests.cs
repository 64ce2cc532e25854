using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    public sealed class NodeAddressTests
    {
        [Theory]
        [InlineData("localhost", true, null, "localhost", 0)]
        [InlineData("root@10.0.0.5", false, "root", "10.0.0.5", 0)]
        [InlineData("admin@db1.example:2222", false, "admin", "db1.example", 2222)]
        [InlineData("ssh://core@[fd00::5]:22", false, "core", "fd00::5", 22)]
        [InlineData("node7", false, null, "node7", 0)]
        public void ParsesNodeForms(string text, bool local, string user, string host, int port)
        {
            var a = NodeAddress.Parse(text);
            Assert.Equal((local, user, host, port), (a.IsLocal, a.User, a.Host, a.Port));
        }

        [Theory]
        [InlineData("")]
        [InlineData("root@")]
        [InlineData("host:99999")]
        [InlineData("-oProxyCommand=evil")]
        [InlineData("fd00::5")]
        [InlineData("a;b")]
        public void RejectsBadNodesWithAStableErrorId(string text) =>
            Assert.Equal(ErrorIds.InvalidNode, Assert.Throws<ClusterDrException>(() => NodeAddress.Parse(text)).ErrorId);
    }

    public sealed class LocalShellTests
    {
        [Fact]
        public void StreamsBinaryStdinToStdoutAndReturnsTheExitCode()
        {
            var data = new byte[3 << 20];
            new Random(7).NextBytes(data);
            using var shell = new LocalShell();
            var output = new MemoryStream();
            int code = shell.Run("cat; exit 7", new MemoryStream(data), output, null, CancellationToken.None);
            Assert.Equal(7, code);
            Assert.Equal(data, output.ToArray());
        }

        [Fact]
        public void QuotingKeepsHostileValuesLiteral()
        {
            using var shell = new LocalShell();
            string value = "it's $(echo pwned) `id` \"q\" ; rm -rf /nonexistent";
            var r = shell.RunChecked("echo", "printf %s " + Sh.Quote(value), CancellationToken.None);
            Assert.Equal(value, r.StdOut);
        }

        [Fact]
        public void AFailingCommandRaisesRemoteCommandFailedWithStderr()
        {
            using var shell = new LocalShell();
            var ex = Assert.Throws<ClusterDrException>(() => shell.RunChecked("probe", "echo nope >&2; exit 3", CancellationToken.None));
            Assert.Equal(ErrorIds.RemoteCommandFailed, ex.ErrorId);
            Assert.Contains("nope", ex.Message);
            Assert.Contains("exit code 3", ex.Message);
        }

        [Fact]
        public void ProcessArgumentsRoundTripThroughTheRuntimeParser()
        {
            var args = new[] { "plain", "with space", "quote\"inside", "back\\slash\\", "", "tab\there", "x\\\"y" };
            using var shell = new LocalShell();
            var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh", Sh.ProcessArguments(new[] { "-c", "for a in \"$@\"; do printf '%s\\n' \"[$a]\"; done", "sh" }.Concat(args)))
            { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = System.Diagnostics.Process.Start(psi)!;
            var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            p.WaitForExit();
            Assert.Equal(args.Select(a => "[" + a + "]").ToArray(), lines);
        }
    }

    public sealed class OpenSshShellTests : IClassFixture<OpenSshShellTests.Server>
    {
        public sealed class Server : IDisposable
        {
            public SshTestServer Ssh { get; } = new SshTestServer();
            public void Dispose() => Ssh.Dispose();
        }

        private readonly SshTestServer _ssh;
        public OpenSshShellTests(Server s) { _ssh = s.Ssh; }

        [Fact]
        public void RunsOnTheNodeWithStreamedBinaryStdinAndStdout()
        {
            var data = new byte[2 << 20];
            new Random(3).NextBytes(data);
            using var shell = new OpenSshShell(NodeAddress.Parse(_ssh.Node), _ssh.Options);
            var output = new MemoryStream();
            Assert.Equal(0, shell.Run("cat", new MemoryStream(data), output, null, CancellationToken.None));
            Assert.Equal(data, output.ToArray());
            Assert.Equal(5, shell.Run("exit 5", null, null, null, CancellationToken.None));
            // A second command reuses the control connection.
            Assert.Equal("ok", shell.RunChecked("echo", "echo ok", CancellationToken.None).StdOut.Trim());
        }

        [Fact]
        public void AnUnknownHostKeyIsRefusedByDefault()
        {
            var empty = Path.Combine(_ssh.Dir, "empty_known_hosts");
            File.WriteAllText(empty, "");
            using var shell = new OpenSshShell(NodeAddress.Parse(_ssh.Node), new SshOptions { KnownHostsFile = empty, IdentityFile = _ssh.IdentityFile });
            var ex = Assert.Throws<ClusterDrException>(() => shell.RunChecked("echo", "echo hi", CancellationToken.None));
            Assert.Equal(ErrorIds.HostKeyVerificationFailed, ex.ErrorId);
        }

        [Fact]
        public void AChangedHostKeyIsRefusedEvenWithAcceptNew()
        {
            var wrong = Path.Combine(_ssh.Dir, "wrong_known_hosts");
            Shell.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(_ssh.Dir, "other_key"));
            var other = File.ReadAllText(Path.Combine(_ssh.Dir, "other_key.pub")).Split(' ');
            File.WriteAllText(wrong, $"[127.0.0.1]:{_ssh.Port} {other[0]} {other[1]}\n");
            using var shell = new OpenSshShell(NodeAddress.Parse(_ssh.Node), new SshOptions { KnownHostsFile = wrong, IdentityFile = _ssh.IdentityFile, AcceptNewHostKeys = true });
            Assert.Equal(ErrorIds.HostKeyVerificationFailed, Assert.Throws<ClusterDrException>(() => shell.RunChecked("echo", "echo hi", CancellationToken.None)).ErrorId);
        }

        [Fact]
        public void SecretsTravelOnStdinNeverOnTheCommandLine()
        {
            const string secret = "S3cr3t-unlock-key";
            using var shell = new OpenSshShell(NodeAddress.Parse(_ssh.Node), _ssh.Options);
            const string script = "read -r k; printf %s \"$k\" | sha256sum";
            var r = shell.RunChecked("read secret", script, CancellationToken.None, secret + "\n");
            var expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(secret))).ToLowerInvariant();
            Assert.StartsWith(expected, r.StdOut);
            Assert.DoesNotContain(secret, string.Join(" ", shell.SshArguments()) + script);
        }

        [Fact]
        public void ConnectionRefusedIsAConnectionError()
        {
            int closed = TestEnv.FreePorts(1);
            using var shell = new OpenSshShell(NodeAddress.Parse("root@127.0.0.1:" + closed), _ssh.Options);
            Assert.Equal(ErrorIds.SshConnectionFailed, Assert.Throws<ClusterDrException>(() => shell.RunChecked("echo", "echo hi", CancellationToken.None)).ErrorId);
        }
    }
}
