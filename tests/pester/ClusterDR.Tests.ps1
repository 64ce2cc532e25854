#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The cmdlets end to end in PowerShell, against real etcd members on 127.0.0.1 (tests/tools/etcd-cluster.sh).

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    $script:tool = Join-Path $PSScriptRoot '../tools/etcd-cluster.sh'
    foreach ($program in 'etcd', 'etcdctl') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: apt-get install etcd-server etcd-client" }
    }

    # A Describe keeps the directory before it starts anything, so its AfterAll can stop by the PIDs that
    # etcd-cluster.sh wrote there even when the start failed half-way (AfterAll also runs when BeforeAll throws).
    function New-TestEtcdDir { Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-$([guid]::NewGuid().ToString('N').Substring(0, 8))" }

    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    . (Join-Path $PSScriptRoot 'ConsoleView.ps1')
    . (Join-Path $PSScriptRoot 'EtcdCluster.ps1')  # Wait-TestEtcd; this file keeps its own Start/Stop (its clusters carry Dir and Backups)
    function Start-TestEtcd([string] $Dir) {
        $lines = & sh $script:tool start $Dir 3 (Get-FreePortRun 6 20000 24000)
        if ($LASTEXITCODE -ne 0) { throw 'etcd did not start' }
        $members = foreach ($line in $lines) {
            $name, $peer, $client, $data = $line -split ' '
            @{ Name = $name; PeerUrl = $peer; ClientUrl = $client; DataDir = $data; Node = 'localhost'
               StartCommand = "sh $Dir/$name/start.sh"; StopCommand = "sh $Dir/$name/stop.sh" }
        }
        $cluster = [pscustomobject]@{ Dir = $Dir; Members = $members; Endpoints = [string[]]$members.ClientUrl; Backups = (Join-Path $Dir 'backups') }
        Wait-TestEtcd $cluster.Endpoints
        $cluster
    }

    function Stop-TestEtcd([string] $Dir) {
        if (-not $Dir -or -not (Test-Path $Dir)) { return }
        & sh $script:tool stop $Dir
        if ($LASTEXITCODE -ne 0) { Write-Warning "etcd-cluster.sh stop $Dir exited with $LASTEXITCODE" }
        Remove-Item -Recurse -Force $Dir -ErrorAction Ignore
    }

    function Set-Key($Cluster, $Key, $Value) { & etcdctl --endpoints=$($Cluster.Endpoints[0]) put $Key $Value | Out-Null }
    function Get-Keys($Cluster, [int] $Member = 0) {
        & etcdctl --endpoints=$($Cluster.Endpoints[$Member]) get '' --from-key --keys-only | Where-Object { $_ }
    }
    function Get-State($Cluster) {
        # Everything a -WhatIf must leave alone: keys, PIDs, and what sits beside each data dir.
        @(
            (Get-Keys $Cluster) -join ','
            foreach ($m in $Cluster.Members) {
                Get-Content (Join-Path $Cluster.Dir "$($m.Name)/pid") -ErrorAction SilentlyContinue
                (Get-ChildItem -Force (Split-Path $m.DataDir)).Name -join ','
            }
        ) -join '|'
    }
}

