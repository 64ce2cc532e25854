using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Issue #15 item 5: Test-ClusterBackup -Rehearse of an etcd backup at --rehearsal-mb, through pwsh end to end, against
    /// the same done by hand on the same archive: unpack the snapshot, etcdutl (etcdctl on 3.4) snapshot restore, start
    /// etcd, poll etcdctl endpoint health, count the keys, stop etcd, delete its dir. Both also against the by-hand
    /// procedure on a plain etcdctl snapshot file (nothing to unpack), for what an operator without ClusterDR would do.
    /// </summary>
    public sealed class RehearsalBench
    {
        private readonly BenchRun _b;
        public RehearsalBench(BenchRun b) { _b = b; }

        private static string Script(string dir) => Pwsh.Script(dir, "rehearsal.ps1", @"
$b = Test-ClusterBackup -LiteralPath $Path -Rehearse -ErrorAction Stop
'" + Scripts.ResultPrefix + @"' + (@{ passed = $b.Rehearsal.Passed; seconds = $b.Rehearsal.Duration.TotalSeconds; checks = @($b.Rehearsal.Checks).Count } | ConvertTo-Json -Compress)
", param: "param([string]$Path)");

        // Args: SNAPSHOT-SOURCE (an archive, or a .db file) WORKDIR CLIENT-PORT PEER-PORT.
        private const string ByHand = @"set -e
src=$1; d=$2; c=http://127.0.0.1:$3; p=http://127.0.0.1:$4
mkdir -p ""$d""
case ""$src"" in *.db) snap=$src ;; *) snap=$d/snapshot.db; tar --zstd -xOf ""$src"" snapshot.db > ""$snap"" ;; esac
args=""--name m --initial-cluster m=$p --initial-advertise-peer-urls $p --data-dir $d/data""
if command -v etcdutl >/dev/null 2>&1; then etcdutl snapshot restore ""$snap"" $args >/dev/null 2>&1; else ETCDCTL_API=3 etcdctl snapshot restore ""$snap"" $args >/dev/null 2>&1; fi
etcd $args --listen-client-urls $c --advertise-client-urls $c --listen-peer-urls $p >""$d/etcd.log"" 2>&1 &
pid=$!
until etcdctl --endpoints $c endpoint health >/dev/null 2>&1; do sleep 0.1; done
etcdctl --endpoints $c get '' --from-key --limit=1 --keys-only -w json >/dev/null
kill $pid; wait $pid || true
rm -rf ""$d""";

        public string Run()
        {
            var o = _b.O;
            string work = Path.Combine(_b.Root, "rehearsal");
            Directory.CreateDirectory(work);
            string script = Script(_b.ScriptDir);
            var sb = new StringBuilder();
            sb.Append("## Rehearsal of an etcd backup (issue #15 item 5)\n\n");
            sb.Append($"One etcd member per data set, filled to {o.RehearsalMb} MB and backed up once (Backup-EtcdSnapshot, untimed); median of {o.RehearsalRounds} rounds after one warm-up, tools in rotating order. ");
            sb.Append("Ours: `pwsh -File` running `Test-ClusterBackup -Rehearse` end to end (pwsh start and import included): verify while extracting, restore, start a one-member etcd, wait for a leader and a linearizable read, compare revision, key count and 16 sampled keys, stop, delete. ");
            sb.Append("By hand (sh): unpack the snapshot from the same archive (`tar --zstd -xO`), `etcdutl snapshot restore` (etcdctl on 3.4), start etcd, poll `etcdctl endpoint health` every 0.1 s, `etcdctl get --limit=1 -w json` (its count is the whole range's; etcdctl 3.4 has no --count-only), stop, delete; and the same from a plain `etcdctl snapshot save` file, with nothing to unpack.\n\n");
            foreach (var ds in o.DataSets)
            {
                var cluster = _b.StartCluster("rh-" + ds, 1);
                string archive, snap = Path.Combine(work, "snapshot.db");
                long dbSize;
                try
                {
                    BenchRun.Log($"filling with {ds} data to {o.RehearsalMb} MB");
                    cluster.FillTo(DataSets.ByName(ds), o.RehearsalMb * 1048576L, o.Writers, BenchRun.Log, _b.Ct);
                    Thread.Sleep(1500);
                    dbSize = cluster.Status(_b.Ct).DbSize;
                    string ep = cluster.Members[0].ClientUrl;
                    var m = Meter.Run(_b.Pwsh.Command(Scripts.Backup(_b.ScriptDir), "-Endpoint", ep, "-Path", Path.Combine(work, "archive")), null, _b.Ct);
                    archive = Scripts.Result(m).GetProperty("path").GetString();
                    Meter.Run(new Command("etcdctl", "--endpoints", ep, "snapshot", "save", snap), null, _b.Ct);
                }
                finally { _b.StopCluster(cluster); }
                var tools = new List<(string Name, Func<Command> Make)>
                {
                    ("Test-ClusterBackup -Rehearse", () => _b.Pwsh.Command(script, "-Path", archive)),
                    ("by hand, from the archive", () => Command.Shell(ByHand, archive, Path.Combine(work, "byhand"), FreePort(), FreePort())),
                    ("by hand, from etcdctl's snapshot file", () => Command.Shell(ByHand, snap, Path.Combine(work, "byhand"), FreePort(), FreePort())),
                };
                var runs = new List<Run>();
                for (int r = 0; r <= o.RehearsalRounds; r++)
                    for (int k = 0; k < tools.Count; k++)
                    {
                        var t = tools[(k + r) % tools.Count];
                        var m = Meter.Run(t.Make(), null, _b.Ct);
                        var run = new Run { Tool = t.Name, Round = r, M = m, DataSet = ds };
                        if (t.Name == tools[0].Name)
                        {
                            var j = Scripts.Result(m);
                            if (!j.GetProperty("passed").GetBoolean()) throw new InvalidOperationException("the rehearsal did not pass");
                            run.Note = j.GetProperty("seconds").GetDouble().ToString("0.00", CultureInfo.InvariantCulture);
                        }
                        BenchRun.Log($"round {r}: {t.Name,-40} {m.WallS,7:0.00} s  cpu {m.CpuS,6:0.00} s  rss {m.PeakRssKb / 1024.0,6:0.0} MB");
                        if (r > 0) runs.Add(run);
                    }
                File.Delete(snap);
                File.Delete(archive);
                sb.Append(Table(ds, dbSize, runs, tools.Select(t => t.Name).ToList(), _b.Startup));
            }
            return sb.ToString();
        }

        private static string FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int p = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return p.ToString(CultureInfo.InvariantCulture);
        }

        private static string Table(string ds, long dbSize, List<Run> runs, List<string> names, StartupCost startup)
        {
            double W(string n) => Stats.Median(runs.Where(r => r.Tool == n).Select(r => r.M.WallS));
            string F(double x) => x.ToString("0.00", CultureInfo.InvariantCulture);
            var sb = new StringBuilder();
            sb.Append($"### {ds}: {dbSize / 1048576.0:0} MB db\n\n");
            sb.Append("| procedure | wall s | ÷ by hand, archive | ÷ by hand, snapshot file | CPU s | peak RSS MB |\n|---|---|---|---|---|---|\n");
            foreach (var n in names)
            {
                var rs = runs.Where(r => r.Tool == n).ToList();
                double w = W(n);
                sb.Append($"| {n} | {F(w)} | {F(w / W(names[1]))} | {F(w / W(names[2]))} | {Stats.Median(rs.Select(r => r.M.CpuS)):0.00} | {Stats.Median(rs.Select(r => (double)r.M.PeakRssKb)) / 1024.0:0} |\n");
            }
            var inner = runs.Where(r => r.Tool == names[0] && r.Note != null).Select(r => double.Parse(r.Note, CultureInfo.InvariantCulture)).ToList();
            if (inner.Count > 0)
                sb.Append($"\nThe rehearsal itself (its Duration, inside the cmdlet): {F(Stats.Median(inner))} s; pwsh start + Import-Module: {F(startup.MedianWallS)} s (measured apart).\n");
            sb.Append('\n');
            return sb.ToString();
        }
    }
}
