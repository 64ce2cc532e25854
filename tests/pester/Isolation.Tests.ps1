#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# ClusterDR shares its process with other modules: AWS.Tools brings its own AWSSDK.Core (3.7), others their own
# Newtonsoft.Json or SharpZipLib. In child pwsh processes, with AWSSDK.Core 3.7.402 from NuGet loaded before and
# after the module, Backup-DeisStore runs against a real radosgw (tests/tools/ceph-s3.sh), the 3.7 SDK stays usable,
# and the module's own dependencies sit in its own AssemblyLoadContext, not in the default one.

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    $script:module = (Resolve-Path $script:module).Path
    $script:moduleDir = Split-Path $script:module
    foreach ($program in 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'curl') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: sh tests/tools/install-deps.sh" }
    }
    $tools = Join-Path $PSScriptRoot '../tools'
    # AWSSDK.Core 3.7.402, the version AWS.Tools 4 ships (its netstandard2.0 build, as AWS.Tools loads it in pwsh).
    $package = & sh (Join-Path $tools 'nuget-package.sh') AWSSDK.Core 3.7.402
    if ($LASTEXITCODE -ne 0) { throw 'AWSSDK.Core 3.7.402 could not be fetched from NuGet' }
    $script:aws37 = Join-Path $package 'lib/netstandard2.0/AWSSDK.Core.dll'
    if (-not (Test-Path $script:aws37)) { throw "$script:aws37 is missing" }
    # BouncyCastle.Cryptography 2.4.0, the version SSH.NET (and so Posh-SSH) brings: ours is 2.7.0, in lib/.
    $package = & sh (Join-Path $tools 'nuget-package.sh') BouncyCastle.Cryptography 2.4.0
    if ($LASTEXITCODE -ne 0) { throw 'BouncyCastle.Cryptography 2.4.0 could not be fetched from NuGet' }
    $script:bc24 = Join-Path $package 'lib/netstandard2.0/BouncyCastle.Cryptography.dll'
    if (-not (Test-Path $script:bc24)) { throw "$script:bc24 is missing" }

    # The pwsh running this file (its apphost in $PSHOME: the process itself may be dotnet running pwsh.dll).
    $script:pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-isolation-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Force $script:dir
    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    $script:access = 'CLUSTERDRISOLATION'
    $script:secret = "clusterdr-isolation-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    $script:cephDir = Join-Path $script:dir 'ceph'
    $script:cephTool = Join-Path $tools 'ceph-s3.sh'
    $port = Get-FreePortRun 3
    $script:secret | & sh $script:cephTool start $script:cephDir $port $script:access
    if ($LASTEXITCODE -ne 0) { throw 'Ceph did not start' }
    $script:gateway = "http://127.0.0.1:$port"
    # One bucket with two objects, made with curl's own SigV4 (no AWSSDK in this process; radosgw wants the payload hash header).
    $sigv4 = @('-sSf', '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', "$($script:access):$($script:secret)", '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    & curl @sigv4 -X PUT "$script:gateway/db_wal" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'creating the bucket db_wal failed' }
    foreach ($key in 'wal/0001', 'base/0002') {
        $body = Join-Path $script:dir 'body'
        Set-Content -Path $body -Value "object $key" -NoNewline
        & curl @sigv4 -T $body "$script:gateway/db_wal/$key" | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "PUT db_wal/$key failed" }
    }

    # Runs a script in a fresh pwsh (each order needs a process of its own) and returns its last output line as an object.
    function Invoke-Child([string] $Name, [string] $Body) {
        $script = Join-Path $script:dir "$Name.ps1"
        $prologue = @'
$ErrorActionPreference = 'Stop'
$cred = [pscredential]::new($env:ISO_ACCESS, (ConvertTo-SecureString $env:ISO_SECRET -AsPlainText -Force))
function Backup-Once([string] $To) {
    $b = Backup-DeisStore -GatewayUri $env:ISO_GATEWAY -Credential $cred -Bucket db_wal -SkipVolume -Path $To -Confirm:$false | Test-ClusterBackup
    [pscustomobject]@{
        Kind = $b.Kind; Verified = $b.Verified; Objects = $b.Facts['objects.db_wal']; TypeName = $b.PSObject.TypeNames[0]
        IsType = $b -is [ClusterDR.ClusterBackup]
        View = ($b | Format-Table | Out-String -Width 250)
    }
}
# Where each assembly that came from the module folder lives: its name, version and load context.
function Get-ModuleAssemblies {
    foreach ($a in [AppDomain]::CurrentDomain.GetAssemblies()) {
        if (-not $a.IsDynamic -and $a.Location -and $a.Location.StartsWith($env:ISO_MODULE_DIR)) {
            [pscustomobject]@{ Name = $a.GetName().Name; Version = "$($a.GetName().Version)"; Context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a).Name
                               InLib = (Split-Path $a.Location -Parent) -eq (Join-Path $env:ISO_MODULE_DIR 'lib') }
        }
    }
}
'@
        Set-Content -Path $script -Value ($prologue + "`n" + $Body)
        $env:ISO_ACCESS = $script:access; $env:ISO_SECRET = $script:secret; $env:ISO_GATEWAY = $script:gateway
        $env:ISO_MODULE = $script:module; $env:ISO_MODULE_DIR = $script:moduleDir; $env:ISO_AWS37 = $script:aws37; $env:ISO_OUT = Join-Path $script:dir $Name
        $env:ISO_BC24 = $script:bc24
        try { $lines = & $script:pwsh -NoProfile -NonInteractive -File $script 2>&1 }
        finally { Remove-Item Env:ISO_SECRET }
        $text = ($lines | ForEach-Object { "$_" }) -join "`n"
        if ($LASTEXITCODE -ne 0) { throw "the child pwsh ($Name) failed with exit code $($LASTEXITCODE):`n$text" }
        [pscustomobject]@{ Result = ($lines | Select-Object -Last 1 | ConvertFrom-Json); Text = $text }
    }
}