Describe 'The ClusterDR module' {
    It 'exports exactly the cmdlets its manifest lists' {
        $manifest = Import-PowerShellDataFile $script:module
        (Get-Command -Module ClusterDR).Name | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'asks for confirmation before restores, repairs and removals' {
        foreach ($name in 'Restore-EtcdSnapshot', 'Repair-EtcdMember', 'Remove-ClusterBackup') {
            $cmd = Get-Command $name
            $cmd.Parameters.Keys | Should -Contain 'WhatIf'
            $cmd.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true)[0].ConfirmImpact | Should -Be 'High'
        }
    }

    It 'binds path strings to -Path and backup objects to -LiteralPath' {
        foreach ($name in 'Get-ClusterBackup', 'Test-ClusterBackup', 'Remove-ClusterBackup', 'Restore-EtcdSnapshot', 'Restore-ZkState', 'Restore-SwarmManager', 'Restore-DeisStore') {
            $cmd = Get-Command $name
            $path = $cmd.Parameters['Path'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $path.ValueFromPipeline | Should -Not -Contain $false
            $path.ValueFromPipelineByPropertyName | Should -Not -Contain $true
            $path.Position | Should -Not -Contain -2147483648
            $literal = $cmd.Parameters['LiteralPath']
            $literal.Aliases | Should -Be @('PSPath', 'FullName')
            ($literal.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Not -Contain $false
        }
    }

    It 'says in a sentence what a label may hold' {
        $err = { Backup-EtcdSnapshot -Endpoint http://127.0.0.1:1 -Path TestDrive:\b -Label 'not ok/label' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError*' -PassThru
        $err.Exception.Message | Should -Match "'not ok/label' cannot be part of a backup's file name: use 1 to 64 letters, digits"
        $err.Exception.Message | Should -Not -Match '\^\['
    }

    It 'reports a -Path that matches nothing as BackupNotFound' {
        { Test-ClusterBackup -Path (Join-Path $TestDrive 'none-*.tar.gz') -ErrorAction Stop } | Should -Throw -ErrorId 'BackupNotFound*'
        Test-ClusterBackup -Path (Join-Path $TestDrive 'none-*.tar.gz') -Quiet | Should -BeFalse
        { Get-ClusterBackup -Path (Join-Path $TestDrive 'none-*') -ErrorAction Stop } | Should -Throw -ErrorId 'BackupNotFound*'
        { Restore-EtcdSnapshot -Path (Join-Path $TestDrive 'none-*.tar.gz') -Member @{ Name = 'e1'; Node = 'localhost'; PeerUrl = 'http://127.0.0.1:1'; ClientUrl = 'http://127.0.0.1:2'; DataDir = '/nonexistent' } -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'BackupNotFound*'
    }

    It 'rejects a node that is not a host with InvalidNode' {
        { Backup-EtcdSnapshot -Node 'root@bad;host' -Path TestDrive:\b -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidNode*'
    }

    It 'reports a damaged gzip file as ArchiveCorrupt' {
        $bad = Join-Path $TestDrive 'bad.tar.gz'
        [IO.File]::WriteAllBytes($bad, [byte[]](@(0x1f, 0x8b, 8, 0) + (1..200)))
        { Test-ClusterBackup -Path $bad -ErrorAction Stop } | Should -Throw -ErrorId 'ArchiveCorrupt*'
        Test-ClusterBackup -Path $bad -Quiet | Should -BeFalse
    }

    It 'says plainly that a file which is not gzip is not a backup' {
        $err = $null
        try { Test-ClusterBackup -Path /etc/hostname -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'ManifestInvalid*'
        $err.Exception.Message | Should -Be "'/etc/hostname' is neither a zstd nor a gzip file, so not a ClusterDR backup."
    }

    It 'names a path the file system cannot take in operator terms, not with the API''s exception' {
        # A NUL character in a path: resolved as a provider path, it matches nothing.
        $err = { Get-ClusterBackup -Path "nul`0here" -ErrorAction Stop } | Should -Throw -ErrorId 'BackupNotFound*' -PassThru
        $err.Exception | Should -BeOfType ([ClusterDR.ClusterDrException])
    }

    It 'turns any other exception into UnexpectedError, the original kept inside, and lets PowerShell''s own through' {
        # The cmdlet base's catch-all (Run): no real input reaches it any more, so its two rules are called directly.
        $base = [ClusterDR.Commands.ClusterDrCmdlet]
        $flags = [Reflection.BindingFlags]'NonPublic, Static'
        $record = $base.GetMethod('UnexpectedError', $flags).Invoke($null, @([ArgumentException]::new('Illegal characters in path.')))
        $record.FullyQualifiedErrorId | Should -Be 'UnexpectedError'
        $record.CategoryInfo.Category | Should -Be 'NotSpecified'
        $record.Exception | Should -BeOfType ([ClusterDR.ClusterDrException])
        $record.Exception.Message | Should -Be 'ClusterDR hit an unexpected error (System.ArgumentException): Illegal characters in path. This is a bug; please report it.'
        $record.Exception.InnerException | Should -BeOfType ([ArgumentException])
        $isUnexpected = $base.GetMethod('IsUnexpected', $flags)
        $isUnexpected.Invoke($null, @([IO.IOException]::new('disk'))) | Should -BeTrue
        $isUnexpected.Invoke($null, @([Management.Automation.PipelineStoppedException]::new())) | Should -BeFalse
        $isUnexpected.Invoke($null, @([ClusterDR.ClusterDrException]::new('X', 'NotSpecified', 'm', $null, $null, $false, $null))) | Should -BeFalse
    }
}

Describe 'etcd backup, verification and retention' {
    BeforeAll {
        $script:etcdDir = New-TestEtcdDir
        $script:etcd = Start-TestEtcd $script:etcdDir
        foreach ($i in 1..10) { Set-Key $script:etcd "/p/k$i" "v$i" }
    }
    AfterAll { Stop-TestEtcd $script:etcdDir }

    It 'shows the quorum status as a typed object with a default view' {
        $s = Get-EtcdClusterStatus -Endpoint $script:etcd.Endpoints[0]
        $s.PSObject.TypeNames | Should -Contain 'ClusterDR.QuorumStatus'
        $s.HealthyCount | Should -Be 3
        $s.QuorumSize | Should -Be 2
        $s.FaultTolerance | Should -Be 1
        ($s | Out-String) | Should -Match 'FaultTolerance\s*:\s*1'
        $s.Members[0].PSObject.TypeNames | Should -Contain 'ClusterDR.ClusterMember'
        $null = Assert-FitsConsole $s
        $members = Assert-FitsConsole $s.Members -Columns Name, Id, Healthy, Leader, Version, ClientUrls
        $members | Should -Match ([regex]::Escape($script:etcd.Endpoints[0]))
    }

    It 'runs Backup | Test | Restore -WhatIf without touching the cluster' {
        $before = Get-State $script:etcd
        $what = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[1] -Path $script:etcd.Backups -Label pipe |
            Test-ClusterBackup |
            Restore-EtcdSnapshot -Member $script:etcd.Members -Force -WhatIf -WarningAction SilentlyContinue 6>&1
        $what | Should -BeNullOrEmpty -Because 'What if: lines go to the host, not the pipeline'
        Get-State $script:etcd | Should -Be $before
        (Get-ClusterBackup $script:etcd.Backups -Kind etcd | Where-Object Label -eq 'pipe').Count | Should -Be 1
    }

    It 'refuses to restore over a healthy cluster with ClusterHealthy' {
        $before = Get-State $script:etcd
        $err = { Get-ClusterBackup $script:etcd.Backups | Select-Object -First 1 | Restore-EtcdSnapshot -Member $script:etcd.Members -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'ClusterHealthy*' -PassThru
        $err.ErrorDetails.RecommendedAction | Should -Match 'pass -Force'
        $err.ErrorDetails.Message | Should -Be $err.Exception.Message
        Get-State $script:etcd | Should -Be $before
    }

    It 'says what it runs on the debug stream' {
        # -Debug on a compiled cmdlet asks (Inquire) before each line, which fails without a console; the
        # preference variable shows the same lines without asking.
        $DebugPreference = 'Continue'
        $lines = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $script:etcd.Backups -Label debug 5>&1 |
            Where-Object { $_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object Message
        $url = $script:etcd.Endpoints[0].TrimEnd('/')
        $lines | Should -Contain "HTTP POST $url/v3/maintenance/status"
        $lines | Where-Object { $_ -like "HTTP/2 POST $url/etcdserverpb.Maintenance/Snapshot*" } | Should -Not -BeNullOrEmpty
        Get-ClusterBackup $script:etcd.Backups -Label debug | Remove-ClusterBackup -Confirm:$false
    }

    It 'expands wildcards in -Path, keeps piped backups literal and restores exactly one' {
        $dir = Join-Path $script:etcd.Dir 'wild[1]'
        $null = [IO.Directory]::CreateDirectory($dir)
        # Backup-* -Path is the destination directory: taken as written.
        $a = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $dir -Label wa
        $b = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $dir -Label wb
        $a.Path | Should -BeLike '*wild`[1`]*'
        # A backup whose path holds [ ] binds to -LiteralPath from the pipeline: no pattern, no surprise.
        ($a | Test-ClusterBackup).Verified | Should -BeTrue
        (Get-ClusterBackup -LiteralPath $dir -Label w*).Count | Should -Be 2
        (Get-ClusterBackup -LiteralPath $dir -Label wb -Kind 'et*').Path | Should -Be $b.Path
        # The same name given to -Path is a pattern ([1] matches the character 1) and names nothing.
        { Test-ClusterBackup -Path $a.Path -ErrorAction Stop } | Should -Throw -ErrorId 'BackupNotFound*'
        $escaped = [System.Management.Automation.WildcardPattern]::Escape($dir)
        Test-ClusterBackup -Path "$escaped/*.tar.zst" -Quiet | Should -Be @($true, $true)
        $before = Get-State $script:etcd
        { Restore-EtcdSnapshot -Path "$escaped/*.tar.zst" -Member $script:etcd.Members -Force -WhatIf -ErrorAction Stop } | Should -Throw -ErrorId 'MultipleBackupsForRestore*'
        { $a, $b | Restore-EtcdSnapshot -Member $script:etcd.Members -Force -WhatIf -ErrorAction Stop } | Should -Throw -ErrorId 'MultipleBackupsForRestore*'
        $a | Restore-EtcdSnapshot -Member $script:etcd.Members -Force -WhatIf -WarningAction SilentlyContinue 6>&1 | Should -BeNullOrEmpty
        Get-State $script:etcd | Should -Be $before
        Remove-ClusterBackup -Path "$escaped/*.tar.zst" -Confirm:$false
        Get-ClusterBackup -LiteralPath $dir | Should -BeNullOrEmpty
    }

    It 'passes only verified backups down the pipeline' {
        $good = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $script:etcd.Backups -Label good
        $bad = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $script:etcd.Backups -Label bad
        $bytes = [IO.File]::ReadAllBytes($bad.Path)
        [IO.File]::WriteAllBytes($bad.Path, $bytes[0..($bytes.Length / 2)])
        $passed = $good, $bad | Test-ClusterBackup -ErrorVariable failures -ErrorAction SilentlyContinue
        $passed.Path | Should -Be $good.Path
        $passed.Verified | Should -BeTrue
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ArchiveCorrupt*'
        $good.Path, $bad.Path | Test-ClusterBackup -Quiet | Should -Be @($true, $false)
        Remove-Item $bad.Path
    }

    It 'leaves a truncated copy of a backup out of the listing with a warning' {
        $dir = Join-Path $TestDrive 'cut'
        $good = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $dir -Label cut
        $bytes = [IO.File]::ReadAllBytes($good.Path)
        $good.Path | Should -BeLike '*.tar.zst'
        # The second cut: right after the manifest's raw zstd frame (6-byte frame header, one 3-byte block header).
        $cuts = 2000, (6 + 3 + 512 + 64KB), [int]($bytes.Length / 2), ($bytes.Length - 1)
        foreach ($cut in $cuts) { [IO.File]::WriteAllBytes((Join-Path $dir "cut-$cut.tar.zst"), $bytes[0..($cut - 1)]) }
        $listed = Get-ClusterBackup $dir -WarningVariable warned -WarningAction SilentlyContinue
        @($listed).Path | Should -Be $good.Path
        $warned.Count | Should -Be $cuts.Count
        foreach ($cut in $cuts) {
            ($warned -match [regex]::Escape("cut-$cut.tar.zst")).Count | Should -Be 1
            { Test-ClusterBackup (Join-Path $dir "cut-$cut.tar.zst") -ErrorAction Stop } | Should -Throw -ErrorId 'ArchiveCorrupt*'
        }
    }

    It 'writes a .tar.zst by default that the standard tools open, and a .tar.gz on request' {
        $dir = Join-Path $TestDrive 'formats'
        $zst = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $dir -Label zst
        $gz = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $dir -Label gz -ArchiveFormat Gzip
        $zst.Path | Should -BeLike '*-zst-*.tar.zst'
        $gz.Path | Should -BeLike '*-gz-*.tar.gz'
        # The snapshot compresses: beyond the 64 KB kept for the manifest, the default is smaller than what it holds.
        $zst.SizeBytes - 64KB | Should -BeLessThan ($zst.Files | Where-Object Path -eq 'snapshot.db').Size
        & zstd -q -t $zst.Path; $LASTEXITCODE | Should -Be 0
        (& tar --zstd -tf $zst.Path)[0] | Should -Be 'manifest.json'
        (& tar -tzf $gz.Path)[0] | Should -Be 'manifest.json'
        $x = Join-Path $TestDrive 'formats-x'
        $null = New-Item -ItemType Directory $x
        & tar --zstd -xf $zst.Path -C $x snapshot.db; $LASTEXITCODE | Should -Be 0
        (Get-FileHash (Join-Path $x 'snapshot.db') -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be ($zst.Files | Where-Object Path -eq 'snapshot.db').Sha256
        (Get-ClusterBackup $dir).Path | Sort-Object | Should -Be (@($zst.Path, $gz.Path) | Sort-Object)
        $zst, $gz | Test-ClusterBackup -Quiet | Should -Be @($true, $true)
        { Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $dir -ArchiveFormat Rar -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'lets two backups started together into one directory never both fail' {
        $dir = Join-Path $TestDrive 'race'
        $script = Join-Path $TestDrive 'race.ps1'
        # Each process waits for the same start instant, so both name their archive after the same second.
        Set-Content $script @'
param($Module, $Endpoint, $Dir, $StartAt)
Import-Module $Module
while ([DateTime]::UtcNow -lt [DateTime]::Parse($StartAt).ToUniversalTime()) { Start-Sleep -Milliseconds 5 }
try { $b = Backup-EtcdSnapshot -Endpoint $Endpoint -Path $Dir -ErrorAction Stop; "OK $($b.Path)" }
catch { "ERR $($_.FullyQualifiedErrorId) $($_.Exception.Message)" }
'@
        # This very PowerShell; as a dotnet tool its process is dotnet running pwsh.dll.
        $pwsh = (Get-Process -Id $PID).Path
        [string[]] $host_ = if ((Split-Path -Leaf $pwsh) -like 'dotnet*') { @(Join-Path $PSHOME 'pwsh.dll') } else { @() }
        foreach ($round in 1..5) {
            $start = [DateTime]::UtcNow.AddSeconds(4).ToString('o')
            $jobs = foreach ($i in 1..2) {
                $out = Join-Path $TestDrive "race-$round-$i.txt"
                $p = Start-Process $pwsh -PassThru -RedirectStandardOutput $out -ArgumentList ($host_ + @(
                    '-NoProfile', '-NonInteractive', '-File', $script, $script:module, $script:etcd.Endpoints[0], $dir, $start))
                [pscustomobject]@{ Process = $p; Out = $out }
            }
            foreach ($j in $jobs) { $j.Process.WaitForExit(60000) | Should -BeTrue }
            $results = foreach ($j in $jobs) { (Get-Content $j.Out) -join ' ' }
            $ok = @($results | Where-Object { $_ -like 'OK *' })
            $ok.Count | Should -BeGreaterOrEqual 1 -Because "round ${round}: $($results -join ' | ')"
            $results | Where-Object { $_ -notlike 'OK *' } | ForEach-Object { $_ | Should -BeLike 'ERR BackupExists*' -Because "round ${round}" }
            foreach ($line in $ok) { (Test-ClusterBackup -Path $line.Substring(3)).Verified | Should -BeTrue }
        }
        @(Get-ChildItem -Force $dir | Where-Object Name -notlike '*.tar.zst') | Should -BeNullOrEmpty -Because 'no .partial or staging dir is left behind'
        (Get-ChildItem $dir -Filter *.tar.zst).Count | Should -Be (Get-ClusterBackup $dir).Count
    }

    It 'keeps the newest backups and removes the rest, only for real' {
        foreach ($i in 1..3) { $null = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $script:etcd.Backups -Label "r$i"; Start-Sleep -Milliseconds 1100 }
        $all = Get-ClusterBackup $script:etcd.Backups -Kind etcd
        $all | Select-Object -Skip 2 | Remove-ClusterBackup -WhatIf
        (Get-ClusterBackup $script:etcd.Backups).Count | Should -Be $all.Count
        $all | Select-Object -Skip 2 | Remove-ClusterBackup -Confirm:$false
        $left = Get-ClusterBackup $script:etcd.Backups
        $left.Count | Should -Be 2
        # The whole name of an unlabelled etcd backup fits; the date reads as in every other view.
        $unlabelled = Backup-EtcdSnapshot -Endpoint $script:etcd.Endpoints[0] -Path $script:etcd.Backups
        $table = Assert-FitsConsole ($left + $unlabelled) -Columns Name, CreatedUtc, SizeMB, Verified
        $table | Should -Match ([regex]::Escape($unlabelled.Name))
        $table | Should -Match ([regex]::Escape($unlabelled.CreatedUtc.ToString('yyyy-MM-dd HH:mm')))
        Remove-Item $unlabelled.Path
        $left[0].Label | Should -Be 'r3'
        $left[1].Label | Should -Be 'r2'
    }
}

Describe 'etcd disaster recovery through the cmdlets' {
    BeforeAll {
        $script:drDir = New-TestEtcdDir
        $script:dr = Start-TestEtcd $script:drDir
        foreach ($i in 1..15) { Set-Key $script:dr "/dr/k$i" "v$i" }
    }
    AfterAll { Stop-TestEtcd $script:drDir }

    It 'refuses a backup from a member that lost quorum, then restores all members' {
        $backup = Backup-EtcdSnapshot -Endpoint $script:dr.Endpoints[0] -Path $script:dr.Backups
        $expected = Get-Keys $script:dr
        Set-Key $script:dr '/dr/after' 'not in the backup'
        foreach ($m in $script:dr.Members[1..2]) { & sh -c $m.StopCommand; Remove-Item -Recurse -Force $m.DataDir }

        $refused = { Backup-EtcdSnapshot -Endpoint $script:dr.Endpoints[0] -Path $script:dr.Backups -ErrorAction Stop } | Should -Throw -ErrorId 'QuorumAtRisk*' -PassThru
        $refused.ErrorDetails.RecommendedAction | Should -Be 'Wait until the cluster has quorum, or back up a healthy member; pass -Force to back up anyway (the backup may be stale).'

        # -WhatIf describes the run that follows: the two destroyed data dirs are not "moved aside".
        $transcript = Join-Path $script:drDir 'whatif.txt'
        Start-Transcript -Path $transcript | Out-Null
        try { $backup | Restore-EtcdSnapshot -Member $script:dr.Members -WhatIf } finally { Stop-Transcript | Out-Null }
        $moves = @(Get-Content $transcript | Where-Object { $_ -like 'What if:*Move data dir*' })
        $moves.Count | Should -Be 1
        $moves[0] | Should -BeLike "*Move data dir $($script:dr.Members[0].DataDir) aside*"

        $result = $backup | Test-ClusterBackup | Restore-EtcdSnapshot -Member $script:dr.Members -Confirm:$false
        $result.PSObject.TypeNames | Should -Contain 'ClusterDR.RestoreResult'
        $result.MovedAside.Keys | Should -Be @('e1')
        # The same readable shape in a string as in the list view.
        $null = Assert-FitsConsole $result
        "$($result.MovedAside)" | Should -Match '^e1 -> \S+\.clusterdr-\d{8}T\d{6}Z$'
        foreach ($i in 0..2) { Get-Keys $script:dr $i | Should -Be $expected }
        (Get-EtcdClusterStatus -Endpoint $script:dr.Endpoints).HealthyCount | Should -Be 3
    }

    It 'restores a .tar.gz backup of the format older versions wrote' {
        $backup = Backup-EtcdSnapshot -Endpoint $script:dr.Endpoints[0] -Path $script:dr.Backups -Label old -ArchiveFormat Gzip
        $expected = Get-Keys $script:dr
        Set-Key $script:dr '/dr/after-gzip' 'not in the backup'
        foreach ($m in $script:dr.Members[1..2]) { & sh -c $m.StopCommand; Remove-Item -Recurse -Force $m.DataDir }
        $backup.Path | Should -BeLike '*.tar.gz'
        $null = Get-ClusterBackup -LiteralPath $backup.Path | Restore-EtcdSnapshot -Member $script:dr.Members -Confirm:$false
        foreach ($i in 0..2) { Get-Keys $script:dr $i | Should -Be $expected }
    }
}
