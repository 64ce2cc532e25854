# Every step of the ClusterDR build, in one place: the module folder, its help, the test dependencies, xunit, the version
# matrix, Pester and the closing count, the demo and the packages. build.ps1 is the front that runs a task; build.sh is
# the POSIX front that only brings PowerShell 7 (tests/tools/install-pwsh.sh) and runs build.ps1.

$ErrorActionPreference = 'Stop'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

$script:Root = $PSScriptRoot
$script:Out = Join-Path $Root 'out'
$script:ModuleDir = Join-Path $Out 'ClusterDR'
$script:Results = Join-Path $Out 'test-results'
$script:TestTools = Join-Path $Root 'tests/tools'

. (Join-Path $Root 'tools/ModulePackage.ps1')

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Write-Problem([string] $Message) { [Console]::Error.WriteLine($Message) }

function Invoke-Build {
    # Laid out afresh: a stale engine left in the module folder would load into the default context beside lib/'s.
    Remove-Item -LiteralPath $ModuleDir -Recurse -Force -ErrorAction Ignore
    # The cmdlets at the top, the engine and its dependencies in lib/ (ClusterDR.csproj), the PowerShell 7 loader beside them.
    Invoke-Native dotnet @('publish', 'src/ClusterDR/ClusterDR.csproj', '-c', 'Release', '-o', 'out/ClusterDR', '--nologo', '-v', 'quiet')
    Invoke-Native dotnet @('publish', 'src/ClusterDR.Isolation/ClusterDR.Isolation.csproj', '-c', 'Release', '-o', 'out/ClusterDR', '--nologo', '-v', 'quiet')
    foreach ($f in @(Get-ChildItem -LiteralPath $ModuleDir -File -Filter *.pdb) + @(Get-ChildItem -LiteralPath $ModuleDir -File -Filter *.deps.json) +
                   @(Get-ChildItem -LiteralPath (Join-Path $ModuleDir 'lib') -File -Filter *.pdb -ErrorAction Ignore)) {
        Remove-Item -LiteralPath $f.FullName -Force
    }
    Invoke-Docs
}

# tools/HelpBuilder (Markdig, YamlDotNet) runs here and ships nothing but its output; it fails the build
# when an exported cmdlet has no page or a page lacks what Get-Help -Full shows.
function Invoke-Docs {
    Remove-Item -LiteralPath (Join-Path $ModuleDir 'en-US') -Recurse -Force -ErrorAction Ignore
    Invoke-Native dotnet @('run', '--project', 'tools/HelpBuilder/HelpBuilder.csproj', '-c', 'Release', '-v', 'quiet', '--', 'docs/en-US', 'ClusterDR.psd1', 'out/ClusterDR/en-US')
}

# The real servers the suites drive, from the distribution's packages when missing (a shell script: it runs before
# anything else on a fresh machine, and as root).
function Install-TestDependency([string[]] $Component = @()) {
    Invoke-Native sh (@((Join-Path $TestTools 'install-deps.sh')) + $Component)
}

# The pinned Pester (and PowerShell, when pwsh is not on PATH) from NuGet into out/tools; returns the pwsh to run it with.
function Install-Pester {
    $pwsh = & sh (Join-Path $TestTools 'install-pwsh.sh')
    if ($LASTEXITCODE -ne 0 -or -not $pwsh) { throw 'PowerShell 7 or Pester 5 could not be installed: the Pester suite cannot run.' }
    Use-ToolModule
    @($pwsh)[-1]
}

# out/tools/Modules (the pinned Pester) first on PSModulePath.
function Use-ToolModule {
    $modules = Join-Path $Out 'tools/Modules'
    if ((Test-Path -LiteralPath $modules) -and ($env:PSModulePath -split [IO.Path]::PathSeparator) -notcontains $modules) {
        $env:PSModulePath = $modules + $(if ($env:PSModulePath) { [IO.Path]::PathSeparator + $env:PSModulePath })
    }
}

