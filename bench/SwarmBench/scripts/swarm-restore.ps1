# What a user runs to restore a manager backup onto a host and force a new cluster from it, started by SwarmBench as
#   pwsh -NoProfile -NonInteractive -File swarm-restore.ps1 -Spec SPEC.json -Result RESULT.json
# The cmdlet returns once the node is a ready manager whose services, secrets, configs and networks match the backup.
param([Parameter(Mandatory)][string] $Spec, [Parameter(Mandatory)][string] $Result)
$started = [Diagnostics.Stopwatch]::GetTimestamp()
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$s = Get-Content -Raw -LiteralPath $Spec | ConvertFrom-Json -AsHashtable
Import-Module -Name $env:CLUSTERDR_BENCH_MODULE
$imported = [Diagnostics.Stopwatch]::GetTimestamp()
$rssImported = (Get-Content /proc/self/status | Select-String '^VmRSS:\s+(\d+)').Matches[0].Groups[1].Value
$r = Restore-SwarmManager -LiteralPath $s.Path -Node localhost -DockerHost $s.DockerHost -DataRoot $s.DataRoot -StopCommand $s.StopCommand `
    -StartCommand $s.StartCommand -AdvertiseAddress $s.AdvertiseAddress -ListenAddress $s.ListenAddress -Confirm:$false -WarningAction SilentlyContinue
$done = [Diagnostics.Stopwatch]::GetTimestamp()
$hwm = (Get-Content /proc/self/status | Select-String '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
[ordered]@{
    started = $started; imported = $imported; done = $done; pid = $PID
    rssImportedKb = [long]$rssImported; hwmKb = [long]$hwm
    restored = [bool]$r; hasQuorum = [bool]$r.Swarm.HasQuorum
} | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath $Result
