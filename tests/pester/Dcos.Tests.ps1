#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The DC/OS backup cmdlets in PowerShell against the DC/OS fake of the xunit suite (tests/ClusterDR.Tests/Dcos/FakeDcos.cs),
# run as its own process: `dotnet ClusterDR.Tests.dll fake-dcos` prints its URL and serves until its stdin closes.

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    . (Join-Path $PSScriptRoot 'ConsoleView.ps1')
    $project = Join-Path $PSScriptRoot '../ClusterDR.Tests'
    $dll = Join-Path $project 'bin/Release/net10.0/ClusterDR.Tests.dll'
    if (-not (Test-Path $dll)) {
        & dotnet build $project -c Release --nologo -v quiet
        if ($LASTEXITCODE -ne 0) { throw 'Building the test project (for the DC/OS fake) failed.' }
    }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in $dll, 'fake-dcos') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $script:fakeProcess = [System.Diagnostics.Process]::Start($psi)
    $script:url = [uri]$script:fakeProcess.StandardOutput.ReadLine()
    if (-not $script:url) { throw 'The DC/OS fake did not start.' }

    # The fake's tokens (FakeDcos.AdminToken / ReaderToken).
    $script:adminText = 'fake-superuser-acs-token-31c1f0'
    $script:admin = ConvertTo-SecureString $script:adminText -AsPlainText -Force
    $script:reader = ConvertTo-SecureString 'fake-reader-acs-token-9d2e77' -AsPlainText -Force
    $script:dcos = @{ Uri = $script:url; AcsToken = $script:admin; PollIntervalSec = 1; WaitTimeoutSec = 30 }

    function Get-Request { $all = Invoke-RestMethod ([uri]::new($script:url, 'fake/requests')); @($all) }
    function Get-StateChange { @((Get-Request).Where({ $_ -notlike 'GET *' })) }
    function Set-Exhibitor([string] $View) { $null = Invoke-RestMethod ([uri]::new($script:url, 'fake/exhibitor')) -Method Put -Body $View }
}

AfterAll {
    if ($script:fakeProcess) {
        $script:fakeProcess.StandardInput.Close()
        if (-not $script:fakeProcess.WaitForExit(5000)) { $script:fakeProcess.Kill() }
        $script:fakeProcess.Dispose()
    }
}

