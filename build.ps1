#requires -Version 7.0
<#
.SYNOPSIS
    Builds, tests, documents, packages and demonstrates the ClusterDR module.
.DESCRIPTION
    Build    out/ClusterDR: the module folder (psd1, assemblies, format file, help).
    Test     the xunit suite, then the Pester suite.
    Pester   the Pester suite only (tests/pester) against out/ClusterDR.
    Docs     the help only: MAML and about_ClusterDR.help.txt from docs/en-US (tools/HelpBuilder; Build does it too).
    Package  out/ClusterDR.zip (Azure Automation: the zip holds the ClusterDR folder) and out/ClusterDR.<version>.nupkg
             (Compress-PSResource, with the gallery's command tags); fails when the module folder has no help.
    Demo     the main job: back up, verify and restore a throwaway 3-member etcd cluster on loopback.
.EXAMPLE
    ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Pester', 'Docs', 'Package', 'Demo')]
    [string] $Task = 'Build',
    [switch] $NoBuild
)

$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$module = Join-Path $out 'ClusterDR'

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# build.sh is the one place every build goes through, help included.
function Invoke-Build { Invoke-Native sh @((Join-Path $root 'build.sh'), 'build') }

function Invoke-Docs { Invoke-Native sh @((Join-Path $root 'build.sh'), 'help') }

function Invoke-Pester5 {
    $pester = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0' | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $pester) { throw 'Pester 5 is not installed (Install-Module Pester -MinimumVersion 5.0).' }
    Import-Module $pester -Force
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/pester'
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $env:CLUSTERDR_MODULE = Join-Path $module 'ClusterDR.psd1'
    $result = Invoke-Pester -Configuration $config
    $results = Join-Path $out 'test-results'
    $null = New-Item -ItemType Directory -Force $results
    Set-Content -Path (Join-Path $results 'pester.counts') -Value "$($result.PassedCount) $($result.FailedCount)"
    "pester: $($result.PassedCount) passed, $($result.FailedCount) failed"
    if ($result.FailedCount -gt 0 -or $result.TotalCount -eq 0) { throw "Pester: $($result.FailedCount) failed of $($result.TotalCount)." }
}

. (Join-Path $root 'tools/ModulePackage.ps1')
function Invoke-Package { New-ModulePackage -Module $module -Out $out }

function Invoke-Demo {
    Import-Module (Join-Path $module 'ClusterDR.psd1') -Force
    $tool = Join-Path $root 'tests/tools'
    Invoke-Native sh @((Join-Path $tool 'install-deps.sh'), 'etcd')
    $work = Join-Path ([System.IO.Path]::GetTempPath()) "clusterdr-demo-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $basePort = Get-Random -Minimum 30000 -Maximum 39000
    Write-Host "`n== A throwaway 3-member etcd cluster on 127.0.0.1 ($work)" -ForegroundColor Cyan
    try {
        $lines = & sh (Join-Path $tool 'etcd-cluster.sh') start (Join-Path $work 'etcd') 3 $basePort
        if ($LASTEXITCODE -ne 0) { throw 'Could not start etcd.' }
        $members = foreach ($line in $lines) {
            $name, $peer, $client, $data = $line -split ' '
            @{ Name = $name; Node = 'localhost'; PeerUrl = $peer; ClientUrl = $client; DataDir = $data
               StartCommand = "sh $work/etcd/$name/start.sh"; StopCommand = "sh $work/etcd/$name/stop.sh" }
        }
        $endpoints = $members.ClientUrl
        $deadline = (Get-Date).AddSeconds(30)
        do { Start-Sleep -Milliseconds 300; $status = Get-EtcdClusterStatus -Endpoint $endpoints -WarningAction SilentlyContinue -ErrorAction SilentlyContinue }
        until (($status -and $status.HealthyCount -eq 3) -or (Get-Date) -gt $deadline)
        foreach ($i in 1..20) { & etcdctl --endpoints=$($endpoints[0]) put "/demo/key$i" "value $i" | Out-Null }

        Write-Host "`n== Get-EtcdClusterStatus" -ForegroundColor Cyan
        $status = Get-EtcdClusterStatus -Endpoint $endpoints
        $status | Out-Host
        $status.Members | Out-Host

        Write-Host "== Backup-EtcdSnapshot | Test-ClusterBackup" -ForegroundColor Cyan
        $backup = Backup-EtcdSnapshot -Endpoint $endpoints[0] -Path (Join-Path $work 'backups') -Label demo | Test-ClusterBackup
        $backup | Out-Host
        $backup | Select-Object Name, Verified, Verification, @{ n = 'Revision'; e = { $_.Facts.revision } } | Format-List | Out-Host

        Write-Host "== Disaster: a key written after the backup, then members e2 and e3 destroyed" -ForegroundColor Cyan
        & etcdctl --endpoints=$($endpoints[0]) put /demo/after-backup 'not in the backup' | Out-Null
        foreach ($m in $members[1..2]) { & sh -c $m.StopCommand; Remove-Item -Recurse -Force $m.DataDir }
        Get-EtcdClusterStatus -Endpoint $endpoints -WarningAction Continue | Out-Host

        Write-Host "== Restore-EtcdSnapshot -WhatIf (changes nothing)" -ForegroundColor Cyan
        $backup | Restore-EtcdSnapshot -Member $members -WhatIf

        Write-Host "`n== Restore-EtcdSnapshot -Confirm:`$false" -ForegroundColor Cyan
        $result = $backup | Restore-EtcdSnapshot -Member $members -Confirm:$false
        $result | Out-Host

        Write-Host "== After the restore" -ForegroundColor Cyan
        (Get-EtcdClusterStatus -Endpoint $endpoints).Members | Out-Host
        $keys = & etcdctl --endpoints=$($endpoints[1]) get /demo/ --prefix --keys-only | Where-Object { $_ }
        "{0} keys under /demo/ on e2; /demo/after-backup present: {1}" -f $keys.Count, ($keys -contains '/demo/after-backup') | Out-Host
        Get-ClusterBackup -Path (Join-Path $work 'backups') | Out-Host
    }
    finally {
        & sh (Join-Path $tool 'etcd-cluster.sh') stop (Join-Path $work 'etcd') 2>$null
        Remove-Item -Recurse -Force $work -ErrorAction Ignore
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Docs' { Invoke-Docs }
    'Pester' { if (-not $NoBuild) { Invoke-Build }; Invoke-Pester5 }
    'Test' { Invoke-Native sh @((Join-Path $root 'build.sh'), 'test') }
    'Package' { if (-not $NoBuild) { Invoke-Build }; Invoke-Package }
    'Demo' { if (-not $NoBuild) { Invoke-Build }; Invoke-Demo }
}
