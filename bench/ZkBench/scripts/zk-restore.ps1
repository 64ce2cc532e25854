# What a user runs to restore every ZooKeeper server from one backup, started by ZkBench as
#   pwsh -NoProfile -NonInteractive -File zk-restore.ps1 -Spec SPEC.json -Result RESULT.json
# -Force because the bench's ensemble is healthy (the cmdlet refuses that otherwise); the cmdlet
# returns once every server serves with one leader and the znode count matches the backup.
param([Parameter(Mandatory)][string] $Spec, [Parameter(Mandatory)][string] $Result)
$started = [Diagnostics.Stopwatch]::GetTimestamp()
$ErrorActionPreference = 'Stop'
# As in a runbook: no progress bars (nothing would show them; BenchCommon's scripts do the same).
$ProgressPreference = 'SilentlyContinue'
$s = Get-Content -Raw -LiteralPath $Spec | ConvertFrom-Json -AsHashtable
Import-Module -Name $env:CLUSTERDR_BENCH_MODULE
$imported = [Diagnostics.Stopwatch]::GetTimestamp()
$rssImported = (Get-Content /proc/self/status | Select-String '^VmRSS:\s+(\d+)').Matches[0].Groups[1].Value
$r = Restore-ZkState -LiteralPath $s.Path -Member $s.Member -Force -Confirm:$false
$done = [Diagnostics.Stopwatch]::GetTimestamp()
$hwm = (Get-Content /proc/self/status | Select-String '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
[ordered]@{
    started = $started; imported = $imported; done = $done; pid = $PID
    rssImportedKb = [long]$rssImported; hwmKb = [long]$hwm
    restored = [bool]$r
} | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath $Result
