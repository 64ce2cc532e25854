using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>
    /// ClusterDR's etcd cmdlets run as users run them (`pwsh -File`, end to end) against the by-hand
    /// etcdctl procedures, on real etcd clusters on 127.0.0.1. Modes: --backup, --restore, --parallel, --scale.
    /// See bench/README.md.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            Options o;
            try { o = Options.Parse(args); }
            catch (ArgumentException ex) { Console.Error.WriteLine(ex.Message); Console.Error.WriteLine(Options.Usage); return 2; }
            if (o.Help) { Console.WriteLine(Options.Usage); return 0; }
            using (var run = new BenchRun(o)) return run.Execute();
        }
    }

    public sealed class Options
    {
        public bool Backup, Restore, Parallel, Scale, Stores, Encryption, Rehearsal, Help;
        public int StoresMb = 1024, StoresRounds = 2;
        public int EncryptionMb = 512, EncryptionRounds = 3;
        public int RehearsalMb = 512, RehearsalRounds = 3;
        public int SizeMb = 512, ParallelMb = 128, ScaleMb = (int)(EtcdCluster.QuotaBytes >> 20) - 128;
        public int Rounds = 3, RestoreRounds = 3, ParallelRounds = 3, ScaleRounds = 1, Warmup = 1, StartupRounds = 5;
        public int Writers = 2, ScaleWriters = 4;
        public List<string> DataSets = DataSetsList.All.ToList();
        public List<string> Variants = new List<string>();
        public string Report, WorkDir = Path.GetTempPath(), ClusterScript, Pwsh, Module;
        public int BasePort = 42380;

        public const string Usage =
@"EtcdBench: ClusterDR's etcd cmdlets through `pwsh -File` vs the by-hand etcdctl procedures, on throwaway etcd clusters on 127.0.0.1.
  nice -n 10 dotnet run -c Release --project bench/EtcdBench -- [modes] [options]     (needs ./build.sh build first)
modes (default: --backup --restore --parallel):
  --backup             Backup-EtcdSnapshot (defaults) vs etcdctl snapshot save [&& gzip -1 | && zstd -1], per data set
  --restore            Restore-EtcdSnapshot on a 3-member cluster vs a shell script of the documented procedure
  --parallel           5 clusters: one backup alone, 5 sequential, 5 with ForEach-Object -Parallel -ThrottleLimit 5
  --stores             Backup-EtcdSnapshot into local disk, S3 (radosgw) and Azure Blob (Azurite) vs etcdctl && s3cmd put / curl Put Blob
  --stores-mb N        database size for --stores (default 1024); --stores-rounds N (default 2)
  --encryption         Backup-EtcdSnapshot plain, -Recipient and -Passphrase vs etcdctl snapshot save [&& age -r], per data set
  --encryption-mb N    database size for --encryption (default 512); --encryption-rounds N (default 3)
  --rehearsal          Test-ClusterBackup -Rehearse vs etcdutl restore, start etcd, health, count keys by hand, per data set
  --rehearsal-mb N     database size for --rehearsal (default 512); --rehearsal-rounds N (default 3)
  --scale              one etcd filled to its 8 GiB quota: backup and single-member restore, pwsh's own memory apart
options:
  --size-mb N          database size for --backup and --restore (default 512)
  --data-sets A[,B]    cluster-like, incompressible (default both; --restore uses cluster-like)
  --parallel-mb N      database size of each of the 5 clusters (default 128)
  --scale-mb N         database size for --scale (default 8064: the 8 GiB quota minus 128 MiB)
  --rounds N           timed rounds per tool for --backup (default 3); --restore-rounds, --parallel-rounds (3), --scale-rounds (1)
  --warmup N           untimed runs per tool before timing (default 1; --scale: none)
  --startup-rounds N   runs of `pwsh -File` that only imports the module (default 5)
  --variant LEVEL      also Backup-EtcdSnapshot -CompressionLevel LEVEL (repeatable; named rows, never the default row)
  --writers N          concurrent fill transactions (default 2; --scale-writers 4)
  --report FILE        also write the markdown report to FILE
  --work-dir DIR       where clusters and backups go (default $TMPDIR or /tmp; --scale needs ~5x --scale-mb free)
  --base-port N        first port to try (default 42380; moved up when taken)
  --pwsh PATH          pwsh to run (default: out/tools' PowerShell as `dotnet pwsh.dll`, else pwsh on PATH)
  --module PSD1        module manifest (default out/ClusterDR/ClusterDR.psd1)
  --cluster-script F   tests/tools/etcd-cluster.sh (default: in this repository)
The by-hand runs and the cmdlets use the etcdctl, gzip and zstd on PATH.";

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
                int NextInt(int min)
                {
                    string v = Next();
                    if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min) throw new ArgumentException($"{a}: '{v}' is not a whole number >= {min}.");
                    return n;
                }
                switch (a)
                {
                    case "--backup": o.Backup = true; break;
                    case "--restore": o.Restore = true; break;
                    case "--parallel": o.Parallel = true; break;
                    case "--scale": o.Scale = true; break;
                    case "--stores": o.Stores = true; break;
                    case "--encryption": o.Encryption = true; break;
                    case "--encryption-mb": o.EncryptionMb = NextInt(1); break;
                    case "--encryption-rounds": o.EncryptionRounds = NextInt(1); break;
                    case "--rehearsal": o.Rehearsal = true; break;
                    case "--rehearsal-mb": o.RehearsalMb = NextInt(1); break;
                    case "--rehearsal-rounds": o.RehearsalRounds = NextInt(1); break;
                    case "--stores-mb": o.StoresMb = NextInt(1); break;
                    case "--stores-rounds": o.StoresRounds = NextInt(1); break;
                    case "--size-mb": o.SizeMb = NextInt(1); break;
                    case "--parallel-mb": o.ParallelMb = NextInt(1); break;
                    case "--scale-mb": o.ScaleMb = NextInt(1); break;
                    case "--data-sets":
                        o.DataSets = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => DataSetsList.All.Contains(s) ? s : throw new ArgumentException($"--data-sets: unknown '{s}' ({string.Join(", ", DataSetsList.All)}).")).ToList();
                        break;
                    case "--rounds": o.Rounds = NextInt(1); break;
                    case "--restore-rounds": o.RestoreRounds = NextInt(1); break;
                    case "--parallel-rounds": o.ParallelRounds = NextInt(1); break;
                    case "--scale-rounds": o.ScaleRounds = NextInt(1); break;
                    case "--warmup": o.Warmup = NextInt(0); break;
                    case "--startup-rounds": o.StartupRounds = NextInt(1); break;
                    case "--variant": o.Variants.Add(Next()); break;
                    case "--writers": o.Writers = NextInt(1); break;
                    case "--scale-writers": o.ScaleWriters = NextInt(1); break;
                    case "--report": o.Report = Next(); break;
                    case "--work-dir": o.WorkDir = Next(); break;
                    case "--base-port": o.BasePort = NextInt(1024); break;
                    case "--pwsh": o.Pwsh = Next(); break;
                    case "--module": o.Module = Next(); break;
                    case "--cluster-script": o.ClusterScript = Next(); break;
                    case "-h": case "--help": o.Help = true; break;
                    default: throw new ArgumentException($"Unknown option '{a}'.");
                }
            }
            if (!(o.Backup || o.Restore || o.Parallel || o.Scale || o.Stores || o.Encryption || o.Rehearsal)) o.Backup = o.Restore = o.Parallel = true;
            if ((long)o.ScaleMb << 20 >= EtcdCluster.QuotaBytes) throw new ArgumentException("--scale-mb must stay under the 8 GiB quota (etcd raises NOSPACE at it).");
            return o;
        }

        public string Modes => string.Join(" ", new[] { (Backup, "--backup"), (Restore, "--restore"), (Parallel, "--parallel"), (Scale, "--scale"), (Stores, "--stores"), (Encryption, "--encryption"), (Rehearsal, "--rehearsal") }.Where(x => x.Item1).Select(x => x.Item2));
    }

    public static class DataSetsList { public static readonly string[] All = Common.DataSets.Names; }

    /// <summary>What every mode shares: the work dir, pwsh, the clusters to stop, the log, cancellation, the report.</summary>
    public sealed class BenchRun : IDisposable
    {
        public readonly Options O;
        public readonly CancellationTokenSource Cts = new CancellationTokenSource();
        public CancellationToken Ct => Cts.Token;
        public string Root, RepoRoot, Script;
        public Pwsh Pwsh;
        public StartupCost Startup;
        private readonly List<EtcdCluster> _clusters = new List<EtcdCluster>();
        private readonly List<PosixSignalRegistration> _signals = new List<PosixSignalRegistration>();
        private int _signalCount, _cleaned, _nextPort;
        public readonly StringBuilder Md = new StringBuilder();
        /// <summary>The cluster-like backup mode's snapshot and archive, handed to the restore mode when both run.</summary>
        public RestoreInput RestoreInput;

        public BenchRun(Options o) { O = o; }

        public static void Log(string s) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {s}");

        public int Execute()
        {
            // First Ctrl+C / SIGTERM cancels (finally stops every etcd and deletes the work dir); a second cleans up at once.
            foreach (var s in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }) _signals.Add(PosixSignalRegistration.Create(s, OnSignal));
            int rc = 0;
            try
            {
                RepoRoot = Common.Pwsh.RepoRoot();
                Script = EtcdCluster.FindScript(RepoRoot, O.ClusterScript);
                Pwsh = Common.Pwsh.Find(RepoRoot, O.Pwsh, O.Module);
                Root = Path.Combine(Path.GetFullPath(O.WorkDir), $"etcdbench-{Environment.ProcessId}");
                Directory.CreateDirectory(Root);
                _nextPort = O.BasePort;
                // Every etcd started from here on (by etcd-cluster.sh, a cmdlet or a script) reads it.
                Environment.SetEnvironmentVariable("ETCD_QUOTA_BACKEND_BYTES", EtcdCluster.QuotaBytes.ToString(CultureInfo.InvariantCulture));
                Environment.SetEnvironmentVariable("ETCDCTL_API", "3");
                Log($"modes {O.Modes}; work dir {Root}; pwsh {Pwsh.Description}; module {Pwsh.ModuleManifest}; load {Proc.LoadAvg()}; nice {Proc.Nice()}");
                Header();
                Log($"pwsh start + Import-Module ClusterDR, {O.StartupRounds} rounds");
                Startup = Pwsh.MeasureStartup(Path.Combine(Root, "scripts"), O.StartupRounds, Ct);
                Md.Append(Report.StartupSection(Startup)).Append('\n');
                Flush();
                if (O.Backup) Section("backup", () => new BackupBench(this).Run());
                if (O.Restore) Section("restore", () => new RestoreBench(this).Run());
                if (O.Parallel) Section("parallel", () => new ParallelBench(this).Run());
                if (O.Scale) Section("scale", () => new ScaleBench(this).Run());
                if (O.Stores) Section("stores", () => new StoresBench(this).Run());
                if (O.Encryption) Section("encryption", () => new EncryptionBench(this).Run());
                if (O.Rehearsal) Section("rehearsal", () => new RehearsalBench(this).Run());
                Md.Append($"\n_load average at the end: `{Proc.LoadAvg()}`_\n");
            }
            catch (OperationCanceledException) when (Ct.IsCancellationRequested) { Log("cancelled"); Md.Append("\n**Cancelled.**\n"); rc = 130; }
            catch (Exception ex) { Log("failed: " + ex); Md.Append("\n**Failed:** `" + ex.Message.Replace("\n", " ") + "`\n"); rc = 1; }
            finally
            {
                Cleanup();
                Console.WriteLine(Md.ToString());
                Flush();
            }
            return rc;
        }

        /// <summary>A mode that fails is reported as failed and the next mode still runs (cancellation stops all).</summary>
        private void Section(string name, Func<string> body)
        {
            Log($"== {name}");
            try { Md.Append(body()).Append('\n'); }
            catch (OperationCanceledException) when (Ct.IsCancellationRequested) { throw; }
            catch (Exception ex)
            {
                Log($"{name} failed: {ex}");
                Md.Append($"\n## {name}: FAILED\n\n```\n{ex.Message.Trim()}\n```\n\n");
            }
            Flush();
        }

        private void Flush()
        {
            if (O.Report != null) File.WriteAllText(O.Report, Md.ToString());
        }

        private void Header()
        {
            Md.Append("# etcd: ClusterDR cmdlets through pwsh vs by hand\n\n");
            Md.Append($"- when: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; `EtcdBench {O.Modes}` (--size-mb {O.SizeMb}, --parallel-mb {O.ParallelMb}{(O.Scale ? ", --scale-mb " + O.ScaleMb : "")})\n");
            Md.Append($"- machine: {Environment.ProcessorCount} cores, {MemTotalGb():0} GB RAM, {RuntimeInformation.OSDescription}; load average at the start `{Proc.LoadAvg()}`; bench niceness {Proc.Nice()} (everything it starts inherits it)\n");
            Md.Append($"- etcd {Version("etcd", "--version")}, etcdctl {Version("etcdctl", "version")}, quota {EtcdCluster.QuotaBytes >> 30} GiB (ETCD_QUOTA_BACKEND_BYTES)\n");
            Md.Append($"- pwsh: `{Pwsh.Description} -NoProfile -NonInteractive -File SCRIPT` (PowerShell {Version(Pwsh.File, Pwsh.Prefix.Concat(new[] { "-NoProfile", "-Command", "$PSVersionTable.PSVersion.ToString()" }).ToArray())}); module `{Pwsh.ModuleManifest}` ({ModuleVersion()})\n");
            Md.Append("- measured per run (bench/BenchCommon): wall = Stopwatch around the process; CPU = user+sys of the whole process tree (wait4 via /usr/bin/time); peak RSS = the larger of the largest process's high-water mark (ru_maxrss) and the highest sampled sum of the tree's RSS (every 20 ms; etcd servers left out); etcd CPU = the servers' CPU during the run; others = the rest of the machine's busy CPU (other users)\n\n");
        }

        private string ModuleVersion()
        {
            try { var l = File.ReadLines(Pwsh.ModuleManifest).FirstOrDefault(x => x.Contains("ModuleVersion")); return l?.Trim() ?? "?"; }
            catch (IOException) { return "?"; }
        }

        /// <summary>The first line a program prints for its version (stdout or stderr).</summary>
        public static string Version(string exe, params string[] args)
        {
            try
            {
                var m = Meter.Run(new Command(exe, args) { Check = false, Timeout = TimeSpan.FromSeconds(60) });
                return (m.Stdout + "\n" + m.Stderr).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "?";
            }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { return "? (" + ex.Message + ")"; }
        }

        private static double MemTotalGb() => Proc.StatusKb("/proc/meminfo", "MemTotal") / 1048576.0;

        /// <summary>A new cluster, registered so that it is stopped (by PID) whatever happens.</summary>
        public EtcdCluster StartCluster(string name, int size)
        {
            int port = EtcdCluster.FreeBasePort(_nextPort, size);
            _nextPort = port + 2 * size + 4;
            var c = EtcdCluster.Start(Script, Path.Combine(Root, name), size, port, Log, Ct);
            lock (_clusters) _clusters.Add(c);
            return c;
        }

        public void StopCluster(EtcdCluster c)
        {
            c.Dispose();
            try { Directory.Delete(c.Dir, true); } catch (IOException ex) { Log($"could not remove {c.Dir}: {ex.Message}"); }
        }

        public string ScriptDir => Path.Combine(Root, "scripts");

        private void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            if (Interlocked.Increment(ref _signalCount) == 1)
            {
                Log($"{c.Signal}: stopping (again to force)");
                Cts.Cancel();
                Meter.KillCurrent();
                return;
            }
            Cleanup();
            Environment.Exit(130);
        }

        private void Cleanup()
        {
            if (Interlocked.Exchange(ref _cleaned, 1) != 0) return;
            Meter.KillCurrent();
            List<EtcdCluster> all;
            lock (_clusters) all = _clusters.ToList();
            foreach (var c in all) { Log($"stopping etcd in {c.Dir}"); c.Dispose(); }
            if (Root != null && Directory.Exists(Root))
            {
                try { Directory.Delete(Root, true); Log("removed " + Root); }
                catch (Exception ex) { Log($"could not remove {Root}: {ex.Message}"); }
            }
        }

        public void Dispose()
        {
            Cleanup();
            foreach (var s in _signals) s.Dispose();
        }
    }

    /// <summary>A snapshot file (etcdctl) and an archive (Backup-EtcdSnapshot) of the same revision.</summary>
    public sealed class RestoreInput
    {
        public string Snapshot, Archive, Prefix;
        public long Revision, Keys, DbSize;
    }
}