# passed/failed/total from a trx file's <Counters> (0 when the file or the attribute is missing).
function Get-TrxCount([string] $Path) {
    $text = if (Test-Path -LiteralPath $Path) { Get-Content -LiteralPath $Path -Raw } else { '' }
    $count = [ordered]@{}
    foreach ($name in 'passed', 'failed', 'total') {
        $count[$name] = if ($text -cmatch "<Counters [^>]*\b$name=`"([0-9]+)`"") { [int]$Matches[1] } else { 0 }
    }
    [pscustomobject]$count
}

# The failed tests of a trx file, a line each with the first line of its message: the end of a CI log names them.
function Get-TrxFailure([string] $Path) {
    if (-not (Test-Path -LiteralPath $Path)) { return }
    $trx = [xml](Get-Content -LiteralPath $Path -Raw)
    foreach ($r in $trx.GetElementsByTagName('UnitTestResult')) {
        if ($r.outcome -ne 'Failed') { continue }
        $message = ($r.GetElementsByTagName('Message') | Select-Object -First 1).InnerText
        $first = if ($message) { ($message -split "`n")[0].Trim() } else { '' }
        if ($first.Length -gt 300) { $first = $first.Substring(0, 300) + '...' }
        "  $($r.testName): $first"
    }
}

# dotnet test of the solution into out/test-results/<Name>.trx, its output straight to the console; Get-TestRun reads the result.
$script:TestExitCode = @{}
function Invoke-DotnetTest([string] $Name, [string[]] $Arguments) {
    & dotnet @(@('test', 'ClusterDR.sln', '-c', 'Release') + $Arguments + @('--nologo', '--logger', "trx;LogFileName=$Name.trx", '--results-directory', 'out/test-results'))
    $TestExitCode[$Name] = $LASTEXITCODE
}

# The counts of a run of Invoke-DotnetTest and its exit code.
function Get-TestRun([string] $Name) {
    Get-TrxCount (Join-Path $Results "$Name.trx") | Add-Member -NotePropertyName ExitCode -NotePropertyValue $TestExitCode[$Name] -PassThru
}

# Runs $Body with the variables set in the environment (PATH prefixed when given as PathPrefix) and puts them back after.
function Invoke-WithEnvironment([hashtable] $Variables, [scriptblock] $Body) {
    $saved = @{}
    foreach ($name in $Variables.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    try {
        foreach ($name in $Variables.Keys) { [Environment]::SetEnvironmentVariable($name, $Variables[$name]) }
        & $Body
    }
    finally {
        foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }
}

# The version matrix: the etcd, swarm and ZooKeeper suites again against the newer servers operators run (Debian 13:
# etcd 3.5 with etcdutl, dockerd 26, ZooKeeper 3.9); the fixtures fail on any other version.
function Invoke-VersionMatrix {
    $lines = & sh (Join-Path $TestTools 'install-newer.sh')
    if ($LASTEXITCODE -ne 0) { throw 'The newer servers of the version matrix could not be fetched.' }
    $newer = @{}
    foreach ($line in $lines) { if ($line -match "^(\w+)='(.*)'$") { $newer[$Matches[1]] = $Matches[2] } }
    $environment = @{
        PATH = $newer['NEWER_PATH'] + [IO.Path]::PathSeparator + $env:PATH
        ZK_CLASSPATH = $newer['ZK_CLASSPATH']
        CLUSTERDR_EXPECT_ETCD = '3.5.'; CLUSTERDR_EXPECT_DOCKER = '26.'; CLUSTERDR_EXPECT_ZOOKEEPER = '3.9.'
    }
    $filter = '(FullyQualifiedName~ClusterDR.Tests.Etcd.|FullyQualifiedName~ClusterDR.Tests.Swarm.SwarmManagerTests|FullyQualifiedName~ClusterDR.Tests.ZooKeeper.ZkBackupRestoreTests)&FullyQualifiedName!~TwentyRestores'
    Invoke-WithEnvironment $environment { Invoke-DotnetTest newer @('--no-build', '--filter', $filter) }
}

# The Pester suite against out/ClusterDR; writes out/test-results/pester.counts ("passed failed") for the Test task.
# Invoke-Pester runs in the caller's session state (build.ps1's script scope), as the test files expect, not in this module's.
function Invoke-PesterSuite([System.Management.Automation.SessionState] $CallerState) {
    Use-ToolModule
    $pester = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0' | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $pester) { throw 'Pester 5 is not installed (Install-Module Pester -MinimumVersion 5.0).' }
    Import-Module $pester -Force -Global
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $Root 'tests/pester'
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $env:CLUSTERDR_MODULE = Join-Path $ModuleDir 'ClusterDR.psd1'
    $run = [scriptblock]::Create('param($Configuration) Invoke-Pester -Configuration $Configuration')
    $result = $ExecutionContext.InvokeCommand.InvokeScript($CallerState, $run, @($config)) | Select-Object -Last 1
    $null = New-Item -ItemType Directory -Force $Results
    Set-Content -Path (Join-Path $Results 'pester.counts') -Value "$($result.PassedCount) $($result.FailedCount)"
    Set-Content -Path (Join-Path $Results 'pester.failed') -Value @($result.Failed | ForEach-Object {
            $why = if ($_.ErrorRecord) { (("$($_.ErrorRecord[0])" -split "`n")[0]).Trim() } else { '' }
            "  $($_.ExpandedPath): $why"
        })
    "pester: $($result.PassedCount) passed, $($result.FailedCount) failed"
    if ($result.FailedCount -gt 0 -or $result.TotalCount -eq 0) { throw "Pester: $($result.FailedCount) failed of $($result.TotalCount)." }
}

# README's test command: the servers, the module, xunit, the version matrix, Pester in its own pwsh, and the closing line
# counting all three. Fails when any suite fails or runs no test; the closing line is the last line either way.
function Invoke-Test {
    Install-TestDependency
    Invoke-Build
    Remove-Item -LiteralPath $Results -Recurse -Force -ErrorAction Ignore
    $ok = $true

    Invoke-DotnetTest xunit @()
    $xunit = Get-TestRun xunit
    if ($xunit.ExitCode -ne 0) { $ok = $false }
    if ($xunit.total -eq 0) { Write-Problem 'xunit ran no test'; $ok = $false }
    $passed = $xunit.passed; $failed = $xunit.failed

    Invoke-VersionMatrix
    $matrix = Get-TestRun newer
    if ($matrix.ExitCode -ne 0) { $ok = $false }
    if ($matrix.total -eq 0) { Write-Problem 'the version matrix ran no test'; $ok = $false }
    "version matrix (etcd 3.5, dockerd 26, ZooKeeper 3.9): $($matrix.passed) passed, $($matrix.failed) failed"
    $passed += $matrix.passed; $failed += $matrix.failed

    # The Pester suite always runs: PowerShell and Pester come from NuGet when missing (tests/tools/install-pwsh.sh).
    $pwsh = Install-Pester
    $counts = Join-Path $Results 'pester.counts'
    Remove-Item -LiteralPath $counts -Force -ErrorAction Ignore
    & $pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build.ps1') -Task Pester -NoBuild
    if ($LASTEXITCODE -ne 0) { $ok = $false }
    if (Test-Path -LiteralPath $counts) {
        $pp, $pf = (Get-Content -LiteralPath $counts -TotalCount 1) -split ' '
        $passed += [int]$pp; $failed += [int]$pf
    }
    else {
        Write-Problem 'The Pester suite did not report its results.'; $ok = $false; $failed += 1
    }
    if ($failed -ne 0) {
        # Named again at the end, where a CI log's tail shows them.
        'failed:'
        Get-TrxFailure (Join-Path $Results 'xunit.trx') | ForEach-Object { "xunit$_" }
        Get-TrxFailure (Join-Path $Results 'newer.trx') | ForEach-Object { "version matrix$_" }
        $pesterFailed = Join-Path $Results 'pester.failed'
        if (Test-Path -LiteralPath $pesterFailed) { Get-Content -LiteralPath $pesterFailed | Where-Object { $_ } | ForEach-Object { "pester$_" } }
    }
    "tests: $passed passed, $failed failed"
    if ($failed -ne 0) { $ok = $false }
    # Reported above: build.ps1 exits 1 without another line.
    if (-not $ok) { Write-Error -ErrorId TestsFailed -Message 'Tests failed.' -ErrorAction Stop }
}

function Invoke-Package { New-ModulePackage -Module $ModuleDir -Out $Out }

function Invoke-Demo {
    Import-Module (Join-Path $ModuleDir 'ClusterDR.psd1') -Force -Global
    $tool = $TestTools
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

<#
.SYNOPSIS
    Runs one task of the build from the repository root: Build, Docs, Test, Pester, Package or Demo.
.PARAMETER NoBuild
    Pester, Package, Demo: use out/ClusterDR as it is.
#>
function Invoke-BuildTask {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [ValidateSet('Build', 'Test', 'Pester', 'Docs', 'Package', 'Demo')] [string] $Task,
        [switch] $NoBuild
    )
    Push-Location -LiteralPath $Root
    try {
        switch ($Task) {
            'Build' { Invoke-Build }
            'Docs' { Invoke-Docs }
            'Test' { Invoke-Test }
            'Pester' { if (-not $NoBuild) { Invoke-Build }; Invoke-PesterSuite $PSCmdlet.SessionState }
            'Package' { if (-not $NoBuild) { Invoke-Build }; Invoke-Package }
            'Demo' { if (-not $NoBuild) { Invoke-Build }; Invoke-Demo }
        }
    }
    finally { Pop-Location }
}

Export-ModuleMember -Function Invoke-BuildTask
