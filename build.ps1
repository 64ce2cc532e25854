#requires -Version 7.0
<#
.SYNOPSIS
    Builds, tests, documents, packages and demonstrates the ClusterDR module (the steps are in build.psm1).
.DESCRIPTION
    Build    out/ClusterDR: the module folder (psd1, assemblies, format file, help).
    Docs     the help only: MAML and about_ClusterDR.help.txt from docs/en-US (tools/HelpBuilder; Build does it too).
    Test     the servers (tests/tools/install-deps.sh), Build, xunit, the version matrix (etcd 3.5, dockerd 26, ZooKeeper 3.9
             from tests/tools/install-newer.sh), the Pester suite, and the closing line "tests: N passed, N failed".
    Pester   the Pester suite only (tests/pester) against out/ClusterDR.
    Package  out/ClusterDR.zip (Azure Automation: the zip holds the ClusterDR folder) and out/ClusterDR.<version>.nupkg
             (Compress-PSResource, with the gallery's command tags); fails when the module folder has no help.
    Demo     the main job: back up, verify and restore a throwaway 3-member etcd cluster on loopback.
    Exits 1 when a step fails, a suite fails or a suite runs no test.
.EXAMPLE
    ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Pester', 'Docs', 'Package', 'Demo')]
    [string] $Task = 'Build',
    # Pester, Package, Demo: use out/ClusterDR as it is.
    [switch] $NoBuild
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'build.psm1') -Force
try {
    Invoke-BuildTask -Task $Task -NoBuild:$NoBuild
}
catch {
    # A failed test run has said so in its closing line already.
    if ($_.FullyQualifiedErrorId -notlike 'TestsFailed,*') { [Console]::Error.WriteLine(($_ | Out-String).TrimEnd()) }
    exit 1
}
exit 0
