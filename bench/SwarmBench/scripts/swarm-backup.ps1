# What a user runs to back up a swarm manager, started by SwarmBench as
#   pwsh -NoProfile -NonInteractive -File swarm-backup.ps1 -Spec SPEC.json -Result RESULT.json
# SPEC holds the cmdlet's arguments (autolock is off in the bench: no key; a key would come on stdin, never
# in SPEC); the module is the manifest in $env:CLUSTERDR_BENCH_MODULE (set by BenchCommon's Pwsh).
# RESULT gets Stopwatch timestamps (CLOCK_MONOTONIC ns, the parent's clock) to split pwsh start,
# Import-Module and the cmdlet, plus this process's own memory.
param([Parameter(Mandatory)][string] $Spec, [Parameter(Mandatory)][string] $Result)
$started = [Diagnostics.Stopwatch]::GetTimestamp()
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$s = Get-Content -Raw -LiteralPath $Spec | ConvertFrom-Json -AsHashtable
Import-Module -Name $env:CLUSTERDR_BENCH_MODULE
$imported = [Diagnostics.Stopwatch]::GetTimestamp()
$rssImported = (Get-Content /proc/self/status | Select-String '^VmRSS:\s+(\d+)').Matches[0].Groups[1].Value
# -Force: the bench's swarm has one manager, and stopping it costs quorum (QuorumAtRisk otherwise).
$b = Backup-SwarmManager -Node localhost -DockerHost $s.DockerHost -DataRoot $s.DataRoot -StopCommand $s.StopCommand -StartCommand $s.StartCommand `
    -Path $s.Directory -Label $s.Label -Force -Confirm:$false -WarningAction SilentlyContinue
$done = [Diagnostics.Stopwatch]::GetTimestamp()
$hwm = (Get-Content /proc/self/status | Select-String '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
[ordered]@{
    started = $started; imported = $imported; done = $done; pid = $PID
    rssImportedKb = [long]$rssImported; hwmKb = [long]$hwm
    path = $b.Path; sizeBytes = $b.SizeBytes; facts = $b.Facts
} | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath $Result
