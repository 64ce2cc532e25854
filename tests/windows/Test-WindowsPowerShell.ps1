<#
.SYNOPSIS
    Smoke test of the built module in Windows PowerShell 5.1 (powershell.exe), for a maintainer with Windows.
.DESCRIPTION
    CI has no Windows: there, the dependencies' references are only proven to resolve from metadata
    (tests/ClusterDR.Tests/Contracts/DependencyResolutionTests.cs). This runs what needs no server, in powershell.exe:
    import, help, an empty Get-ClusterBackup, an archive written and read back through the engine (SharpZipLib,
    ZstdSharp, System.Memory, Newtonsoft.Json: the assemblies whose versions do not match their references), Test-ClusterBackup
    on it and on a damaged copy. Exit code 0 when every check passed.
.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File tests\windows\Test-WindowsPowerShell.ps1 -Module .\out\ClusterDR\ClusterDR.psd1
#>
[CmdletBinding()]
param([string] $Module = (Join-Path $PSScriptRoot '..\..\out\ClusterDR\ClusterDR.psd1'))

$ErrorActionPreference = 'Stop'
$Module = (Resolve-Path $Module).Path
$script:failed = 0
function Check([string] $What, [scriptblock] $Test) {
    try {
        $ok = & $Test
        if ($ok) { Write-Host "[+] $What" -ForegroundColor Green } else { Write-Host "[-] $What" -ForegroundColor Red; $script:failed++ }
    }
    catch { Write-Host "[-] $What : $($_.Exception.GetType().FullName): $($_.Exception.Message)" -ForegroundColor Red; $script:failed++ }
}

