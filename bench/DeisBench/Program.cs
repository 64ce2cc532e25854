using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using PutObjectRequest = Amazon.S3.Model.PutObjectRequest;
using ClusterDR.Bench.Common;
using ClusterDR.Deis;

// DeisBench: Backup-DeisStore as users run it (pwsh -File, end to end) against `s3cmd sync` of the same
// buckets (+ pg_dumpall when the data set has a database), from a real one-node Ceph with radosgw
// (tests/tools/ceph-s3.sh), per data set: cluster-like, incompressible, 100k-object scale. Run as root.
// See bench/DEIS.md or --help.
namespace ClusterDR.Bench
{
    public sealed class Options
    {
        public List<string> Modes = new List<string> { "cluster", "random" };
        public int Rounds = 3, Warmup = 1;
        public int Apps = 40;
        public int Small = 2000, SmallKb = 32, Large = 3, LargeMb = 120;
        public int ScaleObjects = 100000, ScaleKb = 1;
        public bool ScaleS3cmd;
        public int BasePort = 27600;
        public string Pwsh, Module, Report, WorkDir = Path.GetTempPath();
        public bool Help;

        public const string Usage =
@"DeisBench: Backup-DeisStore through pwsh (pwsh -NoProfile -NonInteractive -File, end to end) vs s3cmd sync (+ pg_dumpall),
from a one-node Ceph with radosgw on 127.0.0.1. As root:
  nice -n 10 dotnet run -c Release --project bench/DeisBench -- [options]
  --mode LIST       data sets, comma-separated, each on a fresh Ceph (default cluster,random):
                    cluster  a Deis v1 store: registry images (layers, json, ancestry, checksums, tags) of --apps apps,
                             WAL-E base backups and WAL segments in db_wal, and the controller's PostgreSQL database
                             (Backup-DeisStore -IncludeDatabase; manual: pg_dumpall)
                    random   --small objects of --small-kb KiB and --large of --large-mb MiB, random bytes
                    scale    --scale-objects objects of --scale-kb KiB: ours only unless --scale-s3cmd; peak RSS vs idle pwsh
  --rounds N        measured rounds, order alternating (default 3; scale: 1)
  --warmup N        untimed rounds first (default 1; scale: none)
  --apps N          the cluster set (default 40)
  --small N --small-kb K --large N --large-mb M   the random set (default 2000 32 3 120)
  --scale-objects N --scale-kb K                  the scale set (default 100000 1)
  --scale-s3cmd     also time s3cmd sync on the scale set (about 45 ms per object here)
  --base-port N     S3 on N, the monitor on N+1, N+2 (default 27600; moved up when taken)
  --pwsh FILE       the pwsh to run (default: out/tools/pwsh's pwsh.dll under dotnet, else pwsh on PATH)
  --module PSD1     the module manifest (default out/ClusterDR/ClusterDR.psd1: ./build.sh build first)
  --work-dir DIR    where Ceph, PostgreSQL and the outputs go (default $TMPDIR or /tmp)
  --report FILE     also write the markdown report to FILE";

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
                        foreach (var m in o.Modes) if (m != "cluster" && m != "random" && m != "scale") throw new ArgumentException($"--mode: '{m}' is not cluster, random or scale.");
                        break;
                    case "--rounds": o.Rounds = N(1); break;
                    case "--warmup": o.Warmup = N(0); break;
                    case "--apps": o.Apps = N(1); break;
                    case "--small": o.Small = N(0); break;
                    case "--small-kb": o.SmallKb = N(1); break;
                    case "--large": o.Large = N(0); break;
                    case "--large-mb": o.LargeMb = N(1); break;
                    case "--scale-objects": o.ScaleObjects = N(1); break;
                    case "--scale-kb": o.ScaleKb = N(0); break;
                    case "--scale-s3cmd": o.ScaleS3cmd = true; break;
                    case "--base-port": o.BasePort = N(1024); break;
                    case "--pwsh": o.Pwsh = Next(); break;
                    case "--module": o.Module = Next(); break;
                    case "--work-dir": o.WorkDir = Next(); break;
                    case "--report": o.Report = Next(); break;
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
        public string Who, Load;
        public int Round, Order;
        public Measurement M;
        public ScriptRun Script;
        public Dictionary<string, double> S = new Dictionary<string, double>();
        public long OutputBytes = -1;
        public string Note = "";
    }

    public sealed class SetResult
    {
        public string Name, Description, StartLoad, EndLoad;
        public long Objects, ObjectBytes, DatabaseRows = -1;
        public double FillS;
        public int Rounds, Warmup;
        public bool Manual = true;
        public List<Run> Runs = new List<Run>();
    }

