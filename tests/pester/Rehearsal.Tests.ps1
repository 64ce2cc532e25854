#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Test-ClusterBackup -Rehearse in PowerShell, for etcd against real clusters on 127.0.0.1: a backup restored into a
# throwaway etcd and compared, one whose hashes are intact but whose data is another cluster's, the pipeline on to a
# restore, what is missing, and the proof that it never reaches the backed-up cluster and leaves nothing behind.
# ZooKeeper, Swarm and Deis rehearsals are in their own files, next to their servers.

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    foreach ($program in 'etcd', 'etcdctl', 'tar', 'zstd') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: sh tests/tools/install-deps.sh" }
    }
    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    . (Join-Path $PSScriptRoot 'EtcdCluster.ps1')
    . (Join-Path $PSScriptRoot 'BackupCraft.ps1')
    . (Join-Path $PSScriptRoot 'ConsoleView.ps1')
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-rh-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:a = Start-TestEtcd "$script:dir/a" 30000 33000
    $script:ea = $script:a.Endpoints[0]
    # A second, one-member cluster with other keys: the donor of the wrong snapshot, and the cluster the tripwire guards.
    $script:bLines = @(& sh (Join-Path $PSScriptRoot '../tools/etcd-cluster.sh') start "$script:dir/b" 1 (Get-FreePortRun 2 33000 36000))
    if ($LASTEXITCODE -ne 0) { throw 'the second etcd did not start' }
    $script:bName, $script:bPeer, $script:eb, $null = $script:bLines[0] -split ' '
    Wait-TestEtcd $script:eb
    foreach ($i in 1..40) { & etcdctl --endpoints $script:ea put "/registry/pods/default/web-$i" "{`"replica`":$i}" | Out-Null }
    foreach ($i in 1..25) { & etcdctl --endpoints $script:eb put "/other/$i" "x$i" | Out-Null }
    $script:backups = Join-Path $script:dir 'backups'
    $script:good = Backup-EtcdSnapshot -Endpoint $script:ea -Path $script:backups -Label good
    $script:other = Backup-EtcdSnapshot -Endpoint $script:eb -Path "$script:dir/other" -Label other
    function Get-Revision([string] $Endpoint) { (& etcdctl --endpoints $Endpoint -w json endpoint status | ConvertFrom-Json)[0].Status.header.revision }
}

AfterAll {
    if ($script:dir) {
        Stop-TestEtcd "$script:dir/a"
        Stop-TestEtcd "$script:dir/b"
        Remove-Item -Recurse -Force $script:dir -ErrorAction Ignore
    }
}

Describe 'Test-ClusterBackup -Rehearse of etcd backups' {
    It 'restores the backup into a throwaway etcd that serves its revision, key count and sampled keys, and leaves nothing behind' {
        $r = $script:good | Test-ClusterBackup -Rehearse
        $r.PSObject.TypeNames[0] | Should -Be 'ClusterDR.ClusterBackup'
        $r.Verified | Should -BeTrue
        $h = $r.Rehearsal
        $h.PSObject.TypeNames[0] | Should -Be 'ClusterDR.Rehearsal.RehearsalResult'
        $h.Passed | Should -BeTrue
        $h.Checks.Name | Should -Be @('archive', 'snapshot restores', 'serves', 'revision', "keys at revision $($script:good.Facts.revision)", 'sampled keys')
        ($h.Checks | Where-Object Name -eq 'revision').Found | Should -Be $script:good.Facts.revision
        $script:good.Facts.keyCount | Should -Be '40'
        ($h.Checks | Where-Object Name -like 'keys at*').Found | Should -Be '40'
        ($h.Checks | Where-Object Name -eq 'sampled keys').Found | Should -Be 'all 16 read back'
        $h.NotCompared | Should -BeNullOrEmpty
        $h.Server -match '^etcd 3\.\d+\.\d+ on 127\.0\.0\.1:(\d+)$' | Should -BeTrue -Because $h.Server
        $port = [int]$Matches[1]
        $h.Duration | Should -BeGreaterThan ([timespan]::Zero)
        Get-RehearsalTrace | Should -BeNullOrEmpty
        { [Net.Sockets.TcpClient]::new('127.0.0.1', $port).Dispose() } | Should -Throw -Because 'the throwaway etcd is stopped'
        $null = Assert-FitsConsole $h
        $null = Assert-FitsConsole $h.Checks -Columns Name, Passed, Expected, Found
    }

    It 'hands the rehearsed newest backup on to a restore (here under -WhatIf, which changes nothing)' {
        $revision = Get-Revision $script:ea
        $members = $script:a.Members
        Get-ClusterBackup $script:backups -Kind etcd | Select-Object -First 1 | Test-ClusterBackup -Rehearse |
            Restore-EtcdSnapshot -Member $members -Force -WhatIf -WarningAction SilentlyContinue -ErrorAction Stop
        Get-Revision $script:ea | Should -Be $revision
        (Get-EtcdClusterStatus -Endpoint $script:a.Endpoints).HealthyCount | Should -Be 3
    }

    It 'fails the rehearsal of a snapshot from another cluster whose hashes are intact, and lets only the good backup flow on' {
        $null = New-Item -ItemType Directory -Force "$script:dir/x"
        & tar --zstd -x -C "$script:dir/x" -f $script:other.Path snapshot.db
        $name = $script:good.Name -replace '-good-', '-swapped-'
        $bad = Edit-TestBackup -Path $script:good.Path -Destination (Join-Path $script:backups $name) -Edit {
            param($d) Copy-Item "$script:dir/x/snapshot.db" "$d/snapshot.db" -Force
        }
        # Verification alone cannot tell: the manifest's hash and the snapshot's own trailing hash both match.
        (Test-ClusterBackup -LiteralPath $bad.FullName).Verified | Should -BeTrue

        $out = @($bad.FullName, $script:good.Path | Test-ClusterBackup -Rehearse -ErrorVariable e -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 1
        $out[0].Path | Should -Be $script:good.Path
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'RehearsalFailed*'
        $e[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $e[0].Exception.Message | Should -BeLike "*$name*"
        $e[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $failed = $e[0].TargetObject.Rehearsal.FailedChecks
        $failed.Name | Should -Contain 'revision'
        ($failed | Where-Object Name -eq 'revision').Expected | Should -Be $script:good.Facts.revision
        ($failed | Where-Object Name -eq 'revision').Found | Should -Be $script:other.Facts.revision
        @(Test-ClusterBackup -LiteralPath $bad.FullName, $script:good.Path -Rehearse -Quiet) | Should -Be @($false, $true)
        Get-RehearsalTrace | Should -BeNullOrEmpty
        Remove-Item -LiteralPath $bad.FullName
    }

    It 'fails the rehearsal when the keys differ at the recorded revision, naming them' {
        $name = $script:good.Name -replace '-good-', '-recount-'
        $bad = Edit-TestBackup -Path $script:good.Path -Destination (Join-Path "$script:dir/craft" $name) -Manifest {
            param($m) $m.facts.keyCount = '41'; $m.facts.keySample = $m.facts.keySample -replace '=(\d+):', '=9$1:'
        } -Edit { param($d) }
        Test-ClusterBackup -LiteralPath $bad.FullName -Rehearse -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $checks = $e[0].TargetObject.Rehearsal.Checks
        ($checks | Where-Object Name -like 'keys at*').Passed | Should -BeFalse
        ($checks | Where-Object Name -eq 'sampled keys').Found | Should -Match '/registry/pods/default/web-\d+ differs'
        ($checks | Where-Object Name -eq 'revision').Passed | Should -BeTrue
    }

    It 'says what a backup made before the counts were recorded could not be compared, and still passes' {
        $name = $script:good.Name -replace '-good-', '-older-'
        $old = Edit-TestBackup -Path $script:good.Path -Destination (Join-Path "$script:dir/craft" $name) -Manifest {
            param($m) foreach ($f in 'keyCount', 'keySample', 'revisionAfterSnapshot') { $m.facts.PSObject.Properties.Remove($f) }
        } -Edit { param($d) }
        $r = Test-ClusterBackup -LiteralPath $old.FullName -Rehearse
        $r.Rehearsal.Passed | Should -BeTrue
        $r.Rehearsal.NotCompared -join ' ' | Should -Match 'key count'
        ($r.Rehearsal.Checks | Where-Object Name -eq 'revision').Expected | Should -Be "at least $($script:good.Facts.revision)"
    }

    It 'names what to install when etcd is missing, and finds it through -ToolPath' {
        $tools = New-Item -ItemType Directory -Force "$script:dir/tools"
        foreach ($p in 'etcd', 'etcdctl', 'etcdutl') {
            $c = Get-Command $p -CommandType Application -ErrorAction Ignore | Select-Object -First 1
            if ($c) { New-Item -ItemType SymbolicLink -Path "$tools/$p" -Target $c.Source -Force | Out-Null }
        }
        $path = $env:PATH
        try {
            $env:PATH = '/nonexistent'
            { $script:good | Test-ClusterBackup -Rehearse -ErrorAction Stop } | Should -Throw -ErrorId 'RehearsalToolMissing*'
            try { $script:good | Test-ClusterBackup -Rehearse -ErrorAction Stop } catch { $err = $_ }
            $err.Exception.Message | Should -Match 'etcd'
            $err.ErrorDetails.RecommendedAction | Should -Match 'ToolPath'
            ($script:good | Test-ClusterBackup -Rehearse -ToolPath $tools.FullName).Rehearsal.Passed | Should -BeTrue
        }
        finally { $env:PATH = $path }
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'rehearses an encrypted backup with its key, and asks for the key without it' {
        $key = New-ClusterBackupKey -Path "$script:dir/keys/etcd.key"
        $sealed = Backup-EtcdSnapshot -Endpoint $script:ea -Path "$script:dir/sealed" -Recipient $key.Recipient
        $listed = Get-ClusterBackup "$script:dir/sealed"
        { $listed | Test-ClusterBackup -Rehearse -ErrorAction Stop } | Should -Throw -ErrorId 'BackupKeyRequired*'
        $r = $listed | Test-ClusterBackup -Rehearse -DecryptionKeyFile $key.Path
        $r.Encrypted | Should -BeTrue
        $r.Rehearsal.Passed | Should -BeTrue
        ($r.Rehearsal.Checks | Where-Object Name -like 'keys at*').Found | Should -Be $sealed.Facts.keyCount
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'runs the nightly runbook of about_ClusterDR as written: exit 0 when every newest backup rehearses, 1 and what failed otherwise' {
        $about = Get-Content -Raw (Join-Path $PSScriptRoot '../../docs/en-US/about_ClusterDR.md')
        $about -match '(?s)## NIGHTLY REHEARSAL RUNBOOK.*?```powershell\r?\n(.*?)```' | Should -BeTrue
        $runbook = Join-Path $script:dir 'clusterdr-rehearse.ps1'
        Set-Content -LiteralPath $runbook -Value $Matches[1]
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $modules = Split-Path (Split-Path (Get-Module ClusterDR).Path)
        $saved = $env:PSModulePath
        try {
            $env:PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath
            $out = & $pwsh -NoProfile -NonInteractive -File $runbook -Path $script:backups 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
            @($out | Where-Object { "$_" -like 'passed  etcd-*' }).Count | Should -Be 1 -Because 'one etcd cluster, its newest backup'

            # Without etcd on the worker, every rehearsal is an error: the runbook says which and exits 1.
            $path = $env:PATH
            try {
                $env:PATH = '/nonexistent'
                $out = & $pwsh -NoProfile -NonInteractive -File $runbook -Path $script:backups 2>&1
                $LASTEXITCODE | Should -Be 1 -Because ($out -join "`n")
            }
            finally { $env:PATH = $path }
            ($out -join "`n") | Should -Match 'FAILED  RehearsalToolMissing: A rehearsal needs etcd'
            ($out -join "`n") | Should -Match 'rehearsal\(s\) failed'
        }
        finally { $env:PSModulePath = $saved }
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'refuses DC/OS backups, which live inside their cluster, with RehearsalUnsupported' {
        $dcos = [ClusterDR.DcosBackupInfo]@{ Id = 'nightly-1' }
        { $dcos | Test-ClusterBackup -Rehearse -ErrorAction Stop } | Should -Throw -ErrorId 'RehearsalUnsupported*'
        $dcos | Test-ClusterBackup -Quiet | Should -BeFalse
    }

    It 'clears up what a rehearsal killed with kill -9 left, and nothing of a rehearsal that still runs' {
        $tmp = [IO.Path]::GetTempPath()
        function Get-StartTime([int] $Id) { ((Get-Content -Raw "/proc/$Id/stat") -replace '^.*\) ', '' -split ' ')[19] }
        $gone = Start-Process -FilePath sh -ArgumentList '-c', 'exit 0' -PassThru
        $gone.WaitForExit()
        $left = @{
            # The PID of a process that has exited, and this PID as a process started at another time would hold it.
            exited = "$($gone.Id) 1"; reused = "$PID 1"
            running = "$PID $(Get-StartTime $PID)"
        }
        $dirs = @{}
        $servers = @{}
        foreach ($k in $left.Keys) {
            $d = Join-Path $tmp "clusterdr-rehearsal-etcd-$k$(Get-Random -Maximum 99999)"
            New-Item -ItemType Directory $d | Out-Null
            Set-Content "$d/.owner" $left[$k]
            New-Item -ItemType File "$d/etcd.log" | Out-Null
            # A server the rehearsal started there, still running: its command line names the dir.
            $servers[$k] = Start-Process -FilePath tail -ArgumentList '-f', "$d/etcd.log" -PassThru
            $dirs[$k] = $d
        }
        try {
            $verbose = $script:good | Test-ClusterBackup -Rehearse -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] }
            foreach ($k in 'exited', 'reused') {
                Test-Path $dirs[$k] | Should -BeFalse -Because "the $k owner's dir was abandoned"
                $servers[$k].WaitForExit(5000) | Should -BeTrue -Because "the server left in the $k owner's dir is stopped"
                ($verbose.Message -like "Rehearsal: $($dirs[$k]) was left by a rehearsal that no longer runs*").Count | Should -Be 1
            }
            Test-Path $dirs.running | Should -BeTrue
            $servers.running.HasExited | Should -BeFalse
        }
        finally {
            foreach ($p in $servers.Values) { if (-not $p.HasExited) { $p.Kill() } }
            foreach ($d in @($dirs.Values)) { Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction Ignore }
        }
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'clears up, at the next rehearsal, after one whose PowerShell was killed with kill -9 while its etcd ran' {
        # An etcd that never serves keeps the first rehearsal waiting (2 minutes) with its server running in its dir.
        $tools = New-Item -ItemType Directory -Force "$script:dir/never-serving"
        foreach ($p in 'etcdctl', 'etcdutl') {
            $c = Get-Command $p -CommandType Application -ErrorAction Ignore | Select-Object -First 1
            if ($c) { New-Item -ItemType SymbolicLink -Path "$tools/$p" -Target $c.Source -Force | Out-Null }
        }
        # (On TERM it stops its sleep too: \$! is expanded when the trap runs, not when it is set.)
        Set-Content "$tools/etcd" "#!/bin/sh`nexec sh -c 'trap `"kill \`$! 2>/dev/null; exit 0`" TERM; sleep 600 & wait' never-serving-etcd `"`$@`"`n"
        & chmod +x "$tools/etcd"
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $command = "Import-Module '$script:module'; Test-ClusterBackup -LiteralPath '$($script:good.FullName)' -Rehearse -ToolPath '$tools'"
        $child = Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $command -PassThru
        $deadline = (Get-Date).AddSeconds(60)
        do {
            Start-Sleep -Milliseconds 100
            $server = Get-RehearsalTrace | Where-Object { $_ -like 'process *never-serving-etcd*' }
        } until ($server -or (Get-Date) -gt $deadline)
        $server | Should -Not -BeNullOrEmpty -Because 'the first rehearsal starts its etcd'
        $left = @(Get-RehearsalTrace | Where-Object { $_ -notlike 'process *' })
        & kill -9 $child.Id
        $child.WaitForExit(10000) | Should -BeTrue
        @(Get-RehearsalTrace).Count | Should -BeGreaterThan 0 -Because 'kill -9 leaves the rehearsal no time to clear up'

        $r = $script:good | Test-ClusterBackup -Rehearse -Verbose 4>&1
        @($r | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] })[0].Rehearsal.Passed | Should -BeTrue
        ($r | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like "*$($left[0]) was left by a rehearsal that no longer runs (PID $($child.Id))*" }) |
            Should -Not -BeNullOrEmpty
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'opens no connection to the backed-up cluster: its ports, taken over by a tripwire, hear nothing during the rehearsal' {
        # The one-member cluster b goes down; listeners take its client and peer ports and count every connection.
        & sh (Join-Path $PSScriptRoot '../tools/etcd-cluster.sh') stop "$script:dir/b"
        $ports = @(([uri]$script:eb).Port, ([uri]$script:bPeer).Port)
        $heard = [hashtable]::Synchronized(@{ count = 0; ready = 0 })
        $job = Start-ThreadJob -ArgumentList $ports, $heard -ScriptBlock {
            param($ports, $heard)
            $listeners = foreach ($p in $ports) { $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, $p); $l.Start(); $l }
            $heard.ready = 1
            while ($heard.ready -eq 1) {
                foreach ($l in $listeners) { while ($l.Pending()) { $l.AcceptTcpClient().Dispose(); $heard.count++ } }
                Start-Sleep -Milliseconds 20
            }
            $listeners | ForEach-Object Stop
        }
        try {
            $deadline = (Get-Date).AddSeconds(10)
            while ($heard.ready -ne 1 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $heard.ready | Should -Be 1
            # The tripwire works: a probe of the old endpoint is heard.
            [Net.Sockets.TcpClient]::new('127.0.0.1', $ports[0]).Dispose()
            Start-Sleep -Milliseconds 200
            $heard.count | Should -Be 1
            ($script:other | Test-ClusterBackup -Rehearse).Rehearsal.Passed | Should -BeTrue
            Start-Sleep -Milliseconds 200
            $heard.count | Should -Be 1 -Because 'the rehearsal connects to nothing the backup names'
        }
        finally { $heard.ready = 2; $job | Wait-Job -Timeout 10 | Remove-Job -Force }
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }
}