Describe 'DC/OS backup service cmdlets' {
    It 'creates a backup, waits for STATUS_READY and shows it with its default view' {
        $b = New-DcosBackup @dcos -Label nightly.1 -Wait
        $b.PSObject.TypeNames | Should -Contain 'ClusterDR.DcosBackupInfo'
        $b.Status | Should -Be 'STATUS_READY'
        $b.Label | Should -Be 'nightly.1'
        $b.ComponentStatus['marathon'] | Should -Be 'STATUS_READY'
        # The Id (what Restore-/Remove-DcosBackup take) comes first and whole.
        $view = Assert-FitsConsole $b -Columns Id, Status, Restores
        $view | Should -Match ('(?m)^' + [regex]::Escape($b.Id) + '\s+STATUS_READY\s+0\s*$')
    }

    It 'restores through the pipeline: Get-DcosBackup -Label | Select-Object -First 1 | Restore-DcosBackup -Wait' {
        $null = New-DcosBackup @dcos -Label nightly.2 -Wait
        $r = Get-DcosBackup -Uri $script:url -AcsToken $script:admin -Label nightly | Select-Object -First 1 |
            Restore-DcosBackup -AcsToken $script:admin -PollIntervalSec 1 -ExhibitorUri ([uri]::new($script:url, 'exhibitor/')) -Wait -Confirm:$false
        $r.PSObject.TypeNames | Should -Contain 'ClusterDR.DcosRestoreInfo'
        $r.Status | Should -Be 'STATUS_READY'
        $r.BackupId | Should -BeLike 'nightly.1-*'
        $null = Assert-FitsConsole $r -Columns Id, Status, BackupId
        (Get-DcosBackup @dcos -Id $r.BackupId).Restores.Id | Should -Be $r.Id
    }

    It 'changes nothing under -WhatIf, yet evaluates the guard' {
        $before = (Get-StateChange).Count
        $what = Get-DcosBackup @dcos -Label nightly.1 | Restore-DcosBackup -AcsToken $script:admin -WhatIf 6>&1
        $what | Should -BeNullOrEmpty -Because 'What if: lines go to the host, not the pipeline'
        New-DcosBackup @dcos -Label whatif -WhatIf | Should -BeNullOrEmpty
        (Get-StateChange).Count | Should -Be $before

        Set-Exhibitor NotServing
        try {
            { New-DcosBackup @dcos -Label whatif -ExhibitorUri ([uri]::new($script:url, 'exhibitor/')) -WhatIf } | Should -Throw -ErrorId 'QuorumAtRisk*'
        }
        finally { Set-Exhibitor Serving }
        (Get-StateChange).Count | Should -Be $before
    }

    It 'refuses while ZooKeeper has two leaders unless -Force, which warns' {
        Set-Exhibitor TwoLeaders
        try {
            $exhibitor = [uri]::new($script:url, 'exhibitor/')
            { New-DcosBackup @dcos -Label guarded -ExhibitorUri $exhibitor -ErrorAction Stop } | Should -Throw -ErrorId 'QuorumAtRisk*'
            $b = New-DcosBackup @dcos -Label guarded -ExhibitorUri $exhibitor -Force -Wait -WarningVariable warned -WarningAction SilentlyContinue
            $b.Status | Should -Be 'STATUS_READY'
            "$warned" | Should -Match '2 leaders instead of one'
        }
        finally { Set-Exhibitor Serving }
    }

    It 'reports a label the service would refuse as InvalidBackupLabel, before any request' {
        $before = (Get-Request).Count
        foreach ($label in 'ab', '..x', ('a' * 26), 'bad label') {
            { New-DcosBackup @dcos -Label $label } | Should -Throw -ErrorId 'InvalidBackupLabel*'
        }
        (Get-Request).Count | Should -Be $before
    }

    It 'has ErrorIds for 401, 403 and the busy lock' {
        { Get-DcosBackup -Uri $script:url } | Should -Throw -ErrorId 'Unauthorized*'
        { Get-DcosBackup -Uri $script:url -AcsToken $script:reader } | Should -Throw -ErrorId 'Forbidden*'
        $running = New-DcosBackup @dcos -Label busy.1
        $running.Status | Should -Be 'STATUS_BACKING_UP'
        { New-DcosBackup @dcos -Label busy.2 } | Should -Throw -ErrorId 'BackupServiceBusy*'
        ($running | Get-DcosBackup -AcsToken $script:admin -PollIntervalSec 1 -Wait).Status | Should -Be 'STATUS_READY'
    }

    It 'names the component that reported STATUS_ERROR' {
        $e = { New-DcosBackup @dcos -Label fails-in-marathon -Wait } | Should -Throw -ErrorId 'DcosBackupFailed*' -PassThru
        $e.Exception.Message | Should -Match 'component marathon reported STATUS_ERROR'
    }

    It 'restores exactly one backup' {
        { Get-DcosBackup @dcos -Label nightly | Restore-DcosBackup -AcsToken $script:admin -Confirm:$false } | Should -Throw -ErrorId 'MultipleBackupsForRestore*'
    }

    It 'removes backups from the pipeline and refuses a restore id without stopping' {
        $restoreId = (Get-DcosBackup @dcos -Label nightly.1).Restores[0].Id
        $before = (Get-StateChange).Count
        Remove-DcosBackup @dcos -Id $restoreId -Confirm:$false -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'DcosBackupNotFound*'
        (Get-StateChange).Count | Should -Be $before
        Get-DcosBackup @dcos -Label nightly | Remove-DcosBackup -AcsToken $script:admin -Wait -PollIntervalSec 1 -Confirm:$false
        Get-DcosBackup @dcos -Label nightly | Should -BeNullOrEmpty
        (Get-DcosBackup @dcos).Label | Should -Contain 'guarded'
    }

    It 'never shows the token in verbose output or errors' {
        $out = New-DcosBackup @dcos -Label verbose.1 -Wait -Verbose 4>&1 | Out-String
        $out | Should -Match 'STATUS_READY'
        $errors = @()
        try { New-DcosBackup -Uri $script:url -AcsToken $script:reader -Label denied -Verbose 4>$null } catch { $errors += $_ | Out-String }
        try { Remove-DcosBackup @dcos -Id nope -Confirm:$false -ErrorAction Stop } catch { $errors += $_ | Out-String }
        $errors.Count | Should -Be 2
        "$out $errors" | Should -Not -Match ([regex]::Escape($script:adminText))
    }
}