    public sealed class Bench
    {
        private const string Access = "DEISBENCHACCESS";
        // The secret key is made per run; it goes to ceph-s3.sh and to pwsh on stdin, and into the s3cmd config file (0600).
        private readonly string _secret = "deisbench-" + Guid.NewGuid().ToString("N").Substring(0, 16);
        private readonly Options _o;
        private readonly List<SetResult> _results = new List<SetResult>();
        private readonly CancellationTokenSource _cts = new CancellationTokenSource();
        private SetResult _cur;
        private Pwsh _pwsh;
        private StartupCost _startup;
        private string _repo, _cephTool, _scripts, _work, _ceph, _pg, _cfg, _specs, _dump;
        private int _port, _pgPort;
        private volatile int _signals;

        public Bench(Options o) { _o = o; }

        private static void Log(string s) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {s}");

        public int Run()
        {
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            _work = Path.Combine(Path.GetFullPath(_o.WorkDir), "deisbench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            try
            {
                _repo = Pwsh.RepoRoot();
                _cephTool = Path.Combine(_repo, "tests", "tools", "ceph-s3.sh");
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
                string report = Report();
                Console.WriteLine(report);
                if (_o.Report != null) File.WriteAllText(_o.Report, report);
                return 0;
            }
            catch (Exception ex)
            {
                Log("FAILED: " + ex);
                if (_results.Count > 0 && _o.Report != null) File.WriteAllText(_o.Report, Report() + "\n\n**FAILED:** " + ex.Message.Replace("\n", " ") + "\n");
                return 1;
            }
            finally
            {
                StopServers();
                try { if (Directory.Exists(_work)) Directory.Delete(_work, true); } catch (IOException ex) { Log("cleanup: " + ex.Message); }
            }
        }

        private void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            _cts.Cancel();
            Meter.KillCurrent();
            if (Interlocked.Increment(ref _signals) > 1) { StopServers(); Environment.Exit(130); }
            Log("interrupted: stopping (again to stop at once)");
        }

        /// <summary>radosgw, the OSD and the mon by their PIDs (ceph-s3.sh stop); PostgreSQL by its postmaster PID (pg_ctl stop).</summary>
        private void StopServers()
        {
            string ceph = Interlocked.Exchange(ref _ceph, null);
            if (ceph != null)
            {
                try { Exec("sh", null, _cephTool, "stop", ceph); Log("ceph stopped by PID"); } catch (Exception ex) { Log("ceph stop: " + ex.Message); }
                try { Directory.Delete(ceph, true); } catch (IOException) { }
            }
            string pg = Interlocked.Exchange(ref _pg, null);
            if (pg != null)
            {
                try { Exec("runuser", null, "-u", "postgres", "--", PgBin("pg_ctl"), "-D", Path.Combine(pg, "data"), "-m", "fast", "-w", "stop"); Log("postgres stopped by PID"); }
                catch (Exception ex) { Log("postgres stop: " + ex.Message); }
                try { Directory.Delete(pg, true); } catch (IOException) { }
            }
        }

        private void RunSet(string mode)
        {
            bool scale = mode == "scale";
            _cur = new SetResult
            {
                Name = mode, Rounds = scale ? 1 : _o.Rounds, Warmup = scale ? 0 : _o.Warmup, Manual = !scale || _o.ScaleS3cmd, StartLoad = Proc.LoadAvg(),
            };
            _results.Add(_cur);
            try
            {
                StartCeph(mode);
                _dump = null;
                if (mode == "cluster") StartDatabase();
                var sw = Stopwatch.StartNew();
                var objects = mode == "cluster" ? ClusterObjects() : mode == "random" ? RandomObjects() : ScaleObjects();
                Fill(objects);
                _cur.FillS = sw.Elapsed.TotalSeconds;
                _cur.Objects = objects.Count;
                _cur.ObjectBytes = objects.Sum(x => (long)x.Size);
                Log($"[{mode}] {_cur.Description}: {_cur.Objects} objects, {_cur.ObjectBytes / 1048576.0:0.0} MiB, filled in {_cur.FillS:0} s");
                for (int w = 1; w <= _cur.Warmup; w++)
                {
                    Log($"[{mode}] warm-up {w}/{_cur.Warmup} (not measured)");
                    Ours(-w, 1);
                    if (_cur.Manual) Manual(-w, 2);
                    _cur.Runs.RemoveAll(r => r.Round < 0);
                }
                for (int r = 1; r <= _cur.Rounds; r++)
                {
                    bool oursFirst = r % 2 == 1;
                    Log($"[{mode}] round {r}/{_cur.Rounds}, {(oursFirst || !_cur.Manual ? "ours" : "s3cmd")} first");
                    int order = 1;
                    foreach (bool ours in new[] { oursFirst, !oursFirst })
                    {
                        if (ours) Ours(r, order++);
                        else if (_cur.Manual) Manual(r, order++);
                    }
                }
                _cur.EndLoad = Proc.LoadAvg();
            }
            finally { StopServers(); }
        }

