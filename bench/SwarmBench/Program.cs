using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using ClusterDR.Bench.Common;

// SwarmBench: Backup-SwarmManager and Restore-SwarmManager as users run them (pwsh -File, end to end)
// against the documented by-hand procedure (scripts/manual-*.sh), on one real dockerd in a loopback-only
// network namespace (tests/tools/swarm-node.sh), per data set (cluster-like, incompressible). Run as root.
// See bench/SWARM.md or --help.
namespace ClusterDR.Bench
{
    public sealed class Options
    {
        public List<string> Modes = new List<string> { "cluster", "random" };
        public int Rounds = 3, Warmup = 1;
        public int Services = 40, Secrets = 40, Configs = 40, Networks = 8, Updates = 2, Replicas = 0;
        public int RandomObjects = 20, RandomKb = 400, RandomServices = 5;
        public string Pwsh, Module, Report, WorkDir = Path.GetTempPath();
        public bool Rehearse;
        public bool Help;

        public const string Usage =
@"SwarmBench: Backup-SwarmManager / Restore-SwarmManager through pwsh (pwsh -NoProfile -NonInteractive -File, end to
end) vs the documented by-hand procedure, on one dockerd in its own network namespace. As root:
  nice -n 10 dotnet run -c Release --project bench/SwarmBench -- [options]
  --mode LIST        data sets, comma-separated, each on a fresh dockerd (default cluster,random):
                     cluster  services with env/labels/limits on overlay networks, secrets (passwords, PEM keys,
                              tokens), configs (nginx/app/prometheus text), every service updated --updates times
                     random   --random-objects configs and as many secrets of --random-kb KiB of random bytes
  --rounds N         measured rounds, ours and manual alternating which goes first (default 3)
  --warmup N         untimed rounds first (default 1)
  --services N --secrets N --configs N --networks N --updates N --replicas N
                     the cluster set (default 40 40 40 8 2 0; replicas > 0 runs busybox containers)
  --random-objects N --random-kb K --random-services N
                     the random set (default 20 400 5; swarm refuses configs/secrets of 500 KiB or more)
  --pwsh FILE        the pwsh to run (default: out/tools/pwsh's pwsh.dll under dotnet, else pwsh on PATH)
  --module PSD1      the module manifest (default out/ClusterDR/ClusterDR.psd1: ./build.sh build first)
  --work-dir DIR     where dockerd's roots and the archives go (default $TMPDIR or /tmp)
  --report FILE      also write the markdown report to FILE";

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
                int N(int min)
                {
                    string v = Next();
                    if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min) throw new ArgumentException($"{a}: '{v}' is not a whole number >= {min}.");
                    return n;
                }
                switch (a)
                {
                    case "--mode":
                        o.Modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
                        foreach (var m in o.Modes) if (m != "cluster" && m != "random") throw new ArgumentException($"--mode: '{m}' is not cluster or random.");
                        break;
                    case "--rounds": o.Rounds = N(1); break;
                    case "--warmup": o.Warmup = N(0); break;
                    case "--services": o.Services = N(1); break;
                    case "--secrets": o.Secrets = N(0); break;
                    case "--configs": o.Configs = N(0); break;
                    case "--networks": o.Networks = N(1); break;
                    case "--updates": o.Updates = N(0); break;
                    case "--replicas": o.Replicas = N(0); break;
                    case "--random-objects": o.RandomObjects = N(1); break;
                    case "--random-kb": o.RandomKb = N(1); if (o.RandomKb >= 500) throw new ArgumentException("--random-kb must be below 500 (swarm's limit)."); break;
                    case "--random-services": o.RandomServices = N(1); break;
                    case "--pwsh": o.Pwsh = Next(); break;
                    case "--module": o.Module = Next(); break;
                    case "--work-dir": o.WorkDir = Next(); break;
                    case "--report": o.Report = Next(); break;
                    case "--rehearse": o.Rehearse = true; break;
                    case "-h": case "--help": o.Help = true; break;
                    default: throw new ArgumentException($"Unknown option '{a}'.");
                }
            }
            return o;
        }
    }

    public static class Program
    {
        public static int Main(string[] args)
        {
            Options o;
            try { o = Options.Parse(args); }
            catch (ArgumentException ex) { Console.Error.WriteLine(ex.Message); Console.Error.WriteLine(Options.Usage); return 2; }
            if (o.Help) { Console.WriteLine(Options.Usage); return 0; }
            return new Bench(o).Run();
        }
    }

    public sealed class Run
    {
        public string Phase, Who;
        public int Round, Order;
        public string Load;
        public Measurement M;
        public ScriptRun Script;
        public Dictionary<string, double> S = new Dictionary<string, double>();
        public long ArchiveBytes = -1;
        public string Note = "";
    }

    public sealed class SetResult
    {
        public string Name, Description, DockerVersion, StartUptime, EndUptime;
        public long StateKb, PopulateObjects;
        public double PopulateS;
        public int Rounds, Warmup;
        public List<Run> Runs = new List<Run>();
    }

    public sealed class Bench
    {
        // What start.sh leaves running: never counted as the command's memory.
        private static readonly string[] Servers = { "dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "docker-proxy", "runc" };
        private readonly Options _o;
        private readonly List<SetResult> _results = new List<SetResult>();
        private readonly CancellationTokenSource _cts = new CancellationTokenSource();
        private SetResult _cur;
        private Pwsh _pwsh;
        private StartupCost _startup;
        private string _repo, _tool, _scripts, _work, _dir, _dockerHost, _archives, _specs, _objects;
        private int _services;
        private volatile int _signals;

        public Bench(Options o) { _o = o; }

        private static void Log(string s) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {s}");

        public int Run()
        {
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            _work = Path.Combine(Path.GetFullPath(_o.WorkDir), "swarmbench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            try
            {
                _repo = Pwsh.RepoRoot();
                _tool = Path.Combine(_repo, "tests", "tools", "swarm-node.sh");
                _pwsh = Pwsh.Find(_repo, _o.Pwsh, _o.Module);
                _scripts = Path.Combine(AppContext.BaseDirectory, "scripts");
                Directory.CreateDirectory(_work);
                _specs = Path.Combine(_work, "specs");
                Log($"nice {Proc.Nice()}; load {Proc.LoadAvg()}; pwsh: {_pwsh.Description}");
                _startup = _pwsh.MeasureStartup(Path.Combine(_work, "startup"), 3, _cts.Token);
                Log($"pwsh start + Import-Module: {_startup.MedianWallS:0.00} s, idle VmRSS {_startup.MedianIdleRssKb / 1024:0} MB");
                foreach (var mode in _o.Modes)
                {
                    if (_signals > 0) throw new OperationCanceledException("interrupted");
                    RunSet(mode);
                }
                string report = Report() + RehearsalReport();
                Console.WriteLine(report);
                if (_o.Report != null) File.WriteAllText(_o.Report, report);
                return 0;
            }
            catch (Exception ex)
            {
                Log("FAILED: " + ex);
                if (_dir != null && File.Exists(Path.Combine(_dir, "dockerd.log"))) Log("dockerd.log:\n" + Meter.Tail(File.ReadAllText(Path.Combine(_dir, "dockerd.log")), 15));
                if (_results.Count > 0 && _o.Report != null) File.WriteAllText(_o.Report, Report() + "\n\n**FAILED:** " + ex.Message.Replace("\n", " ") + "\n");
                return 1;
            }
            finally
            {
                StopNode();
                try { if (Directory.Exists(_work)) Directory.Delete(_work, true); } catch (IOException ex) { Log("cleanup: " + ex.Message); }
            }
        }

        private void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            _cts.Cancel();
            Meter.KillCurrent();
            if (Interlocked.Increment(ref _signals) > 1) { StopNode(); Environment.Exit(130); }
            Log("interrupted: stopping (again to stop at once)");
        }

        /// <summary>swarm-node.sh stop: dockerd by its PID with SIGTERM, its mounts, its namespace, its dir.</summary>
        private void StopNode()
        {
            string dir = Interlocked.Exchange(ref _dir, null);
            if (dir == null) return;
            try { Sh($"sh {Q(_tool)} stop {Q(dir)}"); Log("dockerd stopped by PID, " + dir + " deleted"); }
            catch (Exception ex) { Log("stop failed: " + ex.Message); }
        }

        private void RunSet(string mode)
        {
            _cur = new SetResult { Name = mode, Rounds = _o.Rounds, Warmup = _o.Warmup, StartUptime = Proc.LoadAvg() };
            _results.Add(_cur);
            string dir = Path.Combine(_work, "node-" + mode);
            _dir = dir;
            _dockerHost = Sh($"sh {Q(_tool)} start {Q(dir)}").Trim().Split('\n').Last();
            _archives = Path.Combine(dir, "archives");
            try
            {
                Docker("swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377");
                _cur.DockerVersion = Docker("version --format {{.Server.Version}}");
                var sw = Stopwatch.StartNew();
                if (mode == "cluster") PopulateCluster(dir); else PopulateRandom(dir);
                _cur.PopulateS = sw.Elapsed.TotalSeconds;
                _objects = Objects();
                _services = Docker("service ls -q").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
                _cur.PopulateObjects = _objects.Split(',').Length;
                _cur.StateKb = long.Parse(Sh($"du -sk {Q(dir + "/root/swarm")}").Split('\t')[0], CultureInfo.InvariantCulture);
                Log($"[{mode}] {_cur.Description}; {_cur.PopulateObjects} objects in {_cur.PopulateS:0} s, state dir {_cur.StateKb / 1024.0:0.0} MiB");
                for (int w = 1; w <= _o.Warmup; w++)
                {
                    Log($"[{mode}] warm-up {w}/{_o.Warmup} (not measured)");
                    string a = BackupOurs(-w, 1), t = BackupManual(-w, 2);
                    RestoreOurs(-w, 3, a); RestoreManual(-w, 4, t);
                    File.Delete(a); File.Delete(t);
                    _cur.Runs.RemoveAll(r => r.Round < 0);
                }
                for (int r = 1; r <= _o.Rounds; r++)
                {
                    bool oursFirst = r % 2 == 1;
                    Log($"[{mode}] round {r}/{_o.Rounds}, {(oursFirst ? "ours" : "manual")} first");
                    string archive = null, tar = null;
                    int order = 1;
                    foreach (bool ours in new[] { oursFirst, !oursFirst })
                        if (ours) archive = BackupOurs(r, order++); else tar = BackupManual(r, order++);
                    foreach (bool ours in new[] { oursFirst, !oursFirst })
                        if (ours) RestoreOurs(r, order++, archive); else RestoreManual(r, order++, tar);
                    if (_o.Rehearse) Rehearse(mode, r, archive);
                    File.Delete(archive); File.Delete(tar);
                }
                _cur.EndUptime = Proc.LoadAvg();
            }
            finally { StopNode(); }
        }

        // ---- data sets -------------------------------------------------------------------------------

        /// <summary>A busybox image made from the host's busybox (no registry): what every service runs.</summary>
        private void ImportImage(string dir)
        {
            var img = Path.Combine(dir, "img");
            Directory.CreateDirectory(Path.Combine(img, "bin"));
            File.Copy("/usr/bin/busybox", Path.Combine(img, "bin", "busybox"));
            Sh($"tar -C {Q(img)} -cf {Q(dir + "/busybox.tar")} . && DOCKER_HOST={Q(_dockerHost)} docker import {Q(dir + "/busybox.tar")} clusterdr/busybox:1 >/dev/null");
        }

        /// <summary>
        /// Cluster-like: overlay networks per team; secrets that look like what services hold (database
        /// passwords, PEM private keys, JSON API tokens); configs of config-file text (nginx, application
        /// JSON, prometheus YAML); services with env, labels, limits, a network, a secret and a config each,
        /// each then updated --updates times (every update is raft log entries and a new service version).
        /// All written by one generated sh script (one docker CLI call per object).
        /// </summary>
        private void PopulateCluster(string dir)
        {
            ImportImage(dir);
            var rnd = new Random(11);
            string files = Path.Combine(dir, "objects");
            Directory.CreateDirectory(files);
            string[] teams = { "payments", "search", "web", "data", "ops", "ml", "auth", "billing" };
            var sh = new StringBuilder("set -e\n");
            for (int n = 0; n < _o.Networks; n++)
                sh.Append($"docker network create -d overlay --label team={teams[n % teams.Length]} {(n % 2 == 0 ? "--attachable " : "")}net-{teams[n % teams.Length]}-{n} >/dev/null\n");
            for (int i = 0; i < _o.Secrets; i++)
            {
                string f = Path.Combine(files, "secret" + i);
                File.WriteAllText(f, (i % 3) switch
                {
                    0 => RandomText(rnd, 24),
                    1 => Pem(rnd, 1190),
                    _ => $"{{\"client_id\":\"{Hex(rnd, 8)}\",\"client_secret\":\"{RandomText(rnd, 40)}\",\"token_url\":\"https://auth.cluster.local/oauth2/token\",\"scopes\":[\"read\",\"write\"]}}",
                });
                sh.Append($"docker secret create --label team={teams[i % teams.Length]} secret-{i} {Q(f)} >/dev/null\n");
            }
            for (int i = 0; i < _o.Configs; i++)
            {
                string f = Path.Combine(files, "config" + i);
                File.WriteAllText(f, (i % 3) switch { 0 => Nginx(rnd, i), 1 => AppJson(rnd, i), _ => Prometheus(rnd, i) });
                sh.Append($"docker config create --label team={teams[i % teams.Length]} config-{i} {Q(f)} >/dev/null\n");
            }
            for (int i = 0; i < _o.Services; i++)
            {
                string team = teams[i % teams.Length];
                var a = new StringBuilder($"docker service create --detach --quiet --name {team}-svc-{i} --replicas {_o.Replicas} --network net-{teams[i % _o.Networks % teams.Length]}-{i % _o.Networks}");
                if (_o.Secrets > 0) a.Append($" --secret secret-{i % _o.Secrets}");
                if (_o.Configs > 0) a.Append($" --config source=config-{i % _o.Configs},target=/etc/app/config");
                for (int e = 0; e < 6; e++) a.Append($" --env {new[] { "DB_HOST", "CACHE_URL", "LOG_LEVEL", "REGION", "FEATURES", "JAVA_OPTS" }[e]}={Hex(rnd, 6)}");
                a.Append($" --label team={team} --label tier={(i % 3 == 0 ? "frontend" : "backend")} --label com.example.owner={team}@example.com");
                a.Append($" --limit-memory {128 * (1 + i % 8)}M --reserve-cpu 0.1 --restart-condition on-failure --update-parallelism 2 --update-delay 10s --stop-signal KILL");
                a.Append(" clusterdr/busybox:1 /bin/busybox sleep 86400 >/dev/null\n");
                sh.Append(a);
            }
            for (int u = 0; u < _o.Updates; u++)
                for (int i = 0; i < _o.Services; i++)
                    sh.Append($"docker service update --detach --quiet --env-add RELEASE={u}-{Hex(rnd, 4)} {teams[i % teams.Length]}-svc-{i} >/dev/null\n");
            RunScript(dir, sh.ToString());
            _cur.Description = $"{_o.Services} services (replicas {_o.Replicas}, each updated {_o.Updates}×), {_o.Secrets} secrets, {_o.Configs} configs, {_o.Networks} overlay networks";
        }

        /// <summary>Incompressible: configs and secrets of random bytes (swarm keeps them in its raft log and snapshot), a few services using them.</summary>
        private void PopulateRandom(string dir)
        {
            ImportImage(dir);
            var rnd = new Random(13);
            string files = Path.Combine(dir, "objects");
            Directory.CreateDirectory(files);
            var sh = new StringBuilder("set -e\ndocker network create -d overlay net-random >/dev/null\n");
            for (int i = 0; i < _o.RandomObjects; i++)
            {
                foreach (var kind in new[] { "config", "secret" })
                {
                    string f = Path.Combine(files, kind + i);
                    var b = new byte[_o.RandomKb * 1024];
                    rnd.NextBytes(b);
                    File.WriteAllBytes(f, b);
                    sh.Append($"docker {kind} create {kind}-{i} {Q(f)} >/dev/null\n");
                }
            }
            for (int i = 0; i < _o.RandomServices; i++)
                sh.Append($"docker service create --detach --quiet --name rnd-svc-{i} --replicas {_o.Replicas} --network net-random --secret secret-{i % _o.RandomObjects} " +
                    $"--config source=config-{i % _o.RandomObjects},target=/etc/app/blob clusterdr/busybox:1 /bin/busybox sleep 86400 >/dev/null\n");
            RunScript(dir, sh.ToString());
            _cur.Description = $"{_o.RandomObjects} configs + {_o.RandomObjects} secrets of {_o.RandomKb} KiB random bytes ({2L * _o.RandomObjects * _o.RandomKb / 1024.0:0.0} MiB), {_o.RandomServices} services, 1 overlay network";
        }

        private void RunScript(string dir, string script)
        {
            string f = Path.Combine(dir, "populate.sh");
            File.WriteAllText(f, script);
            var c = new Command("sh", f) { Timeout = TimeSpan.FromMinutes(30) };
            c.Env["DOCKER_HOST"] = _dockerHost;
            Meter.Run(c, null, _cts.Token);
        }

        private static string Hex(Random r, int n) { var b = new byte[n]; r.NextBytes(b); return Convert.ToHexString(b).ToLowerInvariant(); }
        private static string RandomText(Random r, int n) { var b = new byte[n]; r.NextBytes(b); return Convert.ToBase64String(b).Substring(0, n); }
        private static string Pem(Random r, int bytes)
        {
            var b = new byte[bytes]; r.NextBytes(b);
            string s = Convert.ToBase64String(b);
            var sb = new StringBuilder("-----BEGIN PRIVATE KEY-----\n");
            for (int i = 0; i < s.Length; i += 64) sb.Append(s, i, Math.Min(64, s.Length - i)).Append('\n');
            return sb.Append("-----END PRIVATE KEY-----\n").ToString();
        }
        private static string Nginx(Random r, int i)
        {
            var sb = new StringBuilder("worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n  include mime.types;\n  sendfile on;\n  keepalive_timeout 65;\n");
            for (int u = 0; u < 4 + i % 6; u++)
                sb.Append($"  upstream app{u} {{ server app{u}-{Hex(r, 3)}.svc:8080 max_fails=3 fail_timeout=30s; server app{u}-{Hex(r, 3)}.svc:8080 backup; }}\n")
                  .Append($"  server {{\n    listen 80;\n    server_name app{u}.example.com;\n    location / {{ proxy_pass http://app{u}; proxy_set_header Host $host; proxy_set_header X-Request-Id $request_id; }}\n    location /health {{ return 200; }}\n  }}\n");
            return sb.Append("}\n").ToString();
        }
        private static string AppJson(Random r, int i)
        {
            var sb = new StringBuilder("{\n  \"service\": \"app-" + i + "\",\n  \"database\": {\"host\": \"db.cluster.local\", \"port\": 5432, \"pool\": 20},\n  \"features\": {");
            for (int f = 0; f < 20 + i % 20; f++) sb.Append(f == 0 ? "" : ",").Append($"\n    \"flag_{Hex(r, 3)}\": {(r.Next(2) == 0 ? "true" : "false")}");
            return sb.Append("\n  },\n  \"logging\": {\"level\": \"info\", \"format\": \"json\"}\n}\n").ToString();
        }
        private static string Prometheus(Random r, int i)
        {
            var sb = new StringBuilder("global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nscrape_configs:\n");
            for (int j = 0; j < 5 + i % 10; j++)
                sb.Append($"  - job_name: job-{j}-{Hex(r, 2)}\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['svc-{j}.cluster.local:9100', 'svc-{j}-b.cluster.local:9100']\n        labels: {{team: t{j % 8}}}\n");
            return sb.ToString();
        }

        // ---- the measured runs -------------------------------------------------------------------------

        private Dictionary<string, object> NodeSpec() => new Dictionary<string, object>
        {
            ["DockerHost"] = _dockerHost, ["DataRoot"] = _dir + "/root", ["StopCommand"] = $"sh {_dir}/stop.sh", ["StartCommand"] = $"sh {_dir}/start.sh",
        };

        private Run Begin(string phase, string who, int round, int order) => new Run { Phase = phase, Who = who, Round = round, Order = order, Load = Proc.LoadAvg() };

        private void End(Run r)
        {
            _cur.Runs.Add(r);
            Log($"  {r.Phase} {r.Who}: wall {r.M.WallS:0.00} s, cpu {r.M.CpuS:0.00} s, peak {r.M.PeakRssKb / 1024.0:0} MB; {string.Join(", ", r.S.Select(kv => $"{kv.Key} {kv.Value:0.00} s"))} {r.Note}");
        }

        /// <summary>Issue #15 item 5 (--rehearse): Test-ClusterBackup -Rehearse of the round's archive, through pwsh.</summary>
        private readonly List<(string Mode, Measurement M, double InnerS)> _rehearsals = new List<(string, Measurement, double)>();

        private void Rehearse(string mode, int round, string archive)
        {
            var m = Meter.Run(_pwsh.Command(Path.Combine(_scripts, "swarm-rehearse.ps1"), "-Path", archive), null, _cts.Token);
            double.TryParse(m.Stdout.Trim().Split('\n').Last(), NumberStyles.Float, CultureInfo.InvariantCulture, out double inner);
            _rehearsals.Add((mode, m, inner));
            Log($"[{mode}] round {round}: rehearsal {m.WallS:0.00} s (inside the cmdlet {inner:0.00} s)");
        }

        private string RehearsalReport()
        {
            if (_rehearsals.Count == 0) return "";
            var sb = new StringBuilder();
            sb.Append("\n### Rehearsal of each round's archive (issue #15 item 5)\n\n");
            sb.Append("`pwsh -File` running `Test-ClusterBackup -Rehearse`: verify, a throwaway dockerd in a new network namespace, Restore-SwarmManager's steps on it (extract, start, force a new cluster), ");
            sb.Append("nodes, services, secrets, configs and networks against the manifest, stop, delete the namespace and dir. Set against the by-hand restore of the same round (scripts/manual-restore.sh: the same procedure on the bench's own daemon, which is already running and needs no namespace). Medians.\n\n");
            sb.Append("| data set | rehearsal, wall s | inside the cmdlet s | by-hand restore, wall s | rehearsal ÷ by-hand restore |\n|---|---|---|---|---|\n");
            foreach (var g in _rehearsals.GroupBy(x => x.Mode))
            {
                double o = Stats.Median(g.Select(x => x.M.WallS)), i = Stats.Median(g.Select(x => x.InnerS));
                var manual = _results.First(x => x.Name == g.Key).Runs.Where(x => x.Phase == "restore" && x.Who == "manual" && x.Round > 0).Select(x => x.M.WallS).ToList();
                double h = Stats.Median(manual);
                sb.Append($"| {g.Key} | {o:0.00} | {i:0.00} | {h:0.00} | **{o / h:0.00}** |\n");
            }
            return sb.ToString();
        }

        private string BackupOurs(int round, int order)
        {
            WaitManager();
            var r = Begin("backup", "ours", round, order);
            var spec = NodeSpec();
            spec["Directory"] = _archives;
            spec["Label"] = round < 0 ? "warmup" : "r" + round.ToString(CultureInfo.InvariantCulture);
            var sr = TimedScript.Run(_pwsh, Path.Combine(_scripts, "swarm-backup.ps1"), spec, _specs, _cts.Token, ignoreComm: Servers, timeout: TimeSpan.FromMinutes(10));
            r.M = sr.M; r.Script = sr;
            r.S["down (downtimeSeconds fact)"] = double.Parse(sr.Fact("downtimeSeconds"), CultureInfo.InvariantCulture);
            string path = sr.Str("path");
            r.ArchiveBytes = new FileInfo(path).Length;
            r.Note = Path.GetFileName(path);
            End(r);
            return path;
        }

        private string BackupManual(int round, int order)
        {
            WaitManager();
            Directory.CreateDirectory(_archives);
            string tar = Path.Combine(_archives, $"manual-r{round}.tar.gz");
            var r = Begin("backup", "manual", round, order);
            var c = new Command("sh", Path.Combine(_scripts, "manual-backup.sh"), _dir, _dir + "/root", tar) { Timeout = TimeSpan.FromMinutes(10) };
            c.Env["DOCKER_HOST"] = _dockerHost;
            var mr = TimedScript.Manual(c, _cts.Token, Servers);
            r.M = mr.M;
            r.S["tar"] = mr.Mark("tarred") - mr.Mark("stopped");
            r.S["down (stop → daemon answers)"] = mr.Mark("answers");
            r.S["stop → manager ready"] = mr.Mark("ready");
            r.ArchiveBytes = new FileInfo(tar).Length;
            End(r);
            return tar;
        }

        /// <summary>
        /// Untimed before each restore: the node leaves its swarm (what a lost manager looks like), so the
        /// restore is a real recovery and the cmdlet's guard has no healthy swarm to protect.
        /// </summary>
        private void Leave()
        {
            WaitManager();
            Docker("swarm leave --force");
        }

        private void RestoreOurs(int round, int order, string archive)
        {
            Leave();
            var r = Begin("restore", "ours", round, order);
            var spec = NodeSpec();
            spec["Path"] = archive; spec["AdvertiseAddress"] = "127.0.0.1"; spec["ListenAddress"] = "127.0.0.1:2377";
            var sr = TimedScript.Run(_pwsh, Path.Combine(_scripts, "swarm-restore.ps1"), spec, _specs, _cts.Token, ignoreComm: Servers, timeout: TimeSpan.FromMinutes(10));
            r.M = sr.M; r.Script = sr;
            r.S["spawn → healthy"] = sr.UntilDoneS;
            r.Note = CheckObjects();
            End(r);
            Sh($"rm -rf {Q(_dir + "/root")}/swarm.clusterdr-*");
        }

        private void RestoreManual(int round, int order, string tar)
        {
            Leave();
            var r = Begin("restore", "manual", round, order);
            var c = new Command("sh", Path.Combine(_scripts, "manual-restore.sh"), _dir, _dir + "/root", tar, _services.ToString(CultureInfo.InvariantCulture)) { Timeout = TimeSpan.FromMinutes(10) };
            c.Env["DOCKER_HOST"] = _dockerHost;
            var mr = TimedScript.Manual(c, _cts.Token, Servers);
            r.M = mr.M;
            r.S["untar"] = mr.Mark("untarred") - mr.Mark("stopped");
            r.S["--force-new-cluster"] = mr.Mark("forced") - mr.Mark("answers");
            r.S["spawn → healthy"] = mr.Mark("healthy");
            r.Note = CheckObjects();
            End(r);
            Sh($"rm -rf {Q(_dir + "/root/swarm.manual-old")}");
        }

        /// <summary>After a restore: every service, secret, config and swarm network is back (allowing the swarm a few seconds to list them all).</summary>
        private string CheckObjects()
        {
            var sw = Stopwatch.StartNew();
            string now;
            while ((now = Objects()) != _objects)
            {
                if (sw.Elapsed > TimeSpan.FromSeconds(30)) throw new InvalidOperationException($"The restored swarm lists other objects than the populated one:\n{now}\nvs\n{_objects}");
                Thread.Sleep(200);
            }
            return $"{_cur.PopulateObjects} objects listed, as populated";
        }

        private void WaitManager()
        {
            var sw = Stopwatch.StartNew();
            while (Exec($"DOCKER_HOST={Q(_dockerHost)} docker node ls >/dev/null 2>&1").Code != 0)
            {
                if (sw.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("dockerd is not a swarm manager again");
                Thread.Sleep(100);
            }
        }

        private string Objects() => string.Join(",", new[] { "service", "secret", "config" }.SelectMany(k => Docker(k + " ls --format {{.Name}}").Split('\n').OrderBy(x => x, StringComparer.Ordinal))
            .Concat(Docker("network ls --filter scope=swarm --format {{.Name}}").Split('\n').OrderBy(x => x, StringComparer.Ordinal)));

        private string Docker(string args) => Sh($"DOCKER_HOST={Q(_dockerHost)} docker {args}").Trim();

        private static string Q(string s) => "'" + s.Replace("'", "'\\''") + "'";

        private static string Sh(string script)
        {
            var r = Exec(script);
            if (r.Code != 0) throw new InvalidOperationException($"{script}: {r.Err}");
            return r.Out;
        }

        private static (int Code, string Out, string Err) Exec(string script)
        {
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(script);
            using var p = Process.Start(psi);
            var err = p.StandardError.ReadToEndAsync();
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, o, err.Result);
        }

        // ---- report ------------------------------------------------------------------------------------

        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
        private static string F(double s) => double.IsNaN(s) ? "n/a" : s.ToString("0.00", Inv) + " s";
        private static string MB(double kb) => double.IsNaN(kb) || kb < 0 ? "n/a" : (kb / 1024).ToString("0", Inv) + " MB";
        private static string MiB(double b) => double.IsNaN(b) || b < 0 ? "n/a" : (b / 1048576).ToString("0.0", Inv) + " MiB";

        /// <summary>The tree's top processes by sampled peak RSS ("dotnet 150 MB, docker 24 MB"): which process a tree peak belongs to.</summary>
        private static string ByComm(Measurement m) => string.Join(", ", m.PeakRssKbByComm.OrderByDescending(kv => kv.Value).Take(3).Select(kv => $"{kv.Key} {kv.Value / 1024.0:0} MB"));

        private string Report()
        {
            var sb = new StringBuilder();
            sb.AppendLine("### SwarmBench: Backup-SwarmManager / Restore-SwarmManager through pwsh vs the documented by-hand procedure");
            sb.AppendLine();
            sb.AppendLine($"- Machine: {Environment.ProcessorCount} cores, bench nice {Proc.Nice()} (dockerd and every measured process inherit it), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
            sb.AppendLine($"- pwsh: `{_pwsh?.Description}` `-NoProfile -NonInteractive -File`; module `{_pwsh?.ModuleManifest}`.");
            if (_startup != null)
                sb.AppendLine($"- pwsh start + `Import-Module ClusterDR` alone (median of {_startup.Runs.Count}): wall {F(_startup.MedianWallS)}, CPU {F(_startup.MedianCpuS)}, peak RSS {MB(_startup.MedianPeakRssKb)}; " +
                    $"idle pwsh VmRSS after the import {MB(_startup.MedianIdleRssKb)}.");
            sb.AppendLine("- One dockerd (vfs, `--shutdown-timeout 3`) in its own network namespace (tests/tools/swarm-node.sh), one manager. Figures are for the whole process tree each side started " +
                "(ours: pwsh and the docker CLI calls the cmdlet makes; manual: sh, tar, gzip, docker CLI): wall spawn → exit, CPU user+sys (wait4), peak RSS (larger of the tree's sampled sum and the largest process). " +
                "dockerd and containerd, which start.sh leaves running, are not counted on either side.");
            sb.AppendLine("- Before every restore (untimed) the node leaves its swarm (`docker swarm leave --force`), as a manager that lost its state; both sides then restore their own backup of that round. " +
                "After every restore the bench checks that every service, secret, config and swarm network lists again.");
            foreach (var s in _results)
            {
                sb.AppendLine();
                sb.AppendLine($"#### Data set `{s.Name}`: {s.Rounds} round(s) after {s.Warmup} warm-up");
                sb.AppendLine();
                sb.AppendLine($"- {s.Description}: {s.PopulateObjects} objects, made in {s.PopulateS:0} s; swarm state dir {s.StateKb / 1024.0:0.0} MiB (du, raft WAL preallocation included); dockerd {s.DockerVersion}.");
                sb.AppendLine($"- Load average at start: `{s.StartUptime}`; at end: `{s.EndUptime}`.");
                sb.AppendLine();
                sb.AppendLine("| Measure | ours median | ours min–max | manual median | manual min–max | ours/manual |");
                sb.AppendLine("|---|---|---|---|---|---|");
                void Row(string title, string phase, Func<Run, double> ours, Func<Run, double> manual, Func<double, string> fmt)
                {
                    var a = s.Runs.Where(r => r.Phase == phase && r.Who == "ours").Select(ours).Where(x => !double.IsNaN(x)).ToList();
                    var b = s.Runs.Where(r => r.Phase == phase && r.Who == "manual").Select(manual).Where(x => !double.IsNaN(x)).ToList();
                    if (a.Count == 0 && b.Count == 0) return;
                    double ma = Stats.Median(a), mb = Stats.Median(b);
                    string Range(List<double> v) => v.Count == 0 ? "n/a" : $"{fmt(v.Min())}–{fmt(v.Max())}";
                    sb.AppendLine($"| {title} | {fmt(ma)} | {Range(a)} | {fmt(mb)} | {Range(b)} | {(double.IsNaN(ma) || double.IsNaN(mb) || mb == 0 ? "n/a" : (ma / mb).ToString("0.00", Inv))} |");
                }
                double K(Run r, string k) => r.S.TryGetValue(k, out var v) ? v : double.NaN;
                Row("Backup: whole run, spawn → exit (ours: pwsh + Backup-SwarmManager -Force; manual: stop, tar -czf, start, manager ready)", "backup", r => r.M.WallS, r => r.M.WallS, F);
                Row("Backup: manager down, stop → daemon answers (ours: manifest `downtimeSeconds`)", "backup", r => K(r, "down (downtimeSeconds fact)"), r => K(r, "down (stop → daemon answers)"), F);
                Row("Backup: CPU user+sys of the tree", "backup", r => r.M.CpuS, r => r.M.CpuS, F);
                Row("Backup: peak RSS of the tree", "backup", r => r.M.PeakRssKb, r => r.M.PeakRssKb, MB);
                Row("Backup: archive size (ours: the cmdlet's .Path; manual: tar.gz)", "backup", r => r.ArchiveBytes, r => r.ArchiveBytes, MiB);
                Row("**Restore: time to a healthy swarm** (spawn → ready leader, objects listed: ours when Restore-SwarmManager returned; manual: the script's last poll)", "restore", r => K(r, "spawn → healthy"), r => K(r, "spawn → healthy"), F);
                Row("Restore: whole run, spawn → exit", "restore", r => r.M.WallS, r => r.M.WallS, F);
                Row("Restore: CPU user+sys of the tree", "restore", r => r.M.CpuS, r => r.M.CpuS, F);
                Row("Restore: peak RSS of the tree", "restore", r => r.M.PeakRssKb, r => r.M.PeakRssKb, MB);
                sb.AppendLine();
                sb.AppendLine("Ours split (medians): pwsh start = spawn → first line of the script; exit = cmdlet returned → process gone; VmHWM = the pwsh process's own peak.");
                sb.AppendLine();
                sb.AppendLine("| cmdlet | pwsh start | Import-Module | cmdlet | exit | VmRSS after import | VmHWM at the end |");
                sb.AppendLine("|---|---|---|---|---|---|---|");
                foreach (var (phase, name) in new[] { ("backup", "Backup-SwarmManager"), ("restore", "Restore-SwarmManager") })
                {
                    var rs = s.Runs.Where(r => r.Phase == phase && r.Script != null).Select(r => r.Script).ToList();
                    if (rs.Count == 0) continue;
                    sb.AppendLine($"| {name} | {F(Stats.Median(rs.Select(r => r.PwshStartS)))} | {F(Stats.Median(rs.Select(r => r.ImportS)))} | {F(Stats.Median(rs.Select(r => r.CmdletS)))} | " +
                        $"{F(Stats.Median(rs.Select(r => r.ExitS)))} | {MB(Stats.Median(rs.Select(r => r.RssImportedKb)))} | {MB(Stats.Median(rs.Select(r => r.HwmKb)))} |");
                }
                sb.AppendLine();
                sb.AppendLine("Every run, in the order it ran:");
                sb.AppendLine();
                sb.AppendLine("| round | # | phase | side | wall | CPU | peak RSS (tree sum / largest process; by name) | timings | archive | load before | check |");
                sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
                foreach (var r in s.Runs)
                {
                    var t = r.S.Select(kv => $"{kv.Key} {F(kv.Value)}").ToList();
                    if (r.Script != null) t.Insert(0, $"pwsh {F(r.Script.PwshStartS)} + import {F(r.Script.ImportS)} + cmdlet {F(r.Script.CmdletS)} + exit {F(r.Script.ExitS)}");
                    sb.AppendLine($"| {r.Round} | {r.Order} | {r.Phase} | {r.Who} | {F(r.M.WallS)} | {F(r.M.CpuS)} | {MB(r.M.TreeRssPeakKb)} / {MB(r.M.MaxRssKb)}; {ByComm(r.M)} | {string.Join(", ", t)} | " +
                        $"{(r.ArchiveBytes >= 0 ? MiB(r.ArchiveBytes) : "")} | {r.Load} | {r.Note} |");
                }
            }
            return sb.ToString();
        }
    }
}
