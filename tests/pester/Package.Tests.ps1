#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The Package task's two packages: the gallery .nupkg goes through a local PSResourceGet repository
# (find, find by command, install, import in a fresh pwsh); the Azure Automation zip holds the module folder.

BeforeAll {
    $script:module = Split-Path ($env:CLUSTERDR_MODULE ? $env:CLUSTERDR_MODULE : (Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1'))
    $script:manifest = Import-PowerShellDataFile (Join-Path $module 'ClusterDR.psd1')
    $script:work = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-package-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    . (Join-Path $PSScriptRoot '../../tools/ModulePackage.ps1')
    $script:zip, $script:nupkg = New-ModulePackage -Module $module -Out (Join-Path $work 'out')
    $script:pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')

    function Get-ZipEntries([string] $Path) {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $archive = [System.IO.Compression.ZipFile]::OpenRead($Path)
        try { $archive.Entries.FullName } finally { $archive.Dispose() }
    }
    function Read-ZipEntry([string] $Path, [string] $Name) {
        $archive = [System.IO.Compression.ZipFile]::OpenRead($Path)
        try { $reader = [IO.StreamReader]::new($archive.GetEntry($Name).Open()); try { $reader.ReadToEnd() } finally { $reader.Dispose() } }
        finally { $archive.Dispose() }
    }
    # A child pwsh with its own environment; returns the script's JSON output.
    function Invoke-Child([string] $Script, [hashtable] $Environment = @{}) {
        $saved = @{}
        foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
        try { $json = & $pwsh -NoProfile -NonInteractive -Command $Script 2>&1 }
        finally { foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) } }
        if ($LASTEXITCODE -ne 0) { throw "child pwsh failed ($LASTEXITCODE): $json" }
        ($json -join "`n") | ConvertFrom-Json
    }
}

AfterAll { if ($work) { Remove-Item -Recurse -Force $work -ErrorAction Ignore } }

Describe 'The gallery package' {
    It 'has the parts of an OPC package and the command tags Find-Command reads' {
        $nupkg.Name | Should -Be "ClusterDR.$($manifest.ModuleVersion).nupkg"
        $entries = Get-ZipEntries $nupkg
        $entries | Should -Contain '[Content_Types].xml'
        $entries | Should -Contain '_rels/.rels'
        $entries | Where-Object { $_ -like 'package/services/metadata/core-properties/*.psmdcp' } | Should -HaveCount 1
        foreach ($file in 'ClusterDR.psd1', 'ClusterDR.dll', 'LICENSE', 'en-US/ClusterDR.dll-Help.xml', 'en-US/about_ClusterDR.help.txt') { $entries | Should -Contain $file }
        $entries | Where-Object { $_ -match '(^|/)(Markdig|YamlDotNet)' } | Should -BeNullOrEmpty
        $tags = ([xml](Read-ZipEntry $nupkg 'ClusterDR.nuspec')).package.metadata.tags -split '\s+'
        $tags | Should -Contain 'PSModule'
        $tags | Should -Contain 'PSIncludes_Cmdlet'
        foreach ($c in $manifest.CmdletsToExport) { $tags | Should -Contain "PSCommand_$c"; $tags | Should -Contain "PSCmdlet_$c" }
    }

    It 'is found, found by command, installed from a local repository and imported in a fresh pwsh' {
        $repo = Join-Path $work 'repo'
        $data = Join-Path $work 'data'
        $null = New-Item -ItemType Directory -Force $repo, (Join-Path $data '.local/share')
        Copy-Item $nupkg $repo
        # HOME and XDG_DATA_HOME in $work hold PSResourceGet's repository list and the CurrentUser module path:
        # the test registers and installs nothing in the account that runs it (the child checks before installing).
        $found = Invoke-Child -Environment @{ HOME = $data; XDG_DATA_HOME = (Join-Path $data '.local/share') } -Script @"
`$ErrorActionPreference = 'Stop'
if (-not (`$env:PSModulePath -split [IO.Path]::PathSeparator)[0].StartsWith('$data')) { throw "CurrentUser's modules would not be in the test folder: `$env:PSModulePath" }
Register-PSResourceRepository -Name ClusterDRTest -Uri '$repo' -Trusted
try {
    `$byName = Find-PSResource -Name ClusterDR -Repository ClusterDRTest
    `$byCommand = Find-PSResource -CommandName Restore-DeisStore -Repository ClusterDRTest
    Install-PSResource -Name ClusterDR -Repository ClusterDRTest -TrustRepository -Scope CurrentUser -Quiet
    `$installed = Get-InstalledPSResource -Name ClusterDR -Scope CurrentUser
}
finally { Unregister-PSResourceRepository -Name ClusterDRTest }
[pscustomobject]@{
    Version = `$byName.Version.ToString(); CommandPackage = `$byCommand.ParentResource.Name; Commands = @(`$byCommand.Names)
    InstalledLocation = `$installed.InstalledLocation; Repositories = @((Get-PSResourceRepository).Name)
} | ConvertTo-Json -Compress
"@
        $found.Version | Should -Be $manifest.ModuleVersion
        $found.CommandPackage | Should -Be 'ClusterDR'
        $found.Commands | Should -Contain 'Restore-DeisStore'
        $found.InstalledLocation | Should -BeLike "$data*"
        $found.Repositories | Should -Not -Contain 'ClusterDRTest'

        $empty = Join-Path $work 'no-backups'
        $null = New-Item -ItemType Directory -Force $empty
        $loaded = Invoke-Child -Environment @{ PSModulePath = $found.InstalledLocation } -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module ClusterDR
[pscustomobject]@{
    Base = (Get-Module ClusterDR).ModuleBase; Backups = @(Get-ClusterBackup -Path '$empty').Count
    Synopsis = (Get-Help Get-ClusterBackup).Synopsis
} | ConvertTo-Json -Compress
"@
        $loaded.Base | Should -BeLike "$($found.InstalledLocation)*"
        $loaded.Backups | Should -Be 0
        $loaded.Synopsis | Should -Be 'Lists ClusterDR backup archives by reading their manifests, newest first.'
    }

    It 'leaves the repositories of the account that runs the test alone' {
        (Get-PSResourceRepository).Name | Should -Not -Contain 'ClusterDRTest'
    }
}

Describe 'The Azure Automation zip' {
    It 'holds the module folder at its root' {
        $entries = Get-ZipEntries $zip
        $entries | Should -Contain 'ClusterDR/ClusterDR.psd1'
        $entries | Should -Contain 'ClusterDR/en-US/ClusterDR.dll-Help.xml'
        $entries | Where-Object { $_ -notlike 'ClusterDR/*' } | Should -BeNullOrEmpty
    }
}

Describe 'New-ModulePackage' {
    It 'refuses a module folder without help' {
        $bare = Join-Path $work 'bare/ClusterDR'
        Copy-Item -Recurse $module $bare
        Remove-Item -Recurse (Join-Path $bare 'en-US')
        { New-ModulePackage -Module $bare -Out (Join-Path $work 'bare-out') } | Should -Throw '*has no en-US/ClusterDR.dll-Help.xml*'
        Join-Path $work 'bare-out/ClusterDR.zip' | Should -Not -Exist
    }
}