        private static bool PortFree(int port)
        {
            try { var l = new TcpListener(IPAddress.Loopback, port); l.Start(); l.Stop(); return true; }
            catch (SocketException) { return false; }
        }

        private void StartCeph(string mode)
        {
            _port = Enumerable.Range(0, 40).Select(i => _o.BasePort + 10 * i).First(p => PortFree(p) && PortFree(p + 1) && PortFree(p + 2));
            string dir = Path.Combine(_work, "ceph-" + mode);
            _ceph = dir;
            var sw = Stopwatch.StartNew();
            Exec("sh", _secret + "\n", _cephTool, "start", dir, _port.ToString(CultureInfo.InvariantCulture), Access);
            Log($"[{mode}] ceph + radosgw on 127.0.0.1:{_port} in {sw.Elapsed.TotalSeconds:0} s");
            _cfg = Path.Combine(_work, "s3cfg");
            // Created 0600: s3cmd's config holds the secret key (the only place the manual side gets it from).
            var fso = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) fso.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var w = new StreamWriter(new FileStream(_cfg, fso)))
                w.Write($"[default]\naccess_key = {Access}\nsecret_key = {_secret}\nhost_base = 127.0.0.1:{_port}\nhost_bucket = 127.0.0.1:{_port}\nuse_https = False\nsignature_v2 = False\n");
        }

