using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Issue #14 item 7: the cost of encryption. One etcd filled to --encryption-mb, per data set: Backup-EtcdSnapshot,
    /// the same with -Recipient (age X25519) and with -Passphrase (age scrypt), each through pwsh end to end, against
    /// `etcdctl snapshot save` and what an operator does by hand: `etcdctl snapshot save f && age -r … -o f.age f`.
    /// </summary>
    public sealed class EncryptionBench
    {
        private readonly BenchRun _b;
        public EncryptionBench(BenchRun b) { _b = b; }

        private static string Script(string dir) => Pwsh.Script(dir, "encryption.ps1", @"
function Get-BenchHwm { [long][regex]::Match([IO.File]::ReadAllText(""/proc/$PID/status""), 'VmHWM:\s*(\d+)').Groups[1].Value }
$b = switch ($Mode) {
    'recipient'  { Backup-EtcdSnapshot -Endpoint $Endpoint -Path $Path -Recipient $env:BENCH_RECIPIENT }
    'passphrase' { Backup-EtcdSnapshot -Endpoint $Endpoint -Path $Path -Passphrase (ConvertTo-SecureString $env:BENCH_PASS -AsPlainText -Force) }
    default      { Backup-EtcdSnapshot -Endpoint $Endpoint -Path $Path }
}
'" + Scripts.ResultPrefix + @"' + (@{ path = $b.Path; bytes = $b.SizeBytes; vmHwmKb = Get-BenchHwm } | ConvertTo-Json -Compress)
", param: "param([string]$Endpoint, [string]$Path, [ValidateSet('plain', 'recipient', 'passphrase')][string]$Mode = 'plain')");

        // By hand: the snapshot, then age to the recipient; the plain file goes. Args: ENDPOINT FILE RECIPIENT.
        private const string SaveThenAge = "etcdctl --endpoints \"$1\" snapshot save \"$2\" > /dev/null && age -r \"$3\" -o \"$2.age\" \"$2\" && rm -f \"$2\" \"$2.age\"";

        public string Run()
        {
            var o = _b.O;
            if (Meter.Run(new Command("sh", "-c", "command -v age") { Check = false }).ExitCode != 0) throw new InvalidOperationException("--encryption needs age: apt-get install age");
            string work = Path.Combine(_b.Root, "encryption");
            Directory.CreateDirectory(work);
            string keyFile = Path.Combine(work, "key.txt");
            Meter.Run(new Command("age-keygen", "-o", keyFile));
            string recipient = Meter.Run(new Command("age-keygen", "-y", keyFile)).Stdout.Trim();
            var env = new Dictionary<string, string> { ["BENCH_RECIPIENT"] = recipient, ["BENCH_PASS"] = "bench-" + Guid.NewGuid().ToString("N") };
            string script = Script(_b.ScriptDir);
            Command Ours(params string[] args) { var c = _b.Pwsh.Command(script, args); foreach (var kv in env) c.Env[kv.Key] = kv.Value; return c; }
            var sb = new StringBuilder();
            sb.Append("## Encrypted backups (issue #14 item 7)\n\n");
            sb.Append($"One etcd member per data set, filled to {o.EncryptionMb} MB; median of {o.EncryptionRounds} rounds after one warm-up, tools in rotating order. ");
            sb.Append("Ours are `pwsh -File` end to end (pwsh start and import included). By hand: `etcdctl snapshot save f && age -r R -o f.age f` (etcdctl writes only to a file, so nothing can be piped into age).\n\n");
            foreach (var ds in o.DataSets)
            {
                var cluster = _b.StartCluster("enc-" + ds, 1);
                try
                {
                    BenchRun.Log($"filling with {ds} data to {o.EncryptionMb} MB");
                    cluster.FillTo(DataSets.ByName(ds), o.EncryptionMb * 1048576L, o.Writers, BenchRun.Log, _b.Ct);
                    Thread.Sleep(1500);
                    var st = cluster.Status(_b.Ct);
                    string ep = cluster.Members[0].ClientUrl, outDir = Path.Combine(work, "out"), snap = Path.Combine(work, "snapshot.db");
                    var tools = new List<(string Name, bool Ours, Func<Command> Make)>
                    {
                        ("Backup-EtcdSnapshot", true, () => Ours("-Endpoint", ep, "-Path", outDir)),
                        ("Backup-EtcdSnapshot -Recipient", true, () => Ours("-Endpoint", ep, "-Path", outDir, "-Mode", "recipient")),
                        ("Backup-EtcdSnapshot -Passphrase", true, () => Ours("-Endpoint", ep, "-Path", outDir, "-Mode", "passphrase")),
                        ("etcdctl snapshot save", false, () => new Command("etcdctl", "--endpoints", ep, "snapshot", "save", snap)),
                        ("etcdctl snapshot save && age -r", false, () => Command.Shell(SaveThenAge, ep, snap, recipient)),
                    };
                    var runs = new List<Run>();
                    for (int r = 0; r <= o.EncryptionRounds; r++)
                        for (int k = 0; k < tools.Count; k++)
                        {
                            var t = tools[(k + r) % tools.Count];
                            Directory.CreateDirectory(outDir);
                            var m = Meter.Run(t.Make(), cluster.Watch(), _b.Ct);
                            var run = new Run { Tool = t.Name, Round = r, M = m, DataSet = ds };
                            if (t.Ours) { var j = Scripts.Result(m); run.OutBytes = j.GetProperty("bytes").GetInt64(); run.PwshHwmKb = Scripts.HwmKb(j); }
                            BenchRun.Log($"round {r}: {t.Name,-36} {m.WallS,7:0.00} s  cpu {m.CpuS,6:0.00} s  rss {m.PeakRssKb / 1024.0,6:0.0} MB");
                            if (r > 0) runs.Add(run);
                            Directory.Delete(outDir, true);
                            if (File.Exists(snap)) File.Delete(snap);
                        }
                    sb.Append(Table(ds, st.DbSize, runs, tools.Select(t => t.Name).ToList()));
                }
                finally { _b.StopCluster(cluster); }
            }
            return sb.ToString();
        }

        private static string Table(string ds, long dbSize, List<Run> runs, List<string> names)
        {
            double W(string n) => Stats.Median(runs.Where(r => r.Tool == n).Select(r => r.M.WallS));
            var sb = new StringBuilder();
            sb.Append($"### {ds}: {dbSize / 1048576.0:0} MB db\n\n");
            sb.Append("| procedure | wall s | ÷ unencrypted backup | ÷ etcdctl save | ÷ save && age -r | CPU s | peak RSS MB | pwsh VmHWM MB | stored MB |\n|---|---|---|---|---|---|---|---|---|\n");
            foreach (var n in names)
            {
                var rs = runs.Where(r => r.Tool == n).ToList();
                double w = W(n);
                bool ours = rs.Any(r => r.OutBytes >= 0);
                string F(double x) => x.ToString("0.00", CultureInfo.InvariantCulture);
                string stored = ours ? (Stats.Median(rs.Select(r => r.OutBytes)) / 1048576.0).ToString("0", CultureInfo.InvariantCulture) : (dbSize / 1048576.0).ToString("0", CultureInfo.InvariantCulture);
                string hwm = ours ? (Stats.Median(rs.Select(r => r.PwshHwmKb)) / 1024.0).ToString("0", CultureInfo.InvariantCulture) : "";
                sb.Append($"| {n} | {F(w)} | {F(w / W(names[0]))} | {F(w / W(names[3]))} | {F(w / W(names[4]))} | {Stats.Median(rs.Select(r => r.M.CpuS)):0.00} | {Stats.Median(rs.Select(r => (double)r.M.PeakRssKb)) / 1024.0:0} | {hwm} | {stored} |\n");
            }
            sb.Append('\n');
            return sb.ToString();
        }
    }
}
