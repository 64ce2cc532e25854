# What a user runs to rehearse a ZooKeeper backup, started by ZkBench --rehearse as
#   pwsh -NoProfile -NonInteractive -File zk-rehearse.ps1 -Path ARCHIVE
param([Parameter(Mandatory)][string] $Path)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module -Name $env:CLUSTERDR_BENCH_MODULE
$b = Test-ClusterBackup -LiteralPath $Path -Rehearse
if (-not $b.Rehearsal.Passed) { throw 'the rehearsal did not pass' }
'{0:0.000}' -f $b.Rehearsal.Duration.TotalSeconds