AfterAll {
    & sh $script:cephTool stop $script:cephDir
    Remove-Item -Recurse -Force $script:dir -ErrorAction Ignore
}

Describe 'ClusterDR next to another AWSSDK.Core (AWS.Tools) in PowerShell 7' {
    It 'backs up a real radosgw bucket when AWSSDK.Core 3.7.402 was loaded first' {
        $child = Invoke-Child 'sdk-first' @'
Add-Type -Path $env:ISO_AWS37
Import-Module $env:ISO_MODULE
$backup = Backup-Once $env:ISO_OUT
$sdk = [Amazon.Runtime.BasicAWSCredentials].Assembly
[pscustomobject]@{ Backup = $backup; SdkVersion = "$($sdk.GetName().Version)"; SdkContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($sdk).Name
                   Ours = @(Get-ModuleAssemblies) } | ConvertTo-Json -Depth 4 -Compress
'@
        $r = $child.Result
        $r.Backup.Kind | Should -Be 'deis-store'
        $r.Backup.Verified | Should -BeTrue
        $r.Backup.Objects | Should -Be '2'
        $r.SdkVersion | Should -Be '3.3.0.0'
        $r.SdkContext | Should -Be 'Default'
        ($r.Ours | Where-Object Name -eq 'AWSSDK.Core').Version | Should -Be '4.0.0.0'
    }

    It 'leaves AWSSDK.Core 3.7.402 usable after a backup, and keeps its own dependencies out of the default context' {
        $child = Invoke-Child 'module-first' @'
Import-Module $env:ISO_MODULE
$backup = Backup-Once $env:ISO_OUT
Add-Type -Path $env:ISO_AWS37
$credentials = [Amazon.Runtime.BasicAWSCredentials]::new('AKIDEXAMPLE', 'secret')
$sdk = $credentials.GetType().Assembly
[pscustomobject]@{ Backup = $backup; Credentials = $credentials.GetCredentials().AccessKey; SdkVersion = "$($sdk.GetName().Version)"
                   SdkContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($sdk).Name; Ours = @(Get-ModuleAssemblies) } | ConvertTo-Json -Depth 4 -Compress
'@
        $r = $child.Result
        $r.Backup.Verified | Should -BeTrue
        $r.Backup.Objects | Should -Be '2'
        $r.Credentials | Should -Be 'AKIDEXAMPLE'
        $r.SdkVersion | Should -Be '3.3.0.0'
        $r.SdkContext | Should -Be 'Default'
        # Every dependency the backup used came from the module folder into the module's own context.
        $names = $r.Ours.Name
        foreach ($n in 'ClusterDR.Core', 'AWSSDK.Core', 'AWSSDK.S3', 'ICSharpCode.SharpZipLib', 'Newtonsoft.Json') { $names | Should -Contain $n }
        foreach ($a in $r.Ours | Where-Object InLib) { $a.Context | Should -Be 'ClusterDR' -Because "$($a.Name) must not sit in the default context" }
        # In the default context only the thin cmdlet assembly and the PowerShell 7 loader, from the module's top folder.
        @($r.Ours | Where-Object Context -eq 'Default' | ForEach-Object Name | Sort-Object) | Should -Be @('ClusterDR', 'ClusterDR.Isolation')
        @($r.Ours | Where-Object { -not $_.InLib -and $_.Context -ne 'Default' }) | Should -BeNullOrEmpty
    }

    It 'encrypts and decrypts with its own BouncyCastle 2.7 when SSH.NET''s 2.4 was loaded first, and leaves 2.4 usable' {
        $child = Invoke-Child 'bouncycastle' @'
Add-Type -Path $env:ISO_BC24
Import-Module $env:ISO_MODULE
$null = New-Item -ItemType Directory -Force $env:ISO_OUT
$key = New-ClusterBackupKey -Path (Join-Path $env:ISO_OUT 'k.key')
$b = Backup-DeisStore -GatewayUri $env:ISO_GATEWAY -Credential $cred -Bucket db_wal -SkipVolume -Path $env:ISO_OUT -Recipient $key.Recipient -Confirm:$false |
    Test-ClusterBackup -DecryptionKeyFile $key.Path
# The other module's copy still works where it was loaded.
$digest = [Org.BouncyCastle.Crypto.Digests.Sha256Digest]::new()
$theirs = $digest.GetType().Assembly
$ours = @(Get-ModuleAssemblies | Where-Object Name -eq 'BouncyCastle.Cryptography')
# Both are assembly version 2.0.0.0: only their files (and load contexts) tell them apart.
[pscustomobject]@{ Verified = $b.Verified; Encrypted = $b.Encrypted; DigestSize = $digest.GetDigestSize()
                   TheirsFile = [Diagnostics.FileVersionInfo]::GetVersionInfo($theirs.Location).FileVersion
                   OursFile = [Diagnostics.FileVersionInfo]::GetVersionInfo((Join-Path $env:ISO_MODULE_DIR 'lib/BouncyCastle.Cryptography.dll')).FileVersion
                   TheirsContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($theirs).Name; Ours = $ours } | ConvertTo-Json -Depth 4 -Compress
'@
        $r = $child.Result
        $r.Verified | Should -BeTrue
        $r.Encrypted | Should -BeTrue
        $r.TheirsFile | Should -BeLike '2.4.*'
        $r.OursFile | Should -BeLike '2.7.*'
        $r.TheirsContext | Should -Be 'Default'
        $r.DigestSize | Should -Be 32
        $r.Ours.Count | Should -Be 1
        $r.Ours[0].Context | Should -Be 'ClusterDR'
        $r.Ours[0].InLib | Should -BeTrue
    }

    It 'keeps the format views and the type names scripts use' {
        $child = Invoke-Child 'views' @'
Import-Module $env:ISO_MODULE
Backup-Once $env:ISO_OUT | ConvertTo-Json -Compress
'@
        $r = $child.Result
        $r.TypeName | Should -Be 'ClusterDR.ClusterBackup'
        $r.IsType | Should -BeTrue
        # The table view of ClusterDR.Format.ps1xml, not the default property list.
        $r.View | Should -Match 'Name\s+CreatedUtc\s+SizeMB\s+Verified'
    }
}
