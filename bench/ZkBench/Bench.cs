using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Bench
{
    /// <summary>One measured run of one side: named timings in ms and the load before and after.</summary>
    public sealed class Run
    {
        public string Phase, Who;
        public int Round, Order;
        public string Node;
        public string LoadBefore, LoadAfter;
        public Dictionary<string, double> Ms = new Dictionary<string, double>();
        public string Note = "";
    }

    /// <summary>Timestamps every step the engine announces (the plan writes a verbose line as each step starts).</summary>
    public sealed class TimingContext : IOperationContext
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        public List<(double Ms, string What)> Marks { get; } = new List<(double, string)>();
        public Decision ShouldProcess(string target, string action) => Decision.Proceed;
        public void WriteVerbose(string message) => Marks.Add((_clock.Elapsed.TotalMilliseconds, message));
        public void WriteWarning(string message) => Marks.Add((_clock.Elapsed.TotalMilliseconds, "WARNING: " + message));
        public void WriteDebug(string message) { }
        public void WriteProgress(ProgressInfo progress) { }
        public CancellationToken Cancellation => CancellationToken.None;
        public void Reset() { Marks.Clear(); _clock.Restart(); }
    }

    public sealed class Bench
    {
        private readonly Options _o;
        private readonly List<Run> _runs = new List<Run>();
        private readonly List<string> _notes = new List<string>();
        private Ensemble _zk;
        private string _work, _archives, _tars;
        private long _loaded;
        private volatile int _signals;
        private string _loadLine, _startUptime, _endUptime;

        public Bench(Options o) { _o = o; }

        private static void Log(string s) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {s}");

        public int Run()
        {
            _work = Path.Combine(Path.GetFullPath(_o.WorkDir), "zkbench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            try
            {
                string script = Ensemble.FindScript(_o.Script);
                Directory.CreateDirectory(_work);
                _archives = Path.Combine(_work, "archives"); Directory.CreateDirectory(_archives);
                _tars = Path.Combine(_work, "tars"); Directory.CreateDirectory(_tars);
                _startUptime = Machine.Uptime();
                Log($"nice {Machine.Nice()}; {_startUptime}");
                int basePort = Ensemble.FreeBasePort(_o.BasePort, 3);
                var sw = Stopwatch.StartNew();
                _zk = Ensemble.Start(script, Path.Combine(_work, "ensemble"), 3, basePort, _o.Heap);
                _zk.WaitAllServing(TimeSpan.FromSeconds(90), 200);
                Log($"3 nodes serving in {sw.Elapsed.TotalSeconds:0.0} s ({string.Join(", ", _zk.Servers)}, -Xmx{_o.Heap})");
                Load();
                for (int w = 1; w <= _o.Warmup; w++)
                {
                    Log($"warm-up {w}/{_o.Warmup} (not measured)");
                    var follower = _zk.Follower();
                    Settle(); string a = BackupOurs(-w, 1, follower);
                    Settle(); string t = BackupManual(-w, 2, follower);
                    Settle(); RestoreOurs(-w, 3, a);
                    Settle(); RestoreManual(-w, 4, t);
                    File.Delete(a); File.Delete(t);
                    _runs.RemoveAll(x => x.Round < 0);
                }
                for (int r = 1; r <= _o.Rounds; r++)
                {
                    bool oursFirst = r % 2 == 1;
                    var follower = _zk.Follower();
                    Log($"round {r}/{_o.Rounds}: backups of follower {follower.Name}, {(oursFirst ? "ours" : "manual")} first");
                    string archive = null, tar = null;
                    int order = 1;
                    foreach (bool ours in new[] { oursFirst, !oursFirst })
                    {
                        Settle();
                        if (ours) archive = BackupOurs(r, order++, follower);
                        else tar = BackupManual(r, order++, follower);
                    }
                    foreach (bool ours in new[] { oursFirst, !oursFirst })
                    {
                        Settle();
                        if (ours) RestoreOurs(r, order++, archive);
                        else RestoreManual(r, order++, tar);
                    }
                    File.Delete(archive); File.Delete(tar);
                }
                if (_o.Breakdown) BreakdownRuns();
                _endUptime = Machine.Uptime();
                string report = Report.Build(_o, _runs, _notes, _loadLine, _startUptime, _endUptime);
                Console.WriteLine(report);
                if (_o.Report != null) File.WriteAllText(_o.Report, report);
                return 0;
            }
            catch (Exception ex)
            {
                Log("FAILED: " + ex);
                if (_zk != null) Log(_zk.Logs());
                return 1;
            }
            finally
            {
                Cleanup();
            }
        }

        private void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            if (Interlocked.Increment(ref _signals) > 1) { Cleanup(); Environment.Exit(130); }
            Log("interrupted: stopping after the current step (again to stop at once)");
        }

        private void CheckInterrupted()
        {
            if (_signals > 0) throw new OperationCanceledException("interrupted");
        }

        private int _cleaned;
        private void Cleanup()
        {
            if (Interlocked.Exchange(ref _cleaned, 1) == 1) return;
            try { _zk?.StopAll(); } catch (Exception ex) { Log("stop failed: " + ex.Message); }
            try { if (_work != null && Directory.Exists(_work)) Directory.Delete(_work, true); } catch (Exception ex) { Log("cleanup of " + _work + " failed: " + ex.Message); }
            Log("ensemble stopped by PID, " + _work + " deleted");
        }

        /// <summary>/zkbench/dNNN/kNNNNNNN: --znodes leaves under 1000-child parents, written to the leader in one pipelined session.</summary>
        private void Load()
        {
            string leaderAddr = _zk.WaitAllServing(TimeSpan.FromSeconds(30), 200);
            var paths = new List<string>(_o.Znodes + _o.Znodes / 1000 + 2) { "/zkbench" };
            for (int i = 0; i < _o.Znodes; i++)
            {
                if (i % 1000 == 0) paths.Add($"/zkbench/d{i / 1000:D4}");
                paths.Add($"/zkbench/d{i / 1000:D4}/k{i:D7}");
            }
            var payload = new byte[_o.PayloadBytes];
            var rnd = new Random(42);
            var sw = Stopwatch.StartNew();
            long created;
            ZkClient.TryParseAddress(leaderAddr, out var host, out var port);
            using (var wire = new ZkWire(host, port))
                created = wire.CreateMany(paths, i => { rnd.NextBytes(payload); return payload; }, _o.Window,
                    n => Log($"  {n} of {paths.Count} created"));
            double loadS = sw.Elapsed.TotalSeconds;
            _loaded = Ensemble.MntrZnodeCount(leaderAddr);
            // The followers apply the same transactions; wait until each holds them too.
            var wait = Stopwatch.StartNew();
            foreach (var m in _zk.Members)
                while (Ensemble.MntrZnodeCount(m.ClientAddress) < _loaded)
                {
                    if (wait.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"{m.Name} did not reach {_loaded} znodes");
                    Thread.Sleep(200);
                }
            if (_loaded < _o.Znodes) throw new InvalidOperationException($"mntr counts {_loaded} znodes, fewer than --znodes {_o.Znodes}");
            _loadLine = $"{created} znodes created ({_o.Znodes} leaves of {_o.PayloadBytes} random bytes under {paths.Count - _o.Znodes} parents) in {loadS:0.0} s " +
                $"({created / loadS:0} creates/s, one session, {_o.Window} in flight); mntr zk_znode_count = {_loaded} on every node";
            Log(_loadLine);
        }

        /// <summary>Every node serving with one leader and holding the loaded znodes, then a short pause.</summary>
        private void Settle()
        {
            CheckInterrupted();
            _zk.WaitAllServing(TimeSpan.FromSeconds(60), 200);
            Thread.Sleep(1000);
        }

        private Run Begin(string phase, string who, int round, int order, string node)
        {
            var run = new Run { Phase = phase, Who = who, Round = round, Order = order, Node = node, LoadBefore = Machine.Load(Machine.Uptime()) };
            return run;
        }

        private void End(Run run)
        {
            run.LoadAfter = Machine.Load(Machine.Uptime());
            _runs.Add(run);
            Log($"  {run.Phase} {run.Who}: {string.Join(", ", run.Ms.Select(kv => $"{kv.Key} {kv.Value:0} ms"))} {run.Note} (load {run.LoadBefore} -> {run.LoadAfter})");
        }

        private static ZkMemberSpec Copy(ZkMemberSpec m) => new ZkMemberSpec
        {
            Id = m.Id, Name = m.Name, Node = "localhost", ClientAddress = m.ClientAddress, DataDir = m.DataDir,
            StartCommand = m.StartCommand, StopCommand = m.StopCommand,
        };

        private string BackupOurs(int round, int order, ZkMemberSpec node, IOperationContext ctx = null)
        {
            var run = Begin("backup", "ours", round, order, node.Name);
            (ctx as TimingContext)?.Reset();
            var clock = Stopwatch.StartNew();
            ClusterBackup backup;
            double watchWindow;
            using (var watch = new ServeWatcher(node.ClientAddress, clock, _o.WatchMs))
            {
                backup = ZkBackup.Run(new ZkBackupRequest
                {
                    Member = Copy(node), Servers = _zk.Servers, Directory = _archives, Label = "r" + round, Cluster = "zkbench",
                }, ctx ?? SilentContext.Instance);
                run.Ms["call"] = clock.Elapsed.TotalMilliseconds;
                WaitWatcher(watch);
                watchWindow = watch.WindowMs;
            }
            run.Ms["downtimeMs fact"] = double.Parse((string)backup.Facts["downtimeMs"], CultureInfo.InvariantCulture);
            run.Ms["srvr down->serving"] = watchWindow;
            run.Note = $"archive {backup.SizeBytes / 1024.0 / 1024:0.0} MiB, znodeCount fact {backup.Facts["znodeCount"]}";
            End(run);
            return backup.Path;
        }

        private static void WaitWatcher(ServeWatcher watch)
        {
            var sw = Stopwatch.StartNew();
            while (double.IsNaN(watch.WindowMs) && sw.ElapsedMilliseconds < 5000) Thread.Sleep(10);
        }

        private string BackupManual(int round, int order, ZkMemberSpec node)
        {
            string nodeDir = _zk.NodeDir(node);
            string tar = Path.Combine(_tars, $"{node.Name}-r{round}.tar.gz");
            var run = Begin("backup", "manual", round, order, node.Name);
            var clock = Stopwatch.StartNew();
            double watchWindow;
            using (var watch = new ServeWatcher(node.ClientAddress, clock, _o.WatchMs))
            {
                Sh("sh " + Q(Path.Combine(nodeDir, "stop.sh")));
                run.Ms["stop"] = clock.Elapsed.TotalMilliseconds;
                Sh($"tar -C {Q(node.DataDir)} -czf {Q(tar)} version-2");
                run.Ms["tar"] = clock.Elapsed.TotalMilliseconds - run.Ms["stop"];
                Sh("sh " + Q(Path.Combine(nodeDir, "start.sh")));
                while (!Ensemble.Srvr(node.ClientAddress).Serving)
                {
                    if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"{node.Name} did not serve again after the manual backup\n{_zk.Logs()}");
                    Thread.Sleep(_o.PollMs);
                }
                run.Ms["stop->serving"] = clock.Elapsed.TotalMilliseconds;
                WaitWatcher(watch);
                watchWindow = watch.WindowMs;
            }
            run.Ms["srvr down->serving"] = watchWindow;
            run.Note = $"tar.gz {new FileInfo(tar).Length / 1024.0 / 1024:0.0} MiB";
            End(run);
            return tar;
        }

        private void RestoreOurs(int round, int order, string archive, IOperationContext ctx = null)
        {
            var run = Begin("restore", "ours", round, order, "all");
            (ctx as TimingContext)?.Reset();
            var clock = Stopwatch.StartNew();
            var result = ZkRestore.Run(new ZkRestoreRequest { BackupPath = archive, Members = _zk.Members.Select(Copy).ToList(), Force = true }, ctx ?? SilentContext.Instance);
            run.Ms["call->serving"] = clock.Elapsed.TotalMilliseconds;
            if (result == null) throw new InvalidOperationException("ZkRestore.Run returned null (a step was declined)");
            bool allServing = _zk.AllServingOneLeader(out _);
            run.Note = CheckCount() + (allServing ? "" : "; NOT all serving right after the call");
            End(run);
            DeleteAside("data.clusterdr-");
            WriteMarker();
        }

        private void RestoreManual(int round, int order, string tar)
        {
            var run = Begin("restore", "manual", round, order, "all");
            var clock = Stopwatch.StartNew();
            Sh(string.Join("; ", _zk.Members.Select(m => "sh " + Q(Path.Combine(_zk.NodeDir(m), "stop.sh")))));
            run.Ms["stop all"] = clock.Elapsed.TotalMilliseconds;
            var sb = new StringBuilder("set -e; ");
            foreach (var m in _zk.Members)
            {
                string d = m.DataDir.TrimEnd('/');
                sb.Append($"mv {Q(d)} {Q(d + ".manual-r" + round)}; mkdir {Q(d)}; tar -C {Q(d)} -xzf {Q(tar)}; echo {m.Id} > {Q(d + "/myid")}; ");
            }
            Sh(sb.ToString());
            run.Ms["move+untar"] = clock.Elapsed.TotalMilliseconds - run.Ms["stop all"];
            Sh(string.Join("; ", _zk.Members.Select(m => "sh " + Q(Path.Combine(_zk.NodeDir(m), "start.sh")))));
            while (!_zk.AllServingOneLeader(out _))
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"the manual restore did not serve with one leader\n{_zk.Logs()}");
                Thread.Sleep(_o.PollMs);
            }
            run.Ms["stop->serving"] = clock.Elapsed.TotalMilliseconds;
            run.Note = CheckCount();
            End(run);
            DeleteAside("data.manual-");
            WriteMarker();
        }

        /// <summary>
        /// One create through the leader after a restore, outside the timed part: the restore made a new
        /// leader epoch, and this gives it a transaction, as any client session would on a live ensemble.
        /// ZkBackup's catch-up check accepts a follower at the last txn of epoch E-1 when the leader is at
        /// E:0, but not one epochs further back, which is what several restores without writes produce.
        /// </summary>
        private void WriteMarker()
        {
            if (!_o.WriteAfterRestore) return;
            string leader = _zk.WaitAllServing(TimeSpan.FromSeconds(60), 200);
            ZkClient.TryParseAddress(leader, out var host, out var port);
            using (var wire = new ZkWire(host, port))
                wire.CreateMany(new[] { "/zkbench-marker-" + (++_markers).ToString(CultureInfo.InvariantCulture) }, i => new byte[1], 1);
        }

        private int _markers;

        /// <summary>Every node must hold at least the loaded znodes again.</summary>
        private string CheckCount()
        {
            var counts = _zk.Members.Select(m => Ensemble.MntrZnodeCount(m.ClientAddress)).ToList();
            if (counts.Any(c => c < _loaded))
                throw new InvalidOperationException($"After the restore the nodes hold {string.Join("/", counts)} znodes, fewer than the {_loaded} loaded.");
            return $"znodes {string.Join("/", counts)} (>= {_loaded})";
        }

        private void DeleteAside(string prefix)
        {
            foreach (var m in _zk.Members)
                foreach (var e in new DirectoryInfo(_zk.NodeDir(m)).GetFileSystemInfos(prefix + "*"))
                {
                    if (e is DirectoryInfo d) d.Delete(true); else e.Delete();
                }
        }

        /// <summary>One more backup and restore (not in the table) with a context that timestamps each engine step.</summary>
        private void BreakdownRuns()
        {
            Settle();
            var follower = _zk.Follower();
            var bctx = new TimingContext();
            string archive = BackupOurs(0, 1, follower, bctx);
            double bEnd = _runs.Last().Ms["call"];
            _runs.RemoveAt(_runs.Count - 1);
            _notes.Add(Report.Steps("Backup-ZkState (ZkBackup.Run) step by step, extra untimed run", bctx.Marks, bEnd));
            Settle();
            var rctx = new TimingContext();
            RestoreOurs(0, 2, archive, rctx);
            double rEnd = _runs.Last().Ms["call->serving"];
            _runs.RemoveAt(_runs.Count - 1);
            _notes.Add(Report.Steps("Restore-ZkState (ZkRestore.Run -Force) step by step, extra untimed run", rctx.Marks, rEnd));
            File.Delete(archive);
        }

        private static string Q(string s) => "'" + s.Replace("'", "'\\''") + "'";

        private static void Sh(string script)
        {
            var psi = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardError = true };
            psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(script);
            using (var p = Process.Start(psi))
            {
                string err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) throw new InvalidOperationException($"sh -c \"{script}\" failed ({p.ExitCode}): {err}");
            }
        }
    }
}
