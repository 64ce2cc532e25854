# What a user runs to back up one ZooKeeper server, started by ZkBench as
#   pwsh -NoProfile -NonInteractive -File zk-backup.ps1 -Spec SPEC.json -Result RESULT.json
# SPEC holds the cmdlet's arguments (no secrets: ZooKeeper has none here); the module is the manifest in
# $env:CLUSTERDR_BENCH_MODULE (BenchCommon's Pwsh sets it), so no other installed copy is picked up.
# RESULT gets Stopwatch timestamps (CLOCK_MONOTONIC in ns, the same clock as the parent's) so the parent
# can split pwsh start, Import-Module and the cmdlet, plus this process's own memory figures.
param([Parameter(Mandatory)][string] $Spec, [Parameter(Mandatory)][string] $Result)
$started = [Diagnostics.Stopwatch]::GetTimestamp()
$ErrorActionPreference = 'Stop'
# As in a runbook: no progress bars (nothing would show them; BenchCommon's scripts do the same).
$ProgressPreference = 'SilentlyContinue'
$s = Get-Content -Raw -LiteralPath $Spec | ConvertFrom-Json -AsHashtable
Import-Module -Name $env:CLUSTERDR_BENCH_MODULE
$imported = [Diagnostics.Stopwatch]::GetTimestamp()
# VmRSS after the import: pwsh + the module, before the engine does anything.
$rssImported = (Get-Content /proc/self/status | Select-String '^VmRSS:\s+(\d+)').Matches[0].Groups[1].Value
$b = Backup-ZkState -Member $s.Member -Server $s.Servers -Path $s.Directory -Label $s.Label -Cluster $s.Cluster -Confirm:$false
$done = [Diagnostics.Stopwatch]::GetTimestamp()
$hwm = (Get-Content /proc/self/status | Select-String '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
[ordered]@{
    started = $started; imported = $imported; done = $done; pid = $PID
    rssImportedKb = [long]$rssImported; hwmKb = [long]$hwm
    path = $b.Path; sizeBytes = $b.SizeBytes; facts = $b.Facts
} | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath $Result
