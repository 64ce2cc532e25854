using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// SSH.NET is not in this machine's package mirror, so these classes copy the member shape of
    /// Posh-SSH's SSH.SshSession and SSH.NET's SshClient/SshCommand (old: int ExitStatus, no stdin;
    /// 2024.1+: int? ExitStatus, CreateInputStream) and run the command for real with /bin/sh.
    /// </summary>
    public sealed class SshNetShapedSessionTests
    {
        public sealed class SshNetShapedConnectionInfo { public string Host { get; set; } = "node-a"; }

        public sealed class SshNetShapedClient
        {
            public bool IsConnected { get; set; } = true;
            public SshNetShapedConnectionInfo ConnectionInfo { get; } = new SshNetShapedConnectionInfo();
            public string LastCommandText { get; private set; }
            public SshNetShapedCommand CreateCommand(string commandText) { LastCommandText = commandText; return new SshNetShapedCommand(commandText); }
        }

        public sealed class SshNetShapedCommand : IDisposable
        {
            private readonly Process _p;
            public SshNetShapedCommand(string text)
            {
                var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(text);
                _p = new Process { StartInfo = psi };
            }
            public Stream OutputStream => _p.StandardOutput.BaseStream;
            public Stream ExtendedOutputStream => _p.StandardError.BaseStream;
            public int? ExitStatus => _p.HasExited ? _p.ExitCode : null;
            public IAsyncResult BeginExecute() { _p.Start(); return new Done(); }
            public string EndExecute(IAsyncResult r) { _p.WaitForExit(); return ""; }
            public Stream CreateInputStream() => _p.StandardInput.BaseStream;
            public void Dispose() => _p.Dispose();
        }

        /// <summary>SSH.NET before 2024.1: int ExitStatus and no way to write stdin.</summary>
        public sealed class OldSshNetShapedClient
        {
            public OldSshNetShapedCommand CreateCommand(string commandText) => new OldSshNetShapedCommand(commandText);
        }

        public sealed class OldSshNetShapedCommand : IDisposable
        {
            private readonly SshNetShapedCommand _inner;
            public OldSshNetShapedCommand(string text) { _inner = new SshNetShapedCommand(text); }
            public Stream OutputStream => _inner.OutputStream;
            public Stream ExtendedOutputStream => _inner.ExtendedOutputStream;
            public int ExitStatus => _inner.ExitStatus ?? -1;
            public IAsyncResult BeginExecute() => _inner.BeginExecute();
            public string EndExecute(IAsyncResult r) => _inner.EndExecute(r);
            public void Dispose() => _inner.Dispose();
        }

        /// <summary>Posh-SSH's SSH.SshSession: a public field "Session" and a Host property.</summary>
        public sealed class PoshSshShapedSession
        {
            public object Session;
            public string Host { get; set; } = "10.0.0.9";
            public int SessionId { get; set; }
        }

        private sealed class Done : IAsyncResult
        {
            public object AsyncState => null;
            public WaitHandle AsyncWaitHandle => new ManualResetEvent(true);
            public bool CompletedSynchronously => true;
            public bool IsCompleted => true;
        }

        [Fact]
        public void DrivesAPoshSshSessionWithStdinStdoutAndNullableExitStatus()
        {
            var client = new SshNetShapedClient();
            using var shell = new SshNetSessionShell(new PoshSshShapedSession { Session = client });
            Assert.Equal("ssh-session:10.0.0.9", shell.Node);
            var data = new byte[1 << 20];
            new Random(1).NextBytes(data);
            var output = new MemoryStream();
            Assert.Equal(4, shell.Run("cat; exit 4", new MemoryStream(data), output, null, CancellationToken.None));
            Assert.Equal(data, output.ToArray());
            Assert.StartsWith("sh -c ", client.LastCommandText);
        }

        [Fact]
        public void DrivesAnOlderSshNetClientWithIntExitStatus()
        {
            using var shell = new SshNetSessionShell(new PoshSshShapedSession { Session = new OldSshNetShapedClient() });
            var r = shell.RunText("echo out; echo err >&2; exit 2", null, CancellationToken.None);
            Assert.Equal((2, "out", "err"), (r.ExitCode, r.StdOut.Trim(), r.StdErr.Trim()));
        }

        [Fact]
        public void AnOlderSshNetClientRefusesStdinInsteadOfPuttingDataOnTheCommandLine()
        {
            using var shell = new SshNetSessionShell(new PoshSshShapedSession { Session = new OldSshNetShapedClient() });
            var ex = Assert.Throws<ClusterDrException>(() => shell.RunText("cat", "secret", CancellationToken.None));
            Assert.Equal(ErrorIds.SshSessionUnsupported, ex.ErrorId);
            Assert.DoesNotContain("secret", ex.Message);
        }

        [Fact]
        public void ADisconnectedSessionAndAForeignObjectAreRejected()
        {
            Assert.Equal(ErrorIds.SshConnectionFailed, Assert.Throws<ClusterDrException>(() =>
                new SshNetSessionShell(new PoshSshShapedSession { Session = new SshNetShapedClient { IsConnected = false } })).ErrorId);
            Assert.Equal(ErrorIds.SshSessionUnsupported, Assert.Throws<ClusterDrException>(() => new SshNetSessionShell("not a session")).ErrorId);
        }
    }
}
