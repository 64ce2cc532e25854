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
using ClusterDR.Bench.Common;
using ClusterDR.Safety;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Bench
{
    /// <summary>One measured run of one side: the process tree's cost, named timings in seconds, the load before and after.</summary>
    public sealed class Run
    {
        public string Set, Phase, Who;
        public int Round, Order;
        public string Node;
        public string LoadBefore, LoadAfter;
        public Measurement M;
        /// <summary>ours only: the pwsh run with its split (pwsh start, import, cmdlet, exit).</summary>
        public ScriptRun Script;
        public Dictionary<string, double> S = new Dictionary<string, double>();
        public long ArchiveBytes = -1;
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

    /// <summary>What one data set produced, for the report.</summary>
    public sealed class SetResult
    {
        public string Name, Heap, LoadLine;
        public ZnodeSet Set;
        public long Loaded;
        public int Rounds, Warmup;
        public List<Run> Runs = new List<Run>();
        public List<string> Notes = new List<string>();
        public string StartUptime, EndUptime;
    }

    public sealed class Bench
    {
        // JVMs that start.sh leaves running: never counted as the command's memory.
        private static readonly string[] Servers = { "java" };
        private readonly Options _o;
        private readonly List<SetResult> _results = new List<SetResult>();
        private SetResult _cur;
        private Ensemble _zk;
        private Pwsh _pwsh;
        private StartupCost _startup;
        private string _work, _archives, _tars, _specs, _scripts, _repo;
        private long _loaded;
        private volatile int _signals;
        private readonly CancellationTokenSource _cts = new CancellationTokenSource();

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
                _repo = Pwsh.RepoRoot();
                _pwsh = Pwsh.Find(_repo, _o.Pwsh, _o.Module);
                _scripts = Path.Combine(AppContext.BaseDirectory, "scripts");
                Directory.CreateDirectory(_work);
                _archives = Path.Combine(_work, "archives"); Directory.CreateDirectory(_archives);
                _tars = Path.Combine(_work, "tars"); Directory.CreateDirectory(_tars);
                _specs = Path.Combine(_work, "specs");
                Log($"nice {Machine.Nice()}; {Machine.Uptime()}; pwsh: {_pwsh.Description}; module {_pwsh.ModuleManifest}");
                _startup = _pwsh.MeasureStartup(Path.Combine(_work, "startup"), 3, _cts.Token);
                Log($"pwsh start + Import-Module: {_startup.MedianWallS:0.00} s, idle VmRSS {_startup.MedianIdleRssKb / 1024:0} MB");
                foreach (var mode in _o.Modes)
                {
                    CheckInterrupted();
                    RunSet(script, mode);
                }
                string report = Report.Build(_o, _pwsh, _startup, _results) + RehearsalReport();
                Console.WriteLine(report);
                if (_o.Report != null) File.WriteAllText(_o.Report, report);
                return 0;
            }
            catch (Exception ex)
            {
                Log("FAILED: " + ex);
                if (_zk != null) Log(_zk.Logs());
                if (_results.Count > 0 && _o.Report != null)
                {
                    // What was measured before the failure is still worth reading.
                    File.WriteAllText(_o.Report, Report.Build(_o, _pwsh, _startup, _results) + "\n\n**FAILED:** " + ex.Message.Replace("\n", " ") + "\n");
                    Log("partial report in " + _o.Report);
                }
                return 1;
            }
            finally
            {
                Cleanup();
            }
        }

        private string RehearsalReport()
        {
            if (Rehearsals.Count == 0) return "";
            var sb = new System.Text.StringBuilder();
            sb.Append("\n### Rehearsal of each round's archive (issue #15 item 5)\n\n");
            sb.Append("Ours: `pwsh -File` running `Test-ClusterBackup -Rehearse` (verify while extracting, a standalone ZooKeeperServerMain on loopback, srvr: zxid and znode count against the manifest, stop, delete). ");
            sb.Append("By hand (scripts/manual-rehearse.sh): `tar --zstd -x` of version-2, a standalone zoo.cfg, ZooKeeperServerMain, poll `srvr` every 0.1 s, read Zxid and Node count, stop, delete. Median of the rounds.\n\n");
            sb.Append("| data set | ours, wall s | inside the cmdlet s | by hand, wall s | ours ÷ by hand |\n|---|---|---|---|---|\n");
            foreach (var g in Rehearsals.GroupBy(x => x.Mode))
            {
                double o = Stats.Median(g.Where(x => x.Ours).Select(x => x.M.WallS)), h = Stats.Median(g.Where(x => !x.Ours).Select(x => x.M.WallS));
                double i = Stats.Median(g.Where(x => x.Ours && !double.IsNaN(x.InnerS)).Select(x => x.InnerS));
                sb.Append($"| {g.Key} | {o:0.00} | {i:0.00} | {h:0.00} | **{o / h:0.00}** |\n");
            }
            return sb.ToString();
        }

        /// <summary>One data set on a fresh ensemble: load, warm-up, rounds (ours and manual alternating), breakdown.</summary>
        private void RunSet(string script, string mode)
        {
            bool scale = mode == "scale";
            var set = mode == "cluster" ? ZnodeSet.Cluster(_o.Znodes)
                : mode == "random" ? ZnodeSet.Random(_o.Znodes, _o.PayloadBytes)
                : ZnodeSet.Random(_o.ScaleZnodes, _o.ScalePayloadBytes);
            set.Name = mode;
            set.Measure();
            _cur = new SetResult
            {
                Name = mode, Set = set, Heap = scale ? _o.ScaleHeap : _o.Heap, Rounds = scale ? _o.ScaleRounds : _o.Rounds,
                Warmup = scale ? 0 : _o.Warmup, StartUptime = Machine.Uptime(),
            };
            _results.Add(_cur);
            int basePort = Ensemble.FreeBasePort(_o.BasePort, 3);
            var sw = Stopwatch.StartNew();
            _zk = Ensemble.Start(script, Path.Combine(_work, "ensemble-" + mode), 3, basePort, _cur.Heap);
            try
            {
                _zk.WaitAllServing(TimeSpan.FromSeconds(90), 200);
                Log($"[{mode}] 3 nodes serving in {sw.Elapsed.TotalSeconds:0.0} s ({string.Join(", ", _zk.Servers)}, -Xmx{_cur.Heap})");
                Load(set);
                for (int w = 1; w <= _cur.Warmup; w++)
                {
                    Log($"[{mode}] warm-up {w}/{_cur.Warmup} (not measured)");
                    var follower = _zk.Follower();
                    Settle(); string a = BackupOurs(-w, 1, follower);
                    Settle(); string t = BackupManual(-w, 2, follower);
                    Settle(); RestoreOurs(-w, 3, a);
                    Settle(); RestoreManual(-w, 4, t);
                    File.Delete(a); File.Delete(t);
                    _cur.Runs.RemoveAll(x => x.Round < 0);
                }
                for (int r = 1; r <= _cur.Rounds; r++)
                {
                    bool oursFirst = r % 2 == 1;
                    var follower = _zk.Follower();
                    Log($"[{mode}] round {r}/{_cur.Rounds}: backups of follower {follower.Name}, {(oursFirst ? "ours" : "manual")} first");
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
                    if (_o.Rehearse)
                        foreach (bool ours in new[] { oursFirst, !oursFirst }) { Settle(); Rehearse(mode, r, ours, archive); }
                    File.Delete(archive); File.Delete(tar);
                }
                if (_o.Breakdown && !scale) BreakdownRuns();
                _cur.EndUptime = Machine.Uptime();
            }
            finally
            {
                var zk = _zk;
                _zk = null;
                zk.StopAll();
                try { Directory.Delete(zk.Dir, true); } catch (IOException ex) { Log("could not delete " + zk.Dir + ": " + ex.Message); }
            }
        }

        private void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            _cts.Cancel();
            Meter.KillCurrent();
            if (Interlocked.Increment(ref _signals) > 1) { Cleanup(); Environment.Exit(130); }
            Log("interrupted: stopping (again to stop at once)");
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

        /// <summary>Writes the data set to the leader in one pipelined session and waits until every node holds it.</summary>
        private void Load(ZnodeSet set)
        {
            string leaderAddr = _zk.WaitAllServing(TimeSpan.FromSeconds(30), 200);
            var sw = Stopwatch.StartNew();
            long created;
            ZkClient.TryParseAddress(leaderAddr, out var host, out var port);
            using (var wire = new ZkWire(host, port))
                created = wire.CreateMany(set.Paths, set.Data, _o.Window, n => { if (n % 100000 < 16384) Log($"  {n} of {set.Paths.Count} created"); });
            double loadS = sw.Elapsed.TotalSeconds;
            _loaded = Ensemble.MntrZnodeCount(leaderAddr);
            var wait = Stopwatch.StartNew();
            foreach (var m in _zk.Members)
                while (Ensemble.MntrZnodeCount(m.ClientAddress) < _loaded)
                {
                    if (wait.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException($"{m.Name} did not reach {_loaded} znodes");
                    Thread.Sleep(200);
                }
            if (_loaded < set.Paths.Count) throw new InvalidOperationException($"mntr counts {_loaded} znodes, fewer than the {set.Paths.Count} written");
            _cur.Loaded = _loaded;
            _cur.LoadLine = $"{set.Description}: {created} znodes, {set.DataBytes / 1048576.0:0.0} MiB of znode data, created in {loadS:0.0} s " +
                $"({created / loadS:0} creates/s, one session, {_o.Window} in flight); mntr zk_znode_count = {_loaded} on every node";
            Log(_cur.LoadLine);
        }

        /// <summary>Every node serving with one leader, then a short pause.</summary>
        private void Settle()
        {
            CheckInterrupted();
            _zk.WaitAllServing(TimeSpan.FromSeconds(90), 200);
            Thread.Sleep(1000);
        }

        private Run Begin(string phase, string who, int round, int order, string node) =>
            new Run { Set = _cur.Name, Phase = phase, Who = who, Round = round, Order = order, Node = node, LoadBefore = Machine.Load(Machine.Uptime()) };

        private void End(Run run)
        {
            run.LoadAfter = Machine.Load(Machine.Uptime());
            _cur.Runs.Add(run);
            Log($"  {run.Phase} {run.Who}: wall {run.M.WallS:0.00} s, cpu {run.M.CpuS:0.00} s, peak {run.M.PeakRssKb / 1024.0:0} MB; " +
                $"{string.Join(", ", run.S.Select(kv => $"{kv.Key} {kv.Value:0.00} s"))} {run.Note} (load {run.LoadBefore} -> {run.LoadAfter})");
        }

        private static Dictionary<string, object> Spec(ZkMemberSpec m) => new Dictionary<string, object>
        {
            ["Id"] = m.Id, ["Name"] = m.Name, ["Node"] = "localhost", ["ClientAddress"] = m.ClientAddress, ["DataDir"] = m.DataDir,
            ["StartCommand"] = m.StartCommand, ["StopCommand"] = m.StopCommand,
        };

        private TimeSpan Timeout => TimeSpan.FromMinutes(_cur.Name == "scale" ? 30 : 10);

        /// <summary>Backup-ZkState through pwsh, as a user runs it.</summary>
        private string BackupOurs(int round, int order, ZkMemberSpec node)
        {
            var run = Begin("backup", "ours", round, order, node.Name);
            var clock = Stopwatch.StartNew();
            ScriptRun sr;
            using (var watch = new ServeWatcher(node.ClientAddress, clock, _o.WatchMs))
            {
                sr = TimedScript.Run(_pwsh, Path.Combine(_scripts, "zk-backup.ps1"), new Dictionary<string, object>
                {
                    ["Member"] = Spec(node), ["Servers"] = _zk.Servers, ["Directory"] = _archives, ["Label"] = "r" + round.ToString(CultureInfo.InvariantCulture).Replace("-", "w"), ["Cluster"] = "zkbench",
                }, _specs, _cts.Token, ignoreComm: Servers, timeout: Timeout);
                WaitWatcher(watch);
                run.S["srvr down->serving"] = watch.WindowMs / 1000;
            }
            run.M = sr.M; run.Script = sr;
            run.S["downtimeMs fact"] = double.Parse(sr.Fact("downtimeMs"), CultureInfo.InvariantCulture) / 1000;
            string path = sr.Str("path");
            run.ArchiveBytes = new FileInfo(path).Length;
            run.Note = $"{Path.GetFileName(path)}, znodeCount fact {sr.Fact("znodeCount")}";
            End(run);
            return path;
        }

        private static void WaitWatcher(ServeWatcher watch)
        {
            var sw = Stopwatch.StartNew();
            while (double.IsNaN(watch.WindowMs) && sw.ElapsedMilliseconds < 5000) Thread.Sleep(10);
        }

        /// <summary>The by-hand backup (scripts/manual-backup.sh): stop, tar -czf version-2, start, poll srvr.</summary>
        private string BackupManual(int round, int order, ZkMemberSpec node)
        {
            string tar = Path.Combine(_tars, $"{node.Name}-r{round}.tar.gz");
            var run = Begin("backup", "manual", round, order, node.Name);
            var clock = Stopwatch.StartNew();
            ManualRun mr;
            using (var watch = new ServeWatcher(node.ClientAddress, clock, _o.WatchMs))
            {
                ZkClient.TryParseAddress(node.ClientAddress, out _, out var port);
                var c = new Command("sh", Path.Combine(_scripts, "manual-backup.sh"), _zk.NodeDir(node), node.DataDir, port.ToString(CultureInfo.InvariantCulture), tar) { Timeout = Timeout };
                mr = TimedScript.Manual(c, _cts.Token, Servers);
                WaitWatcher(watch);
                run.S["srvr down->serving"] = watch.WindowMs / 1000;
            }
            run.M = mr.M;
            run.S["stop"] = mr.Mark("stopped");
            run.S["tar"] = mr.Mark("tarred") - mr.Mark("stopped");
            run.S["stop->serving"] = mr.Mark("serving");
            run.ArchiveBytes = new FileInfo(tar).Length;
            End(run);
            return tar;
        }

        /// <summary>Issue #15 item 5: the rehearsals of each round's archive (--rehearse): ours through pwsh, and by hand.</summary>
        public readonly List<(string Mode, int Round, bool Ours, Measurement M, double InnerS)> Rehearsals = new List<(string, int, bool, Measurement, double)>();

        private void Rehearse(string mode, int round, bool ours, string archive)
        {
            Measurement m;
            double inner = double.NaN;
            if (ours)
            {
                m = Meter.Run(_pwsh.Command(Path.Combine(_scripts, "zk-rehearse.ps1"), "-Path", archive), null, _cts.Token);
                double.TryParse(m.Stdout.Trim().Split('\n').Last(), NumberStyles.Float, CultureInfo.InvariantCulture, out inner);
            }
            else
            {
                var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
                l.Start();
                int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
                l.Stop();
                m = Meter.Run(new Command("sh", Path.Combine(_scripts, "manual-rehearse.sh"), archive, Path.Combine(_work, "manual-rehearsal"), port.ToString(CultureInfo.InvariantCulture)) { Timeout = Timeout }, null, _cts.Token);
            }
            Rehearsals.Add((mode, round, ours, m, inner));
            Log($"[{mode}] round {round}: rehearsal {(ours ? "ours  " : "manual")} {m.WallS:0.00} s");
        }

        /// <summary>Restore-ZkState -Force through pwsh; it returns once all 3 serve with one leader.</summary>
        private void RestoreOurs(int round, int order, string archive)
        {
            var run = Begin("restore", "ours", round, order, "all");
            var sr = TimedScript.Run(_pwsh, Path.Combine(_scripts, "zk-restore.ps1"), new Dictionary<string, object>
            {
                ["Path"] = archive, ["Member"] = _zk.Members.Select(Spec).ToList(),
            }, _specs, _cts.Token, ignoreComm: Servers, timeout: Timeout);
            run.M = sr.M; run.Script = sr;
            run.S["spawn->serving"] = sr.UntilDoneS;
            bool allServing = _zk.AllServingOneLeader(out _);
            run.Note = CheckCount() + (allServing ? "" : "; NOT all serving right after the call");
            End(run);
            DeleteAside("data.clusterdr-");
            WriteMarker();
        }

        /// <summary>The by-hand restore (scripts/manual-restore.sh): stop all, move aside, untar, myid, start all, poll srvr.</summary>
        private void RestoreManual(int round, int order, string tar)
        {
            var run = Begin("restore", "manual", round, order, "all");
            var c = new Command("sh", Path.Combine(_scripts, "manual-restore.sh"), tar, "manual-r" + round.ToString(CultureInfo.InvariantCulture)) { Timeout = Timeout };
            foreach (var m in _zk.Members)
            {
                ZkClient.TryParseAddress(m.ClientAddress, out _, out var port);
                c.Args.AddRange(new[] { _zk.NodeDir(m), m.DataDir.TrimEnd('/'), m.Id.ToString(CultureInfo.InvariantCulture), port.ToString(CultureInfo.InvariantCulture) });
            }
            var mr = TimedScript.Manual(c, _cts.Token, Servers);
            run.M = mr.M;
            run.S["stop all"] = mr.Mark("stopped");
            run.S["move+untar"] = mr.Mark("untarred") - mr.Mark("stopped");
            run.S["spawn->serving"] = mr.Mark("serving");
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
            string leader = _zk.WaitAllServing(TimeSpan.FromSeconds(90), 200);
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

        private static ZkMemberSpec Copy(ZkMemberSpec m) => new ZkMemberSpec
        {
            Id = m.Id, Name = m.Name, Node = "localhost", ClientAddress = m.ClientAddress, DataDir = m.DataDir,
            StartCommand = m.StartCommand, StopCommand = m.StopCommand,
        };

        /// <summary>
        /// One more backup and restore (not in the tables), in this process, calling the engines that the
        /// cmdlets call with a context that timestamps each plan step: where the cmdlet's time goes.
        /// </summary>
        private void BreakdownRuns()
        {
            Settle();
            var follower = _zk.Follower();
            var bctx = new TimingContext();
            var clock = Stopwatch.StartNew();
            var backup = ZkBackup.Run(new ZkBackupRequest
            {
                Member = Copy(follower), Servers = _zk.Servers, Directory = _archives, Label = "steps", Cluster = "zkbench",
            }, bctx);
            _cur.Notes.Add(Report.Steps("Backup-ZkState's engine (ZkBackup.Run, in the bench process) step by step, extra untimed run", bctx.Marks, clock.Elapsed.TotalMilliseconds));
            Settle();
            var rctx = new TimingContext();
            clock.Restart();
            ZkRestore.Run(new ZkRestoreRequest { BackupPath = backup.Path, Members = _zk.Members.Select(Copy).ToList(), Force = true }, rctx);
            _cur.Notes.Add(Report.Steps("Restore-ZkState's engine (ZkRestore.Run -Force, in the bench process) step by step, extra untimed run", rctx.Marks, clock.Elapsed.TotalMilliseconds));
            CheckCount();
            DeleteAside("data.clusterdr-");
            WriteMarker();
            File.Delete(backup.Path);
        }
    }
}
