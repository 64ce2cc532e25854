#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The ZooKeeper cmdlets in PowerShell, against a real three-node ensemble on 127.0.0.1 (tests/tools/zk-ensemble.sh).

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    $script:tool = Join-Path $PSScriptRoot '../tools/zk-ensemble.sh'
    if (-not (Test-Path /usr/share/java/zookeeper.jar)) { throw 'ZooKeeper is required: apt-get install --no-install-recommends zookeeper' }
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-zk-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    . (Join-Path $PSScriptRoot 'ConsoleView.ps1')
    . (Join-Path $PSScriptRoot 'BackupCraft.ps1')
    $lines = & sh $script:tool start $script:dir 3 (Get-FreePortRun 12 24000 28000)
    if ($LASTEXITCODE -ne 0) { throw 'ZooKeeper did not start' }
    $script:members = foreach ($line in $lines) {
        $name, $id, $client, $data, $admin = $line -split ' '
        @{ Id = [int]$id; Name = $name; ClientAddress = $client; DataDir = $data; Node = 'localhost'
           StartCommand = "sh $script:dir/$name/start.sh"; StopCommand = "sh $script:dir/$name/stop.sh" }
    }
    $script:servers = [string[]]$script:members.ClientAddress
    $script:backups = Join-Path $script:dir 'backups'
    $deadline = (Get-Date).AddSeconds(60)
    do { Start-Sleep -Milliseconds 300; $s = try { Get-ZkEnsembleStatus -Server $script:servers -WarningAction SilentlyContinue } catch { $null } }
    until (($s -and $s.HealthyCount -eq 3 -and $s.Leader) -or (Get-Date) -gt $deadline)
    if ($s.HealthyCount -ne 3) { throw "ZooKeeper in $script:dir does not serve" }

    function Get-State {
        @(foreach ($m in $script:members) {
            Get-Content "$script:dir/$($m.Name)/pid"
            (Get-ChildItem -Recurse -File $m.DataDir | ForEach-Object { "$($_.Name):$($_.Length):$((Get-FileHash $_.FullName).Hash)" }) -join ','
            (Get-ChildItem -Force (Split-Path $m.DataDir)).Name -join ','
        }) -join '|'
    }
}

AfterAll {
    # $script:dir is set before the ensemble starts: a start that failed half-way is stopped too.
    if ($script:dir) {
        & sh $script:tool stop $script:dir
        Remove-Item -Recurse -Force $script:dir -ErrorAction Ignore
    }
}

Describe 'ZooKeeper cmdlets' {
    It 'reports every server serving with one leader' {
        $s = Get-ZkEnsembleStatus -Server $script:servers
        $s.Platform | Should -Be 'zookeeper'
        $s.HealthyCount | Should -Be 3
        $s.FaultTolerance | Should -Be 1
        @($s.Members | Where-Object Mode -eq 'leader').Count | Should -Be 1
        $null = Assert-FitsConsole $s
        $null = Assert-FitsConsole $s.Members -Columns Name, Id, Healthy, Leader, Version, ClientUrls
    }

    It 'rejects a server address without a port with InvalidAddress' {
        { Get-ZkEnsembleStatus -Server 'no-port' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidAddress*'
    }

    It 'leaves every process and data dir untouched under -WhatIf' {
        $before = Get-State
        Backup-ZkState -Member $script:members[0] -Server $script:servers -Path $script:backups -WhatIf
        Test-Path $script:backups | Should -BeFalse
        Get-State | Should -Be $before
    }

    It 'backs up one server, which serves again, and the backup verifies' {
        $b = Backup-ZkState -Member $script:members[1] -Server $script:servers -Path $script:backups -Label pester -Confirm:$false | Test-ClusterBackup
        $b.Kind | Should -Be 'zookeeper'
        $b.Verified | Should -BeTrue
        (Get-ZkEnsembleStatus -Server $script:servers).HealthyCount | Should -Be 3
    }

    It 'rehearses a backup on a throwaway standalone server (its zxid and znodes), and fails one whose logs are missing' {
        $env:JVMFLAGS = '-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1'; $env:ZOO_LOG4J_PROP = 'ERROR,CONSOLE'
        $created = ((1..20 | ForEach-Object { "create /rehearse-$_ v$_" }) + 'quit') | & /usr/share/zookeeper/bin/zkCli.sh -server $script:servers[0] 2>&1 |
            Where-Object { "$_" -like 'Created /rehearse-*' }
        @($created).Count | Should -Be 20
        $b = Backup-ZkState -Member $script:members[2] -Server $script:servers -Path "$script:dir/rehearsed" -Label rh -Confirm:$false
        $r = $b | Test-ClusterBackup -Rehearse
        $r.Rehearsal.Passed | Should -BeTrue
        $r.Rehearsal.Checks.Name | Should -Be @('archive', 'serves', 'zxid', 'znodes')
        ($r.Rehearsal.Checks | Where-Object Name -eq 'zxid').Found | Should -Be $b.Facts.zxid
        ($r.Rehearsal.Checks | Where-Object Name -eq 'znodes').Found | Should -Be $b.Facts.znodeCount
        [int]$b.Facts.znodeCount | Should -BeGreaterThan 20
        $r.Rehearsal.Server | Should -BeLike 'ZooKeeper 3.* on 127.0.0.1:*'

        # The transaction logs left out: the archive still verifies, but the server comes up short of the backup's zxid.
        $bad = Edit-TestBackup -Path $b.Path -Destination "$script:dir/crafted/$($b.Name -replace '-rh-', '-nologs-')" -Edit {
            param($d) Get-ChildItem "$d/version-2" -Filter 'log.*' | Remove-Item
        }
        (Test-ClusterBackup -LiteralPath $bad.FullName).Verified | Should -BeTrue
        Test-ClusterBackup -LiteralPath $bad.FullName -Rehearse -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'RehearsalFailed*'
        $e[0].TargetObject.Rehearsal.FailedChecks.Name | Should -Contain 'zxid'
        # No java on the worker: the error names it and what to install, before anything is extracted.
        $path = $env:PATH; $javaHome = $env:JAVA_HOME
        try {
            $env:PATH = '/nonexistent'; $env:JAVA_HOME = $null
            Test-ClusterBackup -LiteralPath $b.Path -Rehearse -ErrorVariable missing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
        finally { $env:PATH = $path; $env:JAVA_HOME = $javaHome }
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'RehearsalToolMissing*'
        $missing[0].Exception.Message | Should -Match 'java.*default-jre-headless'
        Get-RehearsalTrace | Should -BeNullOrEmpty
        (Get-ZkEnsembleStatus -Server $script:servers).HealthyCount | Should -Be 3
    }

    It 'refuses to restore over a serving ensemble, and -WhatIf on a forced restore changes nothing' {
        $before = Get-State
        { Get-ClusterBackup $script:backups -Kind zookeeper | Restore-ZkState -Member $script:members -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterHealthy*'
        Get-ClusterBackup $script:backups -Kind zookeeper | Restore-ZkState -Member $script:members -Force -WhatIf
        Get-State | Should -Be $before
    }
}
