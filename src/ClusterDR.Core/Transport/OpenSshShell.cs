using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace ClusterDR.Transport
{
    /// <summary>
    /// Runs scripts on a node through the OpenSSH client in batch mode: never prompts, checks host
    /// keys against known_hosts, and multiplexes one connection per node (ControlMaster) so a plan of
    /// many steps pays for the handshake once.
    /// </summary>
    public sealed class OpenSshShell : ProcessShell
    {
        private readonly NodeAddress _address;
        private readonly SshOptions _options;
        private readonly string _controlDir;

        public OpenSshShell(NodeAddress address, SshOptions options)
        {
            if (address == null || address.IsLocal) throw new ArgumentException("An SSH node address is required.", nameof(address));
            _address = address;
            _options = options ?? new SshOptions();
            if (_options.ReuseConnections && !RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                // A private directory keeps other local users away from the control socket.
                _controlDir = Path.Combine(Path.GetTempPath(), "clusterdr-ssh-" + Guid.NewGuid().ToString("N").Substring(0, 12));
                Directory.CreateDirectory(_controlDir);
                FileModes.TrySetOwnerOnly(_controlDir, directory: true);
            }
        }

        public override string Node => _address.ToString();

        /// <summary>The ssh arguments before the remote command, exposed for tests that prove what goes on a command line.</summary>
        public IList<string> SshArguments()
        {
            var args = new List<string>
            {
                "-T", "-e", "none",
                "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=" + (_options.AcceptNewHostKeys ? "accept-new" : "yes"),
                "-o", "ConnectTimeout=" + _options.ConnectTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                "-o", "ServerAliveInterval=15",
                "-o", "LogLevel=ERROR",
            };
            if (!string.IsNullOrEmpty(_options.KnownHostsFile))
            {
                args.Add("-o"); args.Add("UserKnownHostsFile=" + _options.KnownHostsFile);
            }
            if (!string.IsNullOrEmpty(_options.IdentityFile))
            {
                args.Add("-i"); args.Add(_options.IdentityFile);
                args.Add("-o"); args.Add("IdentitiesOnly=yes");
            }
            if (_controlDir != null)
            {
                args.Add("-o"); args.Add("ControlMaster=auto");
                args.Add("-o"); args.Add("ControlPath=" + Path.Combine(_controlDir, "%C"));
                args.Add("-o"); args.Add("ControlPersist=30");
            }
            if (_address.Port > 0) { args.Add("-p"); args.Add(_address.Port.ToString(CultureInfo.InvariantCulture)); }
            if (_address.User != null) { args.Add("-l"); args.Add(_address.User); }
            args.Add("--");
            args.Add(_address.Host);
            return args;
        }

        protected override (string FileName, IList<string> Args) Launch(string script)
        {
            var args = SshArguments();
            // The remote side hands the command to the user's login shell: pin it to sh.
            args.Add("sh -c " + Sh.Quote(script));
            return (_options.SshPath, args);
        }

        public override int Run(string script, Stream stdin, Stream stdout, Stream stderr, CancellationToken ct)
        {
            var tail = new TailStream(stderr, 4096);
            int code = base.Run(script, stdin, stdout, tail, ct);
            if (code == 255)
            {
                string err = tail.Text();
                if (err.IndexOf("Host key verification failed", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("No ED25519 host key is known", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("host key is known", StringComparison.OrdinalIgnoreCase) >= 0)
                    throw new ClusterDrException(ErrorIds.HostKeyVerificationFailed, ErrorKind.SecurityError,
                        $"The SSH host key of {Node} could not be verified against {(_options.KnownHostsFile ?? "the default known_hosts")}. " +
                        "Add the node's key to known_hosts (ssh-keyscan, checked out of band) or pass -KnownHostsFile.", Node, surfaceAsIs: true);
                if (err.IndexOf("Permission denied", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("Connection refused", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("Could not resolve", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("timed out", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("No route to host", StringComparison.OrdinalIgnoreCase) >= 0 ||
                    err.IndexOf("Connection closed", StringComparison.OrdinalIgnoreCase) >= 0)
                    throw new ClusterDrException(ErrorIds.SshConnectionFailed, ErrorKind.ConnectionError,
                        $"Cannot connect to {Node} over SSH: {err.Trim()}", Node);
            }
            return code;
        }

        public override void Dispose()
        {
            if (_controlDir == null) return;
            try
            {
                var args = SshArguments();
                args.Insert(0, "exit"); args.Insert(0, "-O");
                var psi = new System.Diagnostics.ProcessStartInfo(_options.SshPath, Sh.ProcessArguments(args))
                { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
                using (var p = System.Diagnostics.Process.Start(psi))
                {
                    p.StandardInput.Close();
                    p.WaitForExit(5000);
                }
            }
            catch { /* the master may be gone already */ }
            try { Directory.Delete(_controlDir, true); } catch { }
        }
    }

    /// <summary>Passes bytes on and keeps the last few KB as text, to explain a failure.</summary>
    internal sealed class TailStream : Backups.WriteOnlyStream
    {
        private readonly Stream _inner;
        private readonly int _keep;
        private readonly MemoryStream _buffer = new MemoryStream();
        private readonly object _gate = new object();

        public TailStream(Stream inner, int keep) { _inner = inner; _keep = keep; }

        public string Text()
        {
            lock (_gate) return Encoding.UTF8.GetString(_buffer.ToArray());
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            _inner?.Write(buffer, offset, count);
            lock (_gate)
            {
                _buffer.Write(buffer, offset, count);
                if (_buffer.Length > _keep * 2)
                {
                    var all = _buffer.ToArray();
                    _buffer.SetLength(0);
                    _buffer.Write(all, all.Length - _keep, _keep);
                }
            }
        }

        public override void Flush() => _inner?.Flush();
    }
}
