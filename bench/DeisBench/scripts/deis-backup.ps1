# What a user runs to back up the Deis store, started by DeisBench as
#   pwsh -NoProfile -NonInteractive -File deis-backup.ps1 -Spec SPEC.json -Result RESULT.json
# The S3 secret key comes on stdin (first line), never on a command line or in SPEC; SPEC holds the other
# arguments. The module is the manifest in $env:CLUSTERDR_BENCH_MODULE (set by BenchCommon's Pwsh).
# RESULT gets Stopwatch timestamps (CLOCK_MONOTONIC ns, the parent's clock) to split pwsh start,
# Import-Module and the cmdlet, plus this process's own memory.
param([Parameter(Mandatory)][string] $Spec, [Parameter(Mandatory)][string] $Result)
$started = [Diagnostics.Stopwatch]::GetTimestamp()
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$s = Get-Content -Raw -LiteralPath $Spec | ConvertFrom-Json -AsHashtable
$cred = [pscredential]::new($s.AccessKey, (ConvertTo-SecureString ([Console]::In.ReadLine()) -AsPlainText -Force))
Import-Module -Name $env:CLUSTERDR_BENCH_MODULE
$imported = [Diagnostics.Stopwatch]::GetTimestamp()
$rssImported = (Get-Content /proc/self/status | Select-String '^VmRSS:\s+(\d+)').Matches[0].Groups[1].Value
$a = @{ GatewayUri = $s.Gateway; Credential = $cred; Node = 'localhost'; CephCommand = $s.CephCommand; Path = $s.Directory; SkipVolume = $true }
if ($s.DumpCommand) { $a.IncludeDatabase = $true; $a.DatabaseDumpCommand = $s.DumpCommand }
$b = Backup-DeisStore @a -Confirm:$false
$done = [Diagnostics.Stopwatch]::GetTimestamp()
$hwm = (Get-Content /proc/self/status | Select-String '^VmHWM:\s+(\d+)').Matches[0].Groups[1].Value
[ordered]@{
    started = $started; imported = $imported; done = $done; pid = $PID
    rssImportedKb = [long]$rssImported; hwmKb = [long]$hwm
    path = $b.Path; sizeBytes = $b.SizeBytes; facts = $b.Facts
} | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath $Result
