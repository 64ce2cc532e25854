using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// The throwaway place a rehearsal runs in: an owner-only temp dir, the servers started there (each stopped by its
    /// PID, then anything else still running from the dir), loopback ports no one listens on, and a network namespace
    /// when one is asked for. Dispose takes all of it away, whatever happened before.
    /// </summary>
    internal sealed class Scratch : IDisposable
    {
        private readonly IOperationContext _ctx;
        private readonly List<(int Pid, string What)> _servers = new List<(int, string)>();
        private readonly List<TcpListener> _held = new List<TcpListener>();

        private Scratch(string dir, IOperationContext ctx) { Dir = dir; _ctx = ctx; Shell = new LocalShell(); }

        public string Dir { get; }
        public LocalShell Shell { get; }
        /// <summary>The network namespace made by <see cref="CreateNetworkNamespace"/> (null: none).</summary>
        public string NetworkNamespace { get; private set; }

        private const string Prefix = "clusterdr-rehearsal-";
        /// <summary>"PID starttime" of the process that made the dir: how a later rehearsal tells it was abandoned.</summary>
        private const string OwnerFile = ".owner";
        /// <summary>The network namespace's name, written before the namespace is made.</summary>
        private const string NamespaceFile = ".netns";

        public static Scratch Create(string kind, IOperationContext ctx)
        {
            SweepAbandoned(ctx);
            string dir = Path.Combine(Path.GetTempPath(), Prefix + kind + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(dir);
            FileModes.TrySetOwnerOnly(dir, directory: true);
            int self = System.Diagnostics.Process.GetCurrentProcess().Id;
            File.WriteAllText(Path.Combine(dir, OwnerFile), self.ToString(CultureInfo.InvariantCulture) + " " + StartTime(self));
            ctx.WriteVerbose($"Rehearsal: working in {dir}.");
            return new Scratch(dir, ctx);
        }

        /// <summary>
        /// A rehearsal killed before it could clear up (kill -9, a closed session) leaves its dir, its servers and its
        /// namespace. The next rehearsal takes them away, once the process that made them is provably gone: its PID no
        /// longer runs, or runs a process started at another time. A dir without a readable owner is left alone.
        /// </summary>
        private static void SweepAbandoned(IOperationContext ctx)
        {
            string[] dirs;
            try { dirs = Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return; }
            foreach (var dir in dirs)
            {
                string owner = ReadSmall(Path.Combine(dir, OwnerFile));
                var parts = owner?.Split(' ');
                if (parts == null || parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
                if (StartTime(pid) == parts[1]) continue;
                ctx.WriteVerbose($"Rehearsal: {dir} was left by a rehearsal that no longer runs (PID {pid}); removing it and whatever still runs from it.");
                string ns = ReadSmall(Path.Combine(dir, NamespaceFile));
                using (new Scratch(dir, ctx) { NetworkNamespace = string.IsNullOrEmpty(ns) ? null : ns }) { }
            }
        }

        private static string ReadSmall(string path)
        {
            try { return File.ReadAllText(path).Trim(); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return null; }
        }

        /// <summary>The process's start time in clock ticks since boot (/proc/PID/stat, field 22); null when it does not run.</summary>
        private static string StartTime(int pid)
        {
            string stat = ReadSmall("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
            int close = stat?.LastIndexOf(')') ?? -1;
            if (close < 0) return null;
            var fields = stat.Substring(close + 1).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 19 ? fields[19] : null; // fields[0] is field 3 (state)
        }

        /// <summary>
        /// A new file for extracted backup data, owner-only from before its first byte (the data holds the cluster's
        /// secrets), written on a thread of its own so that the disk works while the archive is decompressed and hashed.
        /// </summary>
        public static Stream CreateFile(string path) => new ScratchFile(path);

        private sealed class ScratchFile : Backups.WriteOnlyStream
        {
            private readonly string _path;
            private readonly FileStream _file;
            private readonly Backups.BackgroundWriteStream _writer;

            public ScratchFile(string path)
            {
                _path = path;
                try
                {
                    _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                    FileModes.TrySetOwnerOnly(path);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw Failed(ex); }
                _writer = new Backups.BackgroundWriteStream(_file);
            }

            public override void Write(byte[] buffer, int offset, int count)
            {
                try { _writer.Write(buffer, offset, count); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw Failed(ex); }
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    try { _writer.Complete(); }
                    catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw Failed(ex); }
                    finally { _writer.Dispose(); _file.Dispose(); }
                }
                base.Dispose(disposing);
            }

            private ClusterDrException Failed(Exception ex) =>
                new ClusterDrException(ErrorIds.RehearsalScratchFailed, ErrorKind.WriteError,
                    $"The rehearsal could not write {_path}: {ex.Message}. The backup was not judged.", _path, ex, surfaceAsIs: true,
                    recommendedAction: "Free space in the temp directory (a rehearsal needs about twice the backup's payload), or point TMPDIR at a larger disk.");
        }

        public string PathOf(params string[] parts) => Path.Combine(new[] { Dir }.Concat(parts).ToArray());

        /// <summary>
        /// A loopback port nothing listens on. Each is held open until <see cref="ReleasePorts"/>, so two asks never get
        /// the same port and no other program takes it meanwhile.
        /// </summary>
        public int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            _held.Add(l);
            return port;
        }

        /// <summary>Lets the servers bind the ports handed out (just before they start).</summary>
        public void ReleasePorts()
        {
            foreach (var l in _held) l.Stop();
            _held.Clear();
        }

        /// <summary>
        /// Starts <paramref name="command"/> (a shell command line: program and quoted arguments) in the background with its
        /// output in <paramref name="log"/>, and remembers its PID, which Dispose stops.
        /// </summary>
        public int Start(string what, string command, string log)
        {
            var r = Shell.RunChecked("Start " + what, command + " >>" + Sh.Quote(log) + " 2>&1 </dev/null & echo $!", _ctx.Cancellation);
            int pid = int.Parse(r.StdOut.Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            _servers.Add((pid, what));
            _ctx.WriteVerbose($"Rehearsal: started {what} (PID {pid}).");
            return pid;
        }

        private readonly List<(string PidFile, string What)> _pidFiles = new List<(string, string)>();

        /// <summary>A server that something else starts (a restore's start command) and that writes its PID to <paramref name="pidFile"/>.</summary>
        public void StopOnDispose(string pidFile, string what) => _pidFiles.Add((pidFile, what));

        public static bool Alive(int pid)
        {
            try
            {
                string status = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/status");
                return status.IndexOf("\nState:\tZ", StringComparison.Ordinal) < 0;
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return true; }
        }

        /// <summary>The last lines of a server's log, for a message when it did not come up.</summary>
        public string Tail(string log)
        {
            try { return BackupRehearsal.LastLines(File.ReadAllText(log), 5); }
            catch (IOException) { return ""; }
        }

        /// <summary>A network namespace with only lo up, deleted on Dispose (Linux, root).</summary>
        public string CreateNetworkNamespace()
        {
            string ns = "cdr-rh-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            File.WriteAllText(PathOf(NamespaceFile), ns); // first: a rehearsal killed right after the next line still names it
            Shell.RunChecked("Create the rehearsal's network namespace", "ip netns add " + Sh.Quote(ns) + " && ip -n " + Sh.Quote(ns) + " link set lo up", _ctx.Cancellation);
            NetworkNamespace = ns;
            return ns;
        }

        public void Dispose()
        {
            ReleasePorts();
            var ct = CancellationToken.None; // cleaning up must not stop half-way because the user pressed Ctrl+C
            for (int i = _servers.Count - 1; i >= 0; i--) Stop(_servers[i].Pid, _servers[i].What, ct);
            foreach (var (pidFile, what) in _pidFiles)
            {
                string text = null;
                try { text = File.ReadAllText(pidFile).Trim(); } catch (IOException) { }
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) Stop(pid, what, ct);
            }
            // Children the servers leave behind (dockerd's containerd, postgres backends): whatever still runs from the dir.
            foreach (int pid in ProcessesUnder(Dir)) Stop(pid, "process " + pid.ToString(CultureInfo.InvariantCulture) + " left in the rehearsal dir", ct);
            // A dockerd that died hard may leave mounts under its data root (overlay, netns files): unmount them first.
            var mounts = MountsUnder(Dir);
            if (mounts.Count > 0)
                Shell.RunText(string.Join("; ", mounts.Select(m => "umount -l " + Sh.Quote(m) + " 2>/dev/null")) + "; true", null, ct);
            if (NetworkNamespace != null)
            {
                var r = Shell.RunText("ip netns del " + Sh.Quote(NetworkNamespace), null, ct);
                if (r.ExitCode != 0) _ctx.WriteWarning($"Rehearsal: could not delete network namespace {NetworkNamespace}: {r.StdErr.Trim()}");
            }
            try
            {
                Directory.Delete(Dir, recursive: true);
                _ctx.WriteVerbose($"Rehearsal: stopped its servers and deleted {Dir}.");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                _ctx.WriteWarning($"Rehearsal: could not delete {Dir}: {ex.Message}");
            }
        }

        private static List<string> MountsUnder(string dir)
        {
            try
            {
                return File.ReadAllLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 1)
                    .Select(f => f[1]).Where(m => m == dir || m.StartsWith(dir + "/", StringComparison.Ordinal))
                    .OrderByDescending(m => m.Length).ToList();
            }
            catch (IOException) { return new List<string>(); }
        }

        private void Stop(int pid, string what, CancellationToken ct)
        {
            if (!Alive(pid)) return;
            string p = pid.ToString(CultureInfo.InvariantCulture);
            Shell.RunText("kill -s TERM " + p + " 2>/dev/null", null, ct);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Alive(pid) && clock.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(50);
            if (Alive(pid))
            {
                _ctx.WriteVerbose($"Rehearsal: {what} did not stop on SIGTERM within 15 s; killing it.");
                Shell.RunText("kill -s KILL " + p + " 2>/dev/null", null, ct);
                clock.Restart();
                while (Alive(pid) && clock.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(50);
            }
        }

        /// <summary>PIDs of processes whose command line or working dir is under <paramref name="dir"/>.</summary>
        internal static IEnumerable<int> ProcessesUnder(string dir)
        {
            var found = new List<int>();
            int self = System.Diagnostics.Process.GetCurrentProcess().Id;
            foreach (var d in SafeDirs("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == self) continue;
                try
                {
                    string cmd = File.ReadAllText(d + "/cmdline").Replace('\0', ' ');
                    if (cmd.IndexOf(dir, StringComparison.Ordinal) >= 0) found.Add(pid);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
            return found;
        }

        private static IEnumerable<string> SafeDirs(string path)
        {
            try { return Directory.GetDirectories(path); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return new string[0]; }
        }
    }
}
