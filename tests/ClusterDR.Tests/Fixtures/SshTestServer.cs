using System;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using ClusterDR.Transport;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>
    /// A private sshd on 127.0.0.1 with its own host key, authorized key and known_hosts, started in
    /// the foreground (-D) and stopped by PID.
    /// </summary>
    public sealed class SshTestServer : IDisposable
    {
        private readonly Process _sshd;

        public SshTestServer()
        {
            var sshd = TestEnv.Require("sshd", "apt-get install openssh-server");
            TestEnv.Require("ssh", "apt-get install openssh-client");
            Dir = TestEnv.TempDir("sshd");
            Port = TestEnv.FreePorts(1);
            Shell.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(Dir, "host_key"));
            Shell.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(Dir, "client_key"));
            File.Copy(Path.Combine(Dir, "client_key.pub"), Path.Combine(Dir, "authorized_keys"));
            var hostPub = File.ReadAllText(Path.Combine(Dir, "host_key.pub")).Trim().Split(' ');
            KnownHostsFile = Path.Combine(Dir, "known_hosts");
            File.WriteAllText(KnownHostsFile, $"[127.0.0.1]:{Port} {hostPub[0]} {hostPub[1]}\n");
            File.WriteAllText(Path.Combine(Dir, "sshd_config"), string.Join("\n",
                "Port " + Port,
                "ListenAddress 127.0.0.1",
                "HostKey " + Path.Combine(Dir, "host_key"),
                "PidFile " + Path.Combine(Dir, "sshd.pid"),
                "AuthorizedKeysFile " + Path.Combine(Dir, "authorized_keys"),
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "MaxSessions 50",
                "MaxStartups 50:30:100",
                "") + "\n");
            Directory.CreateDirectory("/run/sshd");
            var psi = new ProcessStartInfo(sshd) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-D", "-e", "-f", Path.Combine(Dir, "sshd_config") }) psi.ArgumentList.Add(a);
            _sshd = Process.Start(psi)!;
            _sshd.ErrorDataReceived += (_, __) => { };
            _sshd.BeginErrorReadLine();
            try { WaitListening(); }
            catch
            {
                // A constructor that throws gets no Dispose: stop what a start that failed half-way left running.
                Dispose();
                throw;
            }
        }

        public string Dir { get; }
        public int Port { get; }
        public string KnownHostsFile { get; }
        public string IdentityFile => Path.Combine(Dir, "client_key");
        public string Node => $"{Environment.UserName}@127.0.0.1:{Port}";
        public SshOptions Options => new SshOptions { KnownHostsFile = KnownHostsFile, IdentityFile = IdentityFile };

        private void WaitListening()
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(10))
            {
                if (_sshd.HasExited) throw new InvalidOperationException("sshd exited with " + _sshd.ExitCode);
                try { using (var c = new TcpClient("127.0.0.1", Port)) return; }
                catch (SocketException) { Thread.Sleep(50); }
            }
            throw new TimeoutException("sshd did not listen on " + Port);
        }

        public void Dispose()
        {
            try { if (!_sshd.HasExited) { _sshd.Kill(); _sshd.WaitForExit(5000); } } catch { }
            try { Directory.Delete(Dir, true); } catch { }
        }
    }
}
