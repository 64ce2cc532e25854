using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Issue #13 item 5 (and item 2's memory): one etcd filled with cluster-like data to --stores-mb, then
    /// Backup-EtcdSnapshot into a local directory, into an S3 bucket (a real Ceph radosgw) and into an Azure Blob
    /// container (a real Azurite), each through pwsh end to end, against what an operator does by hand:
    /// `etcdctl snapshot save` then `s3cmd put`, or then an Azure Put Blob of the file with curl and a SAS.
    /// </summary>
    public sealed class StoresBench
    {
        private readonly BenchRun _b;
        public StoresBench(BenchRun b) { _b = b; }

        private const string Access = "CLUSTERDRBENCHACCESS", Bucket = "bench", Container = "bench";
        private const string AzAccount = "devstoreaccount1";
        private const string AzKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

        private static string Script(string dir) => Pwsh.Script(dir, "stores.ps1", @"
function Get-BenchHwm { [long][regex]::Match([IO.File]::ReadAllText(""/proc/$PID/status""), 'VmHWM:\s*(\d+)').Groups[1].Value }
$store = switch ($Target) {
    's3'   { New-ClusterBackupStore -Bucket bench -EndpointUrl $env:BENCH_S3 -Credential ([pscredential]::new($env:BENCH_S3_ACCESS, (ConvertTo-SecureString $env:BENCH_S3_SECRET -AsPlainText -Force))) }
    'blob' { New-ClusterBackupStore -Container bench -BlobEndpoint $env:BENCH_AZ -AccountKey (ConvertTo-SecureString $env:BENCH_AZ_KEY -AsPlainText -Force) }
    default { $null }
}
if ($Setup) { $store.CreateIfMissing(); return }
if ($Remove) { Get-ClusterBackup -Store $store | Remove-ClusterBackup -Confirm:$false; return }
$b = if ($store) { Backup-EtcdSnapshot -Endpoint $Endpoint -Store $store -Path . } else { Backup-EtcdSnapshot -Endpoint $Endpoint -Path $Path }
'" + Scripts.ResultPrefix + @"' + (@{ path = $b.Path; bytes = $b.SizeBytes; vmHwmKb = Get-BenchHwm } | ConvertTo-Json -Compress)
", param: "param([string]$Endpoint, [string]$Path, [ValidateSet('local', 's3', 'blob')][string]$Target = 'local', [switch]$Setup, [switch]$Remove)");

        // etcdctl then s3cmd with a config file (its keys are this bench's throwaway ones). Args: ENDPOINT FILE CONFIG.
        private const string SaveThenS3cmd = "etcdctl --endpoints \"$1\" snapshot save \"$2\" > /dev/null && s3cmd -q -c \"$3\" put \"$2\" s3://bench/byhand-$(date +%s%N).db && rm -f \"$2\"";
        // etcdctl then one Put Blob of the file (curl -T streams it). Args: ENDPOINT FILE BLOB-URL-WITHOUT-NAME SAS.
        private const string SaveThenCurl = "etcdctl --endpoints \"$1\" snapshot save \"$2\" > /dev/null && curl -sf -T \"$2\" -H 'x-ms-blob-type: BlockBlob' -H 'x-ms-version: 2021-08-06' \"$3/byhand-$(date +%s%N).db?$4\" && rm -f \"$2\"";

        public string Run()
        {
            var o = _b.O;
            string repo = _b.RepoRoot, work = Path.Combine(_b.Root, "stores");
            Directory.CreateDirectory(work);
            string azurite = Path.Combine(repo, "out", "tools", "azurite", "node_modules", ".bin", "azurite-blob");
            foreach (var (tool, how) in new[] { ("s3cmd", "apt-get install s3cmd"), ("curl", "apt-get install curl"), ("radosgw", "sh tests/tools/install-deps.sh ceph") })
                if (Meter.Run(new Command("sh", "-c", "command -v " + tool) { Check = false }).ExitCode != 0) throw new InvalidOperationException($"--stores needs {tool}: {how}");
            if (!File.Exists(azurite)) throw new InvalidOperationException("--stores needs Azurite: sh tests/tools/install-deps.sh azurite");

            string secret = "bench-" + Guid.NewGuid().ToString("N").Substring(0, 16);
            string cephDir = Path.Combine(work, "ceph");
            int cephPort = EtcdCluster.FreeBasePort(o.BasePort + 500, 3);
            Process az = null;
            var runs = new List<Run>();
            var cluster = _b.StartCluster("stores", 1);
            try
            {
                BenchRun.Log($"starting Ceph radosgw on {cephPort} and Azurite");
                Meter.Run(new Command("sh", Path.Combine(repo, "tests", "tools", "ceph-s3.sh"), "start", cephDir, cephPort.ToString(CultureInfo.InvariantCulture), Access) { Stdin = secret + "\n", Timeout = TimeSpan.FromMinutes(3) });
                int azPort = EtcdCluster.FreeBasePort(cephPort + 10, 1);
                az = Process.Start(new ProcessStartInfo(azurite, $"--blobHost 127.0.0.1 --blobPort {azPort} --location \"{Path.Combine(work, "azurite")}\" --silent --skipApiVersionCheck") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true });
                WaitPort(azPort);
                string azUrl = $"http://127.0.0.1:{azPort}/{AzAccount}";
                var env = new Dictionary<string, string>
                {
                    ["BENCH_S3"] = $"http://127.0.0.1:{cephPort}", ["BENCH_S3_ACCESS"] = Access, ["BENCH_S3_SECRET"] = secret,
                    ["BENCH_AZ"] = azUrl, ["BENCH_AZ_KEY"] = AzKey,
                };
                string script = Script(_b.ScriptDir);
                Command Ours(params string[] args) { var c = _b.Pwsh.Command(script, args); foreach (var kv in env) c.Env[kv.Key] = kv.Value; return c; }
                foreach (var t in new[] { "s3", "blob" }) Meter.Run(Ours("-Target", t, "-Setup"));
                string s3cfg = Path.Combine(work, "s3cfg");
                File.WriteAllText(s3cfg, $"[default]\naccess_key = {Access}\nsecret_key = {secret}\nhost_base = 127.0.0.1:{cephPort}\nhost_bucket = 127.0.0.1:{cephPort}\nuse_https = False\nsignature_v2 = False\n");
                string sas = ContainerSas(Container);

                BenchRun.Log($"filling with cluster-like data to {o.StoresMb} MB");
                cluster.FillTo(DataSets.ByName("cluster-like"), o.StoresMb * 1048576L, o.Writers, BenchRun.Log, _b.Ct);
                Thread.Sleep(1500);
                var st = cluster.Status(_b.Ct);
                string ep = cluster.Members[0].ClientUrl, outDir = Path.Combine(work, "out"), snap = Path.Combine(work, "snapshot.db");
                var tools = new List<(string Name, bool Ours, Func<Command> Make)>
                {
                    ("Backup-EtcdSnapshot -Path (local disk)", true, () => Ours("-Endpoint", ep, "-Path", outDir)),
                    ("Backup-EtcdSnapshot -Store S3", true, () => Ours("-Endpoint", ep, "-Target", "s3")),
                    ("Backup-EtcdSnapshot -Store Azure Blob", true, () => Ours("-Endpoint", ep, "-Target", "blob")),
                    ("etcdctl snapshot save (local disk)", false, () => new Command("etcdctl", "--endpoints", ep, "snapshot", "save", snap)),
                    ("etcdctl snapshot save && s3cmd put", false, () => Command.Shell(SaveThenS3cmd, ep, snap, s3cfg)),
                    ("etcdctl snapshot save && curl Put Blob", false, () => Command.Shell(SaveThenCurl, ep, snap, $"{azUrl}/{Container}", sas)),
                };
                for (int r = 0; r <= o.StoresRounds; r++) // round 0 warms up
                    for (int k = 0; k < tools.Count; k++)
                    {
                        var t = tools[(k + r) % tools.Count];
                        Directory.CreateDirectory(outDir);
                        var m = Meter.Run(t.Make(), cluster.Watch(), _b.Ct);
                        var run = new Run { Tool = t.Name, Round = r, M = m, DataSet = "cluster-like" };
                        if (t.Ours) { var j = Scripts.Result(m); run.OutBytes = j.GetProperty("bytes").GetInt64(); run.PwshHwmKb = Scripts.HwmKb(j); }
                        BenchRun.Log($"round {r}: {t.Name,-40} {m.WallS,7:0.00} s  cpu {m.CpuS,6:0.00} s  rss {m.PeakRssKb / 1024.0,6:0.0} MB");
                        if (r > 0) runs.Add(run);
                        Directory.Delete(outDir, true);
                        if (File.Exists(snap)) File.Delete(snap);
                        if (t.Ours && t.Name.Contains("-Store")) Meter.Run(Ours("-Target", t.Name.Contains("S3") ? "s3" : "blob", "-Remove"));
                    }
                return Section(o, st.DbSize, runs, tools.Select(t => t.Name).ToList());
            }
            finally
            {
                try { if (az != null && !az.HasExited) { az.Kill(); az.WaitForExit(10000); } } catch { }
                try { Meter.Run(new Command("sh", Path.Combine(repo, "tests", "tools", "ceph-s3.sh"), "stop", cephDir) { Check = false }); } catch { }
                _b.StopCluster(cluster);
            }
        }

        private string Section(Options o, long dbSize, List<Run> runs, List<string> names)
        {
            double W(string n) => Stats.Median(runs.Where(r => r.Tool == n).Select(r => r.M.WallS));
            double local = W(names[0]), byHandLocal = W(names[3]);
            var sb = new StringBuilder();
            sb.Append($"## Backups into stores (issue #13 item 5)\n\n");
            sb.Append($"One etcd member with {dbSize / 1048576.0:0} MB of cluster-like data (db size); Ceph radosgw 16 and Azurite 3.37 on 127.0.0.1; median of {o.StoresRounds} rounds after one warm-up, tools in rotating order. ");
            sb.Append("Our runs are `pwsh -File` end to end (pwsh start and import included); the by-hand runs upload the uncompressed snapshot, as an operator would.\n\n");
            sb.Append("| procedure | wall s | ÷ ours to local disk | ÷ by hand, same store | CPU s | peak RSS MB | pwsh VmHWM MB | stored MB |\n|---|---|---|---|---|---|---|---|\n");
            for (int i = 0; i < names.Count; i++)
            {
                var rs = runs.Where(r => r.Tool == names[i]).ToList();
                double w = W(names[i]);
                string vsLocal = i < 3 ? (w / local).ToString("0.00", CultureInfo.InvariantCulture) : "";
                string vsHand = i < 3 ? (w / W(names[i + 3])).ToString("0.00", CultureInfo.InvariantCulture) : "";
                double stored = i < 3 ? Stats.Median(rs.Select(r => r.OutBytes)) / 1048576.0 : dbSize / 1048576.0;
                string hwm = i < 3 ? (Stats.Median(rs.Select(r => r.PwshHwmKb)) / 1024.0).ToString("0", CultureInfo.InvariantCulture) : "";
                sb.Append($"| {names[i]} | {w:0.00} | {vsLocal} | {vsHand} | {Stats.Median(rs.Select(r => r.M.CpuS)):0.00} | {Stats.Median(rs.Select(r => (double)r.M.PeakRssKb)) / 1024.0:0} | {hwm} | {stored:0} |\n");
            }
            sb.Append($"\npwsh's own high-water mark after start and Import-Module is {_b.Startup.MedianImportHwmKb / 1024.0:0} MB (see the start-up section); the engine's memory over it is the VmHWM column minus that.\n");
            return sb.ToString();
        }

        private static void WaitPort(int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try { using (new TcpClient("127.0.0.1", port)) return; }
                catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(100); }
            }
        }

        /// <summary>A service SAS for the container (read, add, create, write, delete, list), as Azure documents it.</summary>
        private static string ContainerSas(string container)
        {
            const string version = "2021-08-06";
            string start = DateTime.UtcNow.AddMinutes(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), expiry = DateTime.UtcNow.AddHours(3).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            string toSign = string.Join("\n", "racwdl", start, expiry, $"/blob/{AzAccount}/{container}", "", "", "", version, "c", "", "", "", "", "", "", "");
            using var hmac = new HMACSHA256(Convert.FromBase64String(AzKey));
            string sig = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(toSign)));
            return $"sv={version}&st={Uri.EscapeDataString(start)}&se={Uri.EscapeDataString(expiry)}&sr=c&sp=racwdl&sig={Uri.EscapeDataString(sig)}";
        }
    }
}