Write-Host "PowerShell $($PSVersionTable.PSVersion) ($($PSVersionTable.PSEdition)) on $([System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription)"
if ($PSVersionTable.PSEdition -ne 'Desktop') { Write-Warning 'This is not Windows PowerShell 5.1: run it in powershell.exe to test what it is for.' }
$work = Join-Path ([IO.Path]::GetTempPath()) ("clusterdr-win-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
$null = New-Item -ItemType Directory -Force $work
try {
    Check 'Import-Module loads all 28 cmdlets' {
        Import-Module $Module -Force
        @(Get-Command -Module ClusterDR).Count -eq 28
    }
    $lib = Join-Path (Split-Path (Get-Module ClusterDR).Path) 'lib'
    Check 'Get-Help has the cmdlet and the about topic' {
        (Get-Help Get-ClusterBackup).Name -eq 'Get-ClusterBackup' -and (Get-Help about_ClusterDR | Out-String) -match 'ClusterDR'
    }
    Check 'Get-ClusterBackup lists nothing in an empty directory' {
        $empty = Join-Path $work 'empty'
        $null = New-Item -ItemType Directory $empty
        @(Get-ClusterBackup -Path $empty).Count -eq 0
    }

    # An archive written and read back by the engine itself, as every backup cmdlet does.
    $backups = Join-Path $work 'backups'
    $null = New-Item -ItemType Directory $backups
    $data = New-Object byte[] 300000
    (New-Object System.Random 7).NextBytes($data)
    Check 'the engine writes a .tar.zst archive (SharpZipLib, ZstdSharp, System.Memory, Newtonsoft.Json)' {
        $writer = [ClusterDR.Backups.BackupArchiveWriter]::Create($backups, 'smoke.tar.zst')
        try {
            $null = $writer.AddPayload('payload/data.bin', [Action[IO.Stream]] { param($s) $s.Write($data, 0, $data.Length) })
            $manifest = New-Object ClusterDR.Backups.BackupManifest
            $manifest.Kind = 'test'; $manifest.Cluster = 'smoke'; $manifest.Label = 'windows'; $manifest.CreatedUtc = [DateTime]::UtcNow
            $script:backup = $writer.Commit($manifest, [ClusterDR.Safety.SilentContext]::Instance)
        }
        finally { $writer.Dispose() }
        Test-Path $script:backup.Path
    }
    Check 'Get-ClusterBackup reads its manifest' {
        $b = @(Get-ClusterBackup -Path $backups)
        $b.Count -eq 1 -and $b[0].Kind -eq 'test' -and $b[0].Cluster -eq 'smoke' -and $b[0].PSObject.TypeNames[0] -eq 'ClusterDR.ClusterBackup'
    }
    Check 'Test-ClusterBackup re-hashes and passes it' {
        $v = Get-ClusterBackup -Path $backups | Test-ClusterBackup
        $v.Verified -eq $true
    }
    Check 'Test-ClusterBackup -Rehearse says plainly what it cannot rehearse here (RehearsalUnsupported)' {
        $null = Get-ClusterBackup -Path $backups | Test-ClusterBackup -Rehearse -ErrorAction SilentlyContinue -ErrorVariable refused
        @($refused).Count -eq 1 -and $refused[0].FullyQualifiedErrorId -like 'RehearsalUnsupported*'
    }
    Check 'the payload reads back byte for byte' {
        $copy = New-Object System.IO.MemoryStream
        [ClusterDR.Backups.BackupArchiveReaderExtensions]::ReadPayload($script:backup.Path, 'payload/data.bin', [Action[IO.Stream]] { param($s) $s.CopyTo($copy) })
        [Convert]::ToBase64String($copy.ToArray()) -eq [Convert]::ToBase64String($data)
    }
    Check 'Test-ClusterBackup rejects a damaged copy' {
        $damaged = Join-Path $work 'damaged'
        $null = New-Item -ItemType Directory $damaged
        $bytes = [IO.File]::ReadAllBytes($script:backup.Path)
        $bytes[[int]($bytes.Length * 0.6)] = $bytes[[int]($bytes.Length * 0.6)] -bxor 0xFF
        [IO.File]::WriteAllBytes((Join-Path $damaged 'smoke.tar.zst'), $bytes)
        $out = @(Test-ClusterBackup -Path (Join-Path $damaged 'smoke.tar.zst') -ErrorAction SilentlyContinue -ErrorVariable problems)
        $out.Count -eq 0 -and $problems.Count -ge 1
    }
    Check 'an encrypted backup (age: BouncyCastle.Cryptography) is written, listed without its key and verified with it' {
        $key = New-ClusterBackupKey -Path (Join-Path $work 'keys\smoke.key')
        $encDir = Join-Path $work 'encrypted'
        $writer = [ClusterDR.Backups.BackupArchiveWriter]::Create($encDir, 'etcd-smoke-20260101T000000Z.tar.zst.age')
        try {
            $writer.Encryption = [ClusterDR.Encryption.AgeEncryption]::ToRecipients([ClusterDR.Encryption.AgeRecipient]::ParseAll([string[]]@($key.Recipient)))
            $null = $writer.AddPayload('payload/data.bin', [Action[IO.Stream]] { param($s) $s.Write($data, 0, $data.Length) })
            $manifest = New-Object ClusterDR.Backups.BackupManifest
            $manifest.Kind = 'etcd'; $manifest.Cluster = 'smoke'; $manifest.CreatedUtc = [DateTime]::UtcNow
            $null = $writer.Commit($manifest, [ClusterDR.Safety.SilentContext]::Instance)
        }
        finally { $writer.Dispose() }
        $listed = @(Get-ClusterBackup -Path $encDir)
        $v = $listed | Test-ClusterBackup -DecryptionKeyFile $key.Path
        $listed.Count -eq 1 -and $listed[0].Encrypted -and $listed[0].Cluster -eq 'smoke' -and $v.Verified -eq $true
    }
    Check 'the dependencies came from lib/ (on Windows PowerShell: through the AssemblyResolve handler)' {
        $loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not $_.IsDynamic -and $_.Location -and $_.Location.StartsWith($lib) } | ForEach-Object { $_.GetName().Name }
        $names = 'ClusterDR.Core', 'ICSharpCode.SharpZipLib', 'ZstdSharp', 'Newtonsoft.Json', 'BouncyCastle.Cryptography'
        foreach ($name in $names) { Write-Verbose "$name loaded: $($loaded -contains $name)" }
        @($names | Where-Object { $loaded -notcontains $_ }).Count -eq 0
    }
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
Write-Host $(if ($script:failed) { "$script:failed check(s) failed" } else { 'all checks passed' })
exit $script:failed