        private static string PgBin(string tool) => Path.Combine(Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => d, StringComparer.Ordinal).Last(), "bin", tool);

        /// <summary>A private PostgreSQL holding a Deis v1 controller's tables (users, keys, apps, builds, configs, releases, containers, domains, pushes).</summary>
        private void StartDatabase()
        {
            _pg = Path.Combine(_work, "pg");
            Directory.CreateDirectory(_pg);
            _pgPort = Enumerable.Range(0, 40).Select(i => _o.BasePort + 300 + i).First(PortFree);
            Exec("chown", null, "postgres:postgres", _pg);
            Exec("runuser", null, "-u", "postgres", "--", PgBin("initdb"), "-D", Path.Combine(_pg, "data"), "-U", "postgres", "--auth=trust", "-N");
            Exec("runuser", null, "-u", "postgres", "--", PgBin("pg_ctl"), "-D", Path.Combine(_pg, "data"), "-w", "-l", Path.Combine(_pg, "pg.log"),
                "-o", $"-p {_pgPort} -k {_pg} -c listen_addresses=127.0.0.1 -c fsync=off", "start");
            int apps = _o.Apps;
            // generate_series keeps the rows deterministic in count; md5() makes the text columns vary like hashes and keys do.
            string sql = $@"
CREATE DATABASE deis;
\c deis
CREATE TABLE auth_user (id serial primary key, username text unique, email text, password text, is_superuser bool, date_joined timestamptz);
CREATE TABLE api_key (uuid uuid primary key, owner_id int references auth_user, id text, public text, created timestamptz);
CREATE TABLE api_app (uuid uuid primary key, id text unique, owner_id int references auth_user, structure jsonb, created timestamptz, updated timestamptz);
CREATE TABLE api_build (uuid uuid primary key, app_id text, owner_id int, image text, sha text, procfile jsonb, dockerfile text, created timestamptz);
CREATE TABLE api_config (uuid uuid primary key, app_id text, owner_id int, ""values"" jsonb, memory jsonb, cpu jsonb, tags jsonb, created timestamptz);
CREATE TABLE api_release (uuid uuid primary key, app_id text, owner_id int, version int, build_id uuid, config_id uuid, summary text, image text, created timestamptz);
CREATE TABLE api_container (uuid uuid primary key, app_id text, owner_id int, release_id uuid, type text, num int, state text, created timestamptz);
CREATE TABLE api_domain (id serial primary key, app_id text, owner_id int, domain text unique, created timestamptz);
CREATE TABLE api_push (uuid uuid primary key, app_id text, owner_id int, sha text, fingerprint text, receive_user text, receive_repo text, ssh_connection text, ssh_original_command text, created timestamptz);
INSERT INTO auth_user (username, email, password, is_superuser, date_joined)
  SELECT 'user' || g, 'user' || g || '@example.com', 'pbkdf2_sha256$12000$' || md5(g::text) || '$' || md5('p' || g), g = 1, now() - g * interval '1 day' FROM generate_series(1, {Math.Max(1, apps / 2)}) g;
INSERT INTO api_key SELECT md5('k' || g)::uuid, 1 + g % {Math.Max(1, apps / 2)}, 'user' || g || '@laptop',
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ' || repeat(md5('key' || g), 11) || ' user' || g || '@laptop', now() FROM generate_series(1, {apps}) g;
INSERT INTO api_app SELECT md5('a' || g)::uuid, 'app-' || g, 1 + g % {Math.Max(1, apps / 2)}, jsonb_build_object('web', 1 + g % 4, 'worker', g % 2), now() - g * interval '1 hour', now() FROM generate_series(1, {apps}) g;
INSERT INTO api_build SELECT md5('b' || g || '-' || r)::uuid, 'app-' || g, 1, 'registry.local:5000/app-' || g || ':git-' || left(md5('s' || g || '-' || r), 8), md5('s' || g || '-' || r) || left(md5(r::text), 8),
  '{{""web"": ""bin/server --port $PORT"", ""worker"": ""bin/worker""}}'::jsonb, 'FROM ubuntu:14.04' || chr(10) || 'RUN apt-get update' || chr(10) || 'CMD [""bin/server""]', now() FROM generate_series(1, {apps}) g, generate_series(1, 20) r;
INSERT INTO api_config SELECT md5('c' || g || '-' || r)::uuid, 'app-' || g, 1, jsonb_build_object('DATABASE_URL', 'postgres://db.local/' || md5(g::text), 'SECRET_KEY', md5('sk' || g || '-' || r), 'RELEASE', r::text),
  '{{}}'::jsonb, '{{}}'::jsonb, '{{}}'::jsonb, now() FROM generate_series(1, {apps}) g, generate_series(1, 20) r;
INSERT INTO api_release SELECT md5('r' || g || '-' || r)::uuid, 'app-' || g, 1, r, md5('b' || g || '-' || r)::uuid, md5('c' || g || '-' || r)::uuid, 'user1 deployed ' || left(md5('s' || g || '-' || r), 7),
  'app-' || g || ':v' || r, now() FROM generate_series(1, {apps}) g, generate_series(1, 20) r;
INSERT INTO api_container SELECT md5('o' || g || '-' || n)::uuid, 'app-' || g, 1, md5('r' || g || '-' || 20)::uuid, CASE WHEN n % 2 = 0 THEN 'web' ELSE 'worker' END, n, 'up', now() FROM generate_series(1, {apps}) g, generate_series(1, 5) n;
INSERT INTO api_domain (app_id, owner_id, domain, created) SELECT 'app-' || g, 1, 'app-' || g || '.example.com', now() FROM generate_series(1, {apps}) g;
INSERT INTO api_push SELECT md5('p' || g || '-' || r)::uuid, 'app-' || g, 1, md5('s' || g || '-' || r) || left(md5(r::text), 8), md5('fp' || g), 'user1', 'app-' || g,
  '10.0.0.' || (g % 250) || ' 51' || r || ' 10.0.1.5 2222', 'git-receive-pack ''app-' || g || '.git''', now() FROM generate_series(1, {apps}) g, generate_series(1, 20) r;
";
            string file = Path.Combine(_pg, "fill.sql");
            File.WriteAllText(file, sql);
            Exec("psql", null, "-h", "127.0.0.1", "-p", _pgPort.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f", file);
            _cur.DatabaseRows = 2L * apps + apps / 2 + 4L * 20 * apps + 5L * apps + apps;
            _dump = $"pg_dumpall -h 127.0.0.1 -p {_pgPort} -U postgres";
        }

        // ---- data sets -------------------------------------------------------------------------------

        private struct Obj { public string Bucket, Key; public int Size; public int Seed; public string Text; }

        private static string Hex(Random r, int bytes) { var b = new byte[bytes]; r.NextBytes(b); return Convert.ToHexString(b).ToLowerInvariant(); }

        /// <summary>
        /// Cluster-like: what a Deis v1 store holds. registry (docker-registry 0.9's S3 layout): 4 base layers
        /// of 6 MiB shared by every app, per app 2 layers (256 KiB-4 MiB and 2-32 KiB; layers are gzip, so random
        /// bytes), each layer with its json (~1 KB), ancestry and _checksum; per app a repository with
        /// _index_images and 3 tags (tag_vN + tagvN_json). db_wal (WAL-E): 2 base backups of 3 lzo partitions of
        /// 4 MiB with their sentinels, and apps/2 compressed WAL segments of 0.5-2 MiB.
        /// </summary>
        private List<Obj> ClusterObjects()
        {
            var r = new Random(5);
            var list = new List<Obj>();
            int seed = 0;
            void Layer(string id, int size, string parent)
            {
                string p = $"registry/images/{id}/";
                list.Add(new Obj { Bucket = "registry", Key = p + "layer", Size = size, Seed = ++seed });
                string json = $"{{\"id\":\"{id}\",\"parent\":\"{parent}\",\"created\":\"2026-0{1 + seed % 9}-1{seed % 10}T10:{seed % 60:D2}:00.{Hex(r, 3)}Z\",\"container\":\"{Hex(r, 32)}\"," +
                    $"\"container_config\":{{\"Hostname\":\"{Hex(r, 6)}\",\"User\":\"\",\"Memory\":0,\"AttachStdout\":false,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"PORT=5000\"]," +
                    $"\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) ADD file:{Hex(r, 32)} in /app\"],\"Image\":\"{parent}\",\"WorkingDir\":\"/app\"}},\"docker_version\":\"1.5.0\",\"architecture\":\"amd64\",\"os\":\"linux\",\"Size\":{size}}}";
                list.Add(new Obj { Bucket = "registry", Key = p + "json", Text = json, Size = Encoding.UTF8.GetByteCount(json) });
                string ancestry = $"[\"{id}\",\"{parent}\"]";
                list.Add(new Obj { Bucket = "registry", Key = p + "ancestry", Text = ancestry, Size = ancestry.Length });
                string sum = "tarsum+sha256:" + Hex(r, 32);
                list.Add(new Obj { Bucket = "registry", Key = p + "_checksum", Text = sum, Size = sum.Length });
            }
            var bases = Enumerable.Range(0, 4).Select(i => Hex(r, 32)).ToList();
            for (int i = 0; i < bases.Count; i++) Layer(bases[i], 6 << 20, i == 0 ? "" : bases[i - 1]);
            for (int a = 0; a < _o.Apps; a++)
            {
                string app = Hex(r, 32), cfg = Hex(r, 32);
                Layer(app, 256 * 1024 + r.Next(15 * 256 * 1024), bases[3]);
                Layer(cfg, 2048 + r.Next(30 * 1024), app);
                string repo = $"registry/repositories/library/app-{a}/";
                string index = $"[{{\"id\": \"{bases[0]}\"}}, {{\"id\": \"{bases[3]}\"}}, {{\"id\": \"{app}\"}}, {{\"id\": \"{cfg}\"}}]";
                list.Add(new Obj { Bucket = "registry", Key = repo + "_index_images", Text = index, Size = index.Length });
                for (int v = 1; v <= 3; v++)
                {
                    list.Add(new Obj { Bucket = "registry", Key = repo + $"tag_v{v}", Text = cfg, Size = cfg.Length });
                    string tj = $"{{\"last_update\": {1767225600 + a * 1000 + v}, \"docker_version\": \"1.5.0\", \"docker_go_version\": \"go1.4.1\", \"arch\": \"amd64\", \"os\": \"linux\", \"kernel\": \"3.19.0-coreos\"}}";
                    list.Add(new Obj { Bucket = "registry", Key = repo + $"tagv{v}_json", Text = tj, Size = tj.Length });
                }
            }
            for (int b = 0; b < 2; b++)
            {
                string name = $"basebackups_005/base_00000001000000000000{b * 8 + 2:X4}_00000040";
                for (int p = 0; p < 3; p++) list.Add(new Obj { Bucket = "db_wal", Key = $"{name}/tar_partitions/part_{p:D8}.tar.lzo", Size = 4 << 20, Seed = ++seed });
                string sentinel = $"{{\"wal_segment_backup_stop\": \"00000001000000000000{b * 8 + 2:X4}\", \"wal_segment_offset_backup_stop\": \"000000D8\", \"expanded_size_bytes\": {40 << 20}, \"wal_segment_backup_start\": \"00000001000000000000{b * 8 + 2:X4}\", \"wal_segment_offset_backup_start\": \"00000040\"}}";
                list.Add(new Obj { Bucket = "db_wal", Key = name + "_backup_stop_sentinel.json", Text = sentinel, Size = sentinel.Length });
                list.Add(new Obj { Bucket = "db_wal", Key = name + "/extended_version.txt", Text = "PostgreSQL 9.4.1", Size = 16 });
            }
            for (int w = 0; w < Math.Max(1, _o.Apps / 2); w++)
                list.Add(new Obj { Bucket = "db_wal", Key = $"wal_005/0000000100000000000000{w + 2:X2}.lzo", Size = 512 * 1024 + r.Next(3 * 512 * 1024), Seed = ++seed });
            _cur.Description = $"a Deis v1 store for {_o.Apps} apps (registry images, repositories and tags; WAL-E base backups and WAL) + the controller database";
            return list;
        }

        private List<Obj> RandomObjects()
        {
            var list = new List<Obj>();
            for (int i = 0; i < _o.Small; i++) list.Add(new Obj { Bucket = i % 5 == 0 ? "db_wal" : "registry", Key = $"random/small/{i:x6}", Size = _o.SmallKb * 1024, Seed = i + 1 });
            for (int i = 0; i < _o.Large; i++) list.Add(new Obj { Bucket = i % 2 == 0 ? "db_wal" : "registry", Key = $"random/large/{i}", Size = _o.LargeMb << 20, Seed = 1000000 + i });
            _cur.Description = $"{_o.Small} objects of {_o.SmallKb} KiB + {_o.Large} of {_o.LargeMb} MiB, random bytes";
            return list;
        }

        private List<Obj> ScaleObjects()
        {
            var list = new List<Obj>(_o.ScaleObjects);
            for (int i = 0; i < _o.ScaleObjects; i++)
                list.Add(new Obj { Bucket = i % 10 == 0 ? "db_wal" : "registry", Key = $"registry/images/{i:x8}/_checksum", Size = _o.ScaleKb * 1024, Seed = i + 1 });
            _cur.Description = $"{_o.ScaleObjects} objects of {_o.ScaleKb} KiB random bytes";
            return list;
        }

        /// <summary>Creates both buckets and PUTs every object, 16 at a time (objects of random bytes are made from their seed, not kept).</summary>
        private void Fill(List<Obj> objects)
        {
            var o = new DeisS3Options { GatewayUri = new Uri($"http://127.0.0.1:{_port}"), AccessKey = Access, SecretKey = Secure(_secret) };
            using var s3 = DeisStore.Client(o);
            foreach (var b in DeisStore.DefaultBuckets) s3.PutBucketAsync(b).GetAwaiter().GetResult();
            long done = 0;
            Parallel.ForEach(objects, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = _cts.Token }, x =>
            {
                byte[] data;
                if (x.Text != null) data = Encoding.UTF8.GetBytes(x.Text);
                else { data = new byte[x.Size]; new Random(x.Seed).NextBytes(data); }
                s3.PutObjectAsync(new PutObjectRequest { BucketName = x.Bucket, Key = x.Key, InputStream = new MemoryStream(data), UseChunkEncoding = false }).GetAwaiter().GetResult();
                long n = Interlocked.Increment(ref done);
                if (n % 10000 == 0) Log($"  {n} of {objects.Count} objects written");
            });
        }

        private static SecureString Secure(string s) { var ss = new SecureString(); foreach (var c in s) ss.AppendChar(c); ss.MakeReadOnly(); return ss; }

        // ---- the measured runs -------------------------------------------------------------------------

        private void Ours(int round, int order)
        {
            string outDir = Path.Combine(_work, $"out-ours-{round}");
            var r = new Run { Who = "ours", Round = round, Order = order, Load = Proc.LoadAvg() };
            var spec = new Dictionary<string, object>
            {
                ["Gateway"] = $"http://127.0.0.1:{_port}", ["AccessKey"] = Access, ["CephCommand"] = $"ceph -c {Path.Combine(_ceph, "ceph.conf")}",
                ["Directory"] = outDir, ["DumpCommand"] = _dump,
            };
            var sr = TimedScript.Run(_pwsh, Path.Combine(_scripts, "deis-backup.ps1"), spec, _specs, _cts.Token, stdin: _secret + "\n", timeout: TimeSpan.FromHours(1));
            r.M = sr.M; r.Script = sr;
            string path = sr.Str("path");
            r.OutputBytes = new FileInfo(path).Length;
            r.Note = $"{Path.GetFileName(path)}: objects fact {sr.Fact("objects")}" + (sr.Fact("databaseBytes") != null ? $", databaseBytes {sr.Fact("databaseBytes")}" : "");
            if (sr.Fact("objects") != _cur.Objects.ToString(CultureInfo.InvariantCulture)) throw new InvalidOperationException($"Backup-DeisStore recorded {sr.Fact("objects")} objects, the store holds {_cur.Objects}.");
            End(r);
            Directory.Delete(outDir, true);
        }

        private void Manual(int round, int order)
        {
            string outDir = Path.Combine(_work, $"out-manual-{round}");
            var r = new Run { Who = "manual", Round = round, Order = order, Load = Proc.LoadAvg() };
            var c = new Command("sh", Path.Combine(_scripts, "manual-backup.sh"), _cfg, outDir, string.Join(" ", DeisStore.DefaultBuckets)) { Timeout = TimeSpan.FromHours(3) };
            if (_dump != null) c.Args.Add(_dump);
            var mr = TimedScript.Manual(c, _cts.Token);
            r.M = mr.M;
            r.S["s3cmd sync"] = mr.Mark("objects");
            if (_dump != null) r.S["pg_dumpall"] = mr.Mark("database") - mr.Mark("objects");
            var files = Directory.GetFiles(outDir, "*", SearchOption.AllDirectories);
            r.OutputBytes = files.Sum(f => new FileInfo(f).Length);
            int objects = files.Count(f => !f.EndsWith("pg_dumpall.sql", StringComparison.Ordinal));
            r.Note = $"{objects} files" + (_dump != null ? $", pg_dumpall.sql {new FileInfo(Path.Combine(outDir, "pg_dumpall.sql")).Length} bytes" : "");
            End(r);
            Directory.Delete(outDir, true);
        }

        private void End(Run r)
        {
            _cur.Runs.Add(r);
            Log($"  {r.Who}: wall {r.M.WallS:0.00} s, cpu {r.M.CpuS:0.00} s, peak {r.M.PeakRssKb / 1024.0:0} MB" + (r.Script != null ? $", VmHWM {r.Script.HwmKb / 1024.0:0} MB" : "") + $"; {r.Note}");
        }

        private static string Exec(string file, string stdin, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            if (stdin != null) p.StandardInput.Write(stdin);
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            var outp = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(" ", args)} failed ({p.ExitCode}): {err.Result}{outp}");
            return outp;
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
            sb.AppendLine("### DeisBench: Backup-DeisStore through pwsh vs s3cmd sync (+ pg_dumpall)");
            sb.AppendLine();
            sb.AppendLine($"- Machine: {Environment.ProcessorCount} cores, bench nice {Proc.Nice()} (Ceph, PostgreSQL and every measured process inherit it), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
            sb.AppendLine($"- pwsh: `{_pwsh?.Description}` `-NoProfile -NonInteractive -File`; module `{_pwsh?.ModuleManifest}`.");
            if (_startup != null)
                sb.AppendLine($"- pwsh start + `Import-Module ClusterDR` alone (median of {_startup.Runs.Count}): wall {F(_startup.MedianWallS)}, CPU {F(_startup.MedianCpuS)}, peak RSS {MB(_startup.MedianPeakRssKb)}; " +
                    $"**idle pwsh VmRSS after the import: {MB(_startup.MedianIdleRssKb)}**.");
            sb.AppendLine("- Ours: `Backup-DeisStore -Node localhost -CephCommand 'ceph -c …' -SkipVolume [-IncludeDatabase -DatabaseDumpCommand 'pg_dumpall …']` with the cmdlet's defaults (16 transfers, objects stored); " +
                "the secret key reaches pwsh on stdin. Manual: `s3cmd sync s3://BUCKET/ DIR/BUCKET/` for db_wal and registry, then `pg_dumpall > DIR/pg_dumpall.sql` (s3cmd's keys in its 0600 config file). " +
                "Ceph (mon, osd, radosgw) and PostgreSQL run on the same 2 cores. Figures are for the whole process tree each side started: wall spawn → exit, CPU user+sys (wait4), " +
                "peak RSS (larger of the tree's sampled sum and the largest process).");
            foreach (var s in _results)
            {
                sb.AppendLine();
                sb.AppendLine($"#### Data set `{s.Name}`: {s.Rounds} round(s) after {s.Warmup} warm-up{(s.Manual ? "" : ", ours only")}");
                sb.AppendLine();
                sb.AppendLine($"- {s.Description}: {s.Objects} objects, {MiB(s.ObjectBytes)} in db_wal and registry (filled in {s.FillS:0} s)" +
                    (s.DatabaseRows >= 0 ? $"; database `deis` with {s.DatabaseRows} rows in 9 tables." : "."));
                sb.AppendLine($"- Load average at start: `{s.StartLoad}`; at end: `{s.EndLoad}`.");
                sb.AppendLine();
                sb.AppendLine("| Measure | ours median | ours min–max | s3cmd median | s3cmd min–max | ours/s3cmd |");
                sb.AppendLine("|---|---|---|---|---|---|");
                void Row(string title, Func<Run, double> f, Func<double, string> fmt)
                {
                    var a = s.Runs.Where(r => r.Who == "ours").Select(f).Where(x => !double.IsNaN(x)).ToList();
                    var b = s.Runs.Where(r => r.Who == "manual").Select(f).Where(x => !double.IsNaN(x)).ToList();
                    double ma = Stats.Median(a), mb = Stats.Median(b);
                    string Range(List<double> v) => v.Count == 0 ? "n/a" : $"{fmt(v.Min())}–{fmt(v.Max())}";
                    sb.AppendLine($"| {title} | {fmt(ma)} | {Range(a)} | {fmt(mb)} | {Range(b)} | {(double.IsNaN(ma) || double.IsNaN(mb) || mb == 0 ? "n/a" : (ma / mb).ToString("0.00", Inv))} |");
                }
                Row("Backup: whole run, spawn → exit", r => r.M.WallS, F);
                Row("Backup: CPU user+sys of the tree", r => r.M.CpuS, F);
                Row("Backup: peak RSS of the tree", r => r.M.PeakRssKb, MB);
                Row("Output size (ours: the archive at .Path; s3cmd: the files it wrote + the dump)", r => r.OutputBytes, MiB);
                double objMiB = s.ObjectBytes / 1048576.0;
                string Rate(string who)
                {
                    double wall = Stats.Median(s.Runs.Where(r => r.Who == who).Select(r => r.M.WallS));
                    return double.IsNaN(wall) ? "n/a" : $"{(objMiB / wall).ToString("0.0", Inv)} MiB/s, {(s.Objects / wall).ToString("0", Inv)} objects/s";
                }
                sb.AppendLine($"| Throughput over the whole run | {Rate("ours")} | | {Rate("manual")} | | |");
                var rs = s.Runs.Where(r => r.Script != null).Select(r => r.Script).ToList();
                if (rs.Count > 0)
                {
                    double idle = _startup?.MedianIdleRssKb ?? double.NaN, hwm = Stats.Median(rs.Select(x => x.HwmKb)), over = hwm - idle;
                    sb.AppendLine();
                    sb.AppendLine("Ours split (medians): pwsh start = spawn → first line of the script; exit = cmdlet returned → process gone; VmHWM = the pwsh process's own peak.");
                    sb.AppendLine();
                    sb.AppendLine("| pwsh start | Import-Module | Backup-DeisStore | exit | VmRSS after import | VmHWM at the end | VmHWM − idle pwsh VmRSS |");
                    sb.AppendLine("|---|---|---|---|---|---|---|");
                    sb.AppendLine($"| {F(Stats.Median(rs.Select(x => x.PwshStartS)))} | {F(Stats.Median(rs.Select(x => x.ImportS)))} | {F(Stats.Median(rs.Select(x => x.CmdletS)))} | {F(Stats.Median(rs.Select(x => x.ExitS)))} | " +
                        $"{MB(Stats.Median(rs.Select(x => x.RssImportedKb)))} | {MB(hwm)} | {MB(over)} |");
                }
                sb.AppendLine();
                sb.AppendLine("Every run, in the order it ran:");
                sb.AppendLine();
                sb.AppendLine("| round | # | side | wall | CPU | peak RSS (tree sum / largest process; by name) | timings | output | load before | check |");
                sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
                foreach (var r in s.Runs)
                {
                    var t = r.S.Select(kv => $"{kv.Key} {F(kv.Value)}").ToList();
                    if (r.Script != null) t.Insert(0, $"pwsh {F(r.Script.PwshStartS)} + import {F(r.Script.ImportS)} + cmdlet {F(r.Script.CmdletS)} + exit {F(r.Script.ExitS)}, VmHWM {MB(r.Script.HwmKb)}");
                    sb.AppendLine($"| {r.Round} | {r.Order} | {(r.Who == "manual" ? "s3cmd" : "ours")} | {F(r.M.WallS)} | {F(r.M.CpuS)} | {MB(r.M.TreeRssPeakKb)} / {MB(r.M.MaxRssKb)}; {ByComm(r.M)} | {string.Join(", ", t)} | {MiB(r.OutputBytes)} | {r.Load} | {r.Note} |");
                }
            }
            return sb.ToString();
        }
    }
}
