using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    /// <summary>The scripts that are timed: pwsh scripts calling the cmdlets as a user would, and the by-hand shell procedures.</summary>
    public static class Scripts
    {
        public const string ResultPrefix = "BENCH-RESULT ";

        /// <summary>Appended to every pwsh script: pwsh's own peak RSS (kernel high-water mark of this process).</summary>
        private const string Hwm = "function Get-BenchHwm { [long][regex]::Match([IO.File]::ReadAllText(\"/proc/$PID/status\"), 'VmHWM:\\s*(\\d+)').Groups[1].Value }\n";

        /// <summary>Backup-EtcdSnapshot with its defaults; -CompressionLevel only for a named variant. The archive path comes from the output object.</summary>
        public static string Backup(string dir) => Pwsh.Script(dir, "backup.ps1", Hwm + @"
$extra = @{}
if ($CompressionLevel) { $extra.CompressionLevel = $CompressionLevel }
$b = Backup-EtcdSnapshot -Endpoint $Endpoint -Path $Path @extra
'" + ResultPrefix + @"' + (@{ path = $b.Path; bytes = (Get-Item -LiteralPath $b.Path).Length; vmHwmKb = Get-BenchHwm } | ConvertTo-Json -Compress)
", param: "param([Parameter(Mandatory)][string]$Endpoint, [Parameter(Mandatory)][string]$Path, [string]$CompressionLevel)");

        /// <summary>Restore-EtcdSnapshot over members described in a JSON file (name, peer/client URL, data dir, member dir with start.sh/stop.sh).</summary>
        public static string Restore(string dir) => Pwsh.Script(dir, "restore.ps1", Hwm + @"
$members = foreach ($m in (Get-Content -Raw -LiteralPath $MembersJson | ConvertFrom-Json)) {
    @{ Name = $m.Name; Node = 'localhost'; PeerUrl = $m.PeerUrl; ClientUrl = $m.ClientUrl; DataDir = $m.DataDir
       StartCommand = ""sh '$($m.Dir)/start.sh'""; StopCommand = ""sh '$($m.Dir)/stop.sh'"" }
}
$r = Restore-EtcdSnapshot -LiteralPath $Archive -Member $members -Confirm:$false
'" + ResultPrefix + @"' + (@{ revision = $r.Revision; vmHwmKb = Get-BenchHwm } | ConvertTo-Json -Compress)
", param: "param([Parameter(Mandatory)][string]$Archive, [Parameter(Mandatory)][string]$MembersJson)");

        /// <summary>Several clusters from one pwsh: one after the other, or ForEach-Object -Parallel (each runspace imports the module itself).</summary>
        public static string Many(string dir) => Pwsh.Script(dir, "many.ps1", Hwm + @"
$list = $Endpoints -split ','   # not $endpoints: names are case-insensitive, and $Endpoints is a [string]
if ($Mode -eq 'parallel') {
    $results = $list | ForEach-Object -ThrottleLimit 5 -Parallel {
        Import-Module -Name $env:CLUSTERDR_BENCH_MODULE
        Backup-EtcdSnapshot -Endpoint $_ -Path (Join-Path $using:OutDir ('c' + ([uri]$_).Port))
    }
} else {
    $results = foreach ($e in $list) { Backup-EtcdSnapshot -Endpoint $e -Path (Join-Path $OutDir ('c' + ([uri]$e).Port)) }
}
'" + ResultPrefix + @"' + (@{ paths = @($results | ForEach-Object { $_.Path }); vmHwmKb = Get-BenchHwm } | ConvertTo-Json -Compress)
", param: "param([Parameter(Mandatory)][string]$Endpoints, [Parameter(Mandatory)][string]$OutDir, [ValidateSet('parallel', 'sequential')][string]$Mode = 'parallel')");

        /// <summary>
        /// Untimed check of what a run wrote: every file under DIR straight into Test-ClusterBackup (by PSPath), so a
        /// damaged archive fails here. Not through Get-ClusterBackup: its listing also leaves out some intact
        /// archives as "truncated" (see the report's notes), which would hide what this check is for.
        /// </summary>
        public static string Verify(string dir) => Pwsh.Script(dir, "verify.ps1", @"
foreach ($t in Get-ChildItem -LiteralPath $Dir -File -Recurse | Test-ClusterBackup) { 'VERIFY ' + $t.Verified + ' ' + $t.Path }
", param: "param([Parameter(Mandatory)][string]$Dir)");

        /// <summary>
        /// The documented disaster-recovery procedure as an operator scripts it (etcd's "Restoring a cluster"): stop
        /// every member, move its data dir aside, `etcdctl snapshot restore` per member with --name,
        /// --initial-cluster, --initial-cluster-token, --initial-advertise-peer-urls, --data-dir; start all; poll
        /// `etcdctl endpoint health` over all members every 0.2 s until it passes.
        /// Args: SNAPSHOT MEMBERS-FILE (lines: name peer-url client-url data-dir member-dir).
        /// </summary>
        public const string RestoreByHand = @"set -eu
snap=$1; members=$2; token=byhand-$(date +%s%N); stamp=$(date +%s%N)
initial=$(awk '{ printf ""%s%s=%s"", (NR > 1 ? "","" : """"), $1, $2 }' ""$members"")
clients=$(awk '{ printf ""%s%s"", (NR > 1 ? "","" : """"), $3 }' ""$members"")
while read -r name peer client data dir; do sh ""$dir/stop.sh""; done < ""$members""
while read -r name peer client data dir; do
    [ ! -e ""$data"" ] || mv ""$data"" ""$data.byhand-$stamp""
    etcdctl snapshot restore ""$snap"" --name ""$name"" --initial-cluster ""$initial"" --initial-cluster-token ""$token"" \
        --initial-advertise-peer-urls ""$peer"" --data-dir ""$data"" > /dev/null 2>&1
done < ""$members""
while read -r name peer client data dir; do sh ""$dir/start.sh""; done < ""$members""
n=0
until etcdctl --endpoints ""$clients"" --dial-timeout 1s --command-timeout 2s endpoint health > /dev/null 2>&1; do
    n=$((n + 1)); [ ""$n"" -lt 600 ] || { echo 'not healthy after 120 s' >&2; exit 1; }
    sleep 0.2
done
";

        /// <summary>etcdctl snapshot save, then a compressor over the file (as an operator would). Args: ENDPOINT FILE.</summary>
        public const string SaveThenGzip = "etcdctl --endpoints \"$1\" snapshot save \"$2\" > /dev/null && gzip -1 \"$2\"";
        public const string SaveThenZstd = "etcdctl --endpoints \"$1\" snapshot save \"$2\" > /dev/null && zstd -1 -q --rm \"$2\"";

        public static JsonElement Result(Measurement m)
        {
            string line = m.Stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
            if (line == null) throw new InvalidOperationException("the script printed no result:\n" + Meter.Tail(m.Stdout) + "\n" + Meter.Tail(m.Stderr));
            return JsonDocument.Parse(line.Substring(ResultPrefix.Length)).RootElement.Clone();
        }

        public static long HwmKb(JsonElement r) => r.TryGetProperty("vmHwmKb", out var v) ? v.GetInt64() : -1;
    }
}
