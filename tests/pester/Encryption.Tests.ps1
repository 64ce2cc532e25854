#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Encrypted backups and retention end to end in PowerShell: a real 3-member etcd backed up encrypted (to two
# recipients, and with a passphrase), opened by the standard age tool, listed without the key, refused without it
# or with the wrong one, restored with it (also from an archive age encrypted by itself), a damaged one refused
# before anything is touched; every secret sampled for on process command lines, in verbose/debug output, errors,
# the manifest and temp files. Then retention: a policy piped into Remove-ClusterBackup, encrypted backups included.
# (The swarm side is in Swarm.Tests.ps1.)

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    foreach ($program in 'etcd', 'etcdctl', 'age', 'age-keygen', 'zstd', 'tar') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: sh tests/tools/install-deps.sh" }
    }
    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    . (Join-Path $PSScriptRoot 'ConsoleView.ps1')
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-enc-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Force $script:dir
    . (Join-Path $PSScriptRoot 'EtcdCluster.ps1')
    $script:etcdDir = Join-Path $script:dir 'etcd'
    $etcd = Start-TestEtcd $script:etcdDir 24000 28000
    $script:members = $etcd.Members
    $script:endpoints = $etcd.Endpoints
    function Get-Keys { & etcdctl --endpoints=$($script:endpoints[0]) get '' --from-key --keys-only | Where-Object { $_ } }
    # A Kubernetes Secret in clear in the keyspace: what encryption must hide.
    $script:secretValue = "db-password-$([guid]::NewGuid().ToString('N'))"
    & etcdctl --endpoints=$($script:endpoints[0]) put /registry/secrets/default/db $script:secretValue | Out-Null
    foreach ($i in 1..200) { & etcdctl --endpoints=$($script:endpoints[0]) put "/registry/pods/default/p$i" ('{"kind":"Pod","metadata":{"name":"p' + $i + '"}}' * 20) | Out-Null }
    $script:keysBefore = (Get-Keys) -join ','

    $script:backups = Join-Path $script:dir 'backups'
    $script:ops = New-ClusterBackupKey -Path (Join-Path $script:dir 'keys/ops.key')
    $script:breakGlass = Join-Path $script:dir 'keys/break-glass.key'
    & age-keygen -o $script:breakGlass 2>$null
    $script:breakGlassRecipient = (& age-keygen -y $script:breakGlass)
    $script:opsSecret = (Get-Content $script:ops.Path | Where-Object { $_ -like 'AGE-SECRET-KEY-*' })
    $script:breakGlassSecret = (Get-Content $script:breakGlass | Where-Object { $_ -like 'AGE-SECRET-KEY-*' })
    $script:passText = "pass-$([guid]::NewGuid().ToString('N'))"
    $script:pass = ConvertTo-SecureString $script:passText -AsPlainText -Force
    $script:secrets = @($script:opsSecret, $script:breakGlassSecret, $script:passText)

    # Every process's command line, sampled every 20 ms while a block runs (the secret tests' way).
    function Invoke-Sampled([scriptblock] $Block) {
        $flag = Join-Path $script:dir "sampling-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType File $flag
        $job = Start-ThreadJob -ArgumentList $flag -ScriptBlock {
            param($flag)
            $seen = [System.Collections.Generic.HashSet[string]]::new()
            while (Test-Path $flag) {
                foreach ($p in [IO.Directory]::GetDirectories('/proc')) {
                    try { $c = [IO.File]::ReadAllText("$p/cmdline"); if ($c) { $null = $seen.Add($c.Replace([char]0, ' ')) } } catch { }
                }
                Start-Sleep -Milliseconds 20
            }
            $seen
        }
        try { $out = & $Block *>&1 } finally { Remove-Item $flag; $lines = Receive-Job $job -Wait -AutoRemoveJob }
        [pscustomobject]@{ Output = $out; CommandLines = @($lines) }
    }
    function Assert-NoSecret([string] $Text, [string] $Because) {
        foreach ($s in $script:secrets) { $Text | Should -Not -Match ([regex]::Escape($s)) -Because $Because }
    }
}

AfterAll {
    Stop-TestEtcd $script:etcdDir
    if ($script:dir) { Remove-Item -Recurse -Force $script:dir -ErrorAction Ignore }
}

Describe 'Encrypted etcd backups' {
    It 'New-ClusterBackupKey writes an owner-only identity in age-keygen''s format, and never over a file' {
        $script:ops.Recipient | Should -Match '^age1[0-9a-z]{58}$'
        (& age-keygen -y $script:ops.Path) | Should -Be $script:ops.Recipient
        if (-not $IsWindows) { (& stat -c '%a' $script:ops.Path) | Should -Be '600' }
        { New-ClusterBackupKey -Path $script:ops.Path -ErrorAction Stop } | Should -Throw -ErrorId 'BackupExists*'
        $null = Assert-FitsConsole $script:ops
    }

    It 'backs up encrypted to two recipients; age opens it; the manifest and verbose output hold no key' {
        Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path $script:backups -Label two -Recipient $script:ops.Recipient -WhatIf
        Test-Path $script:backups | Should -BeFalse -Because '-WhatIf writes nothing'
        # A private temp folder for the run (.NET reads TMPDIR at each call), so every file the backup leaves there is seen.
        $privateTemp = Join-Path $script:dir 'tmp'
        $null = New-Item -ItemType Directory -Force $privateTemp
        $oldTemp = $env:TMPDIR
        $env:TMPDIR = $privateTemp
        try {
            $run = Invoke-Sampled {
                Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path $script:backups -Label two -Recipient $script:ops.Recipient, "# break-glass", $script:breakGlassRecipient -Verbose -Debug
            }
        } finally { $env:TMPDIR = $oldTemp }
        $script:two = $run.Output | Where-Object { $_ -is [ClusterDR.ClusterBackup] }
        $script:two.Encrypted | Should -BeTrue
        $script:two.Name | Should -BeLike 'etcd-*-two-*.tar.zst.age'
        Assert-NoSecret (($run.Output | Out-String) + ($run.CommandLines -join "`n")) 'no key is on a command line or in the output'

        # The standard tool opens it with either identity; the payload is the etcd snapshot, the manifest has no key.
        foreach ($key in $script:ops.Path, $script:breakGlass) {
            $names = & sh -c "age -d -i '$key' '$($script:two.Path)' | tar --zstd -t"
            $LASTEXITCODE | Should -Be 0
            $names | Should -Contain 'manifest.json'
            $names | Should -Contain 'snapshot.db'
        }
        $manifest = & sh -c "age -d -i '$($script:ops.Path)' '$($script:two.Path)' | tar --zstd -xO manifest.json" | Out-String
        $manifest | Should -Match '"kind": "etcd"'
        Assert-NoSecret $manifest 'the manifest carries no key'
        # Neither the secret in etcd nor any key is in clear in the file, nor in a file the run left in its temp folder.
        $raw = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($script:two.Path))
        $raw | Should -Not -Match ([regex]::Escape($script:secretValue))
        $raw | Should -Not -Match 'snapshot\.db'
        foreach ($f in Get-ChildItem $privateTemp, $script:backups -File -Recurse -Force) {
            $text = try { [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($f.FullName)) } catch { '' }
            Assert-NoSecret $text "$($f.FullName) is a file written during the backup"
        }
    }

    It 'lists without the key: kind, cluster, label, time and size, and nothing else' {
        $listed = @(Get-ClusterBackup $script:backups -Label two)
        $listed.Count | Should -Be 1
        $listed[0].Encrypted | Should -BeTrue
        $listed[0].Kind | Should -Be 'etcd'
        $listed[0].Cluster | Should -Be $script:two.Cluster
        $listed[0].Label | Should -Be 'two'
        $listed[0].CreatedUtc | Should -Be $script:two.CreatedUtc
        $listed[0].SizeBytes | Should -Be (Get-Item $script:two.Path).Length
        $listed[0].Files.Count | Should -Be 0
        $listed[0].Facts.Count | Should -Be 0
        $null = Assert-FitsConsole $listed[0]
    }

    It 'refuses to read it without a key, or with the wrong one, and says which' {
        { Test-ClusterBackup -LiteralPath $script:two.Path -ErrorAction Stop } | Should -Throw -ErrorId 'BackupKeyRequired*'
        $other = New-ClusterBackupKey -Path (Join-Path $script:dir 'keys/other.key')
        $err = $null
        Test-ClusterBackup -LiteralPath $script:two.Path -DecryptionKeyFile $other.Path -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BackupKeyMismatch*'
        Assert-NoSecret (($err | Out-String) + $err[0].Exception.ToString()) 'an error names no key'
        (Get-ClusterBackup $script:backups -Label two | Test-ClusterBackup -DecryptionKeyFile $script:ops.Path).Verified | Should -BeTrue
        # An identity as a SecureString (an Automation credential) works the same.
        $sec = ConvertTo-SecureString $script:breakGlassSecret -AsPlainText -Force
        (Test-ClusterBackup -LiteralPath $script:two.Path -DecryptionKey $sec -Quiet) | Should -BeTrue
    }

    It 'refuses a damaged encrypted backup before it touches a member' {
        $bytes = [IO.File]::ReadAllBytes($script:two.Path)
        $bad = Join-Path $script:dir 'damaged'
        $null = New-Item -ItemType Directory -Force $bad
        $bytes[$bytes.Length - 100] = $bytes[$bytes.Length - 100] -bxor 1
        $badPath = Join-Path $bad $script:two.Name
        [IO.File]::WriteAllBytes($badPath, $bytes)
        foreach ($m in $script:members) { & sh -c $m.StopCommand }
        $dataBefore = foreach ($m in $script:members) { (Get-ChildItem -Recurse $m.DataDir | Measure-Object).Count }
        try {
            { Restore-EtcdSnapshot -LiteralPath $badPath -Member $script:members -DecryptionKeyFile $script:ops.Path -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'ArchiveCorrupt*'
            $dataAfter = foreach ($m in $script:members) { (Get-ChildItem -Recurse $m.DataDir | Measure-Object).Count }
            $dataAfter | Should -Be $dataBefore
        } finally {
            foreach ($m in $script:members) { & sh -c $m.StartCommand }
        }
        Wait-TestEtcd $script:endpoints
        (Get-Keys) -join ',' | Should -Be $script:keysBefore
    }

    It 'restores the cluster from it with the break-glass key; -WhatIf first changes nothing' {
        & etcdctl --endpoints=$($script:endpoints[0]) put /after-backup gone | Out-Null
        foreach ($m in $script:members) { & sh -c $m.StopCommand }
        $filesBefore = foreach ($m in $script:members) { (Get-ChildItem -Recurse $m.DataDir | Measure-Object).Count }
        Get-ClusterBackup $script:backups -Label two | Restore-EtcdSnapshot -Member $script:members -DecryptionKeyFile $script:breakGlass -WhatIf
        $filesAfter = foreach ($m in $script:members) { (Get-ChildItem -Recurse $m.DataDir | Measure-Object).Count }
        $filesAfter | Should -Be $filesBefore
        $run = Invoke-Sampled {
            Get-ClusterBackup $script:backups -Label two | Restore-EtcdSnapshot -Member $script:members -DecryptionKeyFile $script:breakGlass -Confirm:$false -Verbose
        }
        $r = $run.Output | Where-Object { $_ -is [ClusterDR.RestoreResult] }
        $r.Status.HealthyCount | Should -Be 3
        (Get-Keys) -join ',' | Should -Be $script:keysBefore
        Assert-NoSecret (($run.Output | Out-String) + ($run.CommandLines -join "`n")) 'no key is on a command line or in the output'
    }

    It 'with a passphrase: age -d opens it; Test and Copy need the passphrase; it lists from its name' {
        $run = Invoke-Sampled { Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path $script:backups -Label pass -Passphrase $script:pass -Verbose }
        $b = $run.Output | Where-Object { $_ -is [ClusterDR.ClusterBackup] }
        $b.Encrypted | Should -BeTrue
        Assert-NoSecret (($run.Output | Out-String) + ($run.CommandLines -join "`n")) 'no passphrase is on a command line or in the output'
        $listed = Get-ClusterBackup $script:backups -Kind etcd | Where-Object Name -eq $b.Name
        $listed.Kind | Should -Be 'etcd'
        $listed.CreatedUtc.ToString('yyyyMMddTHHmmss') | Should -Be $b.CreatedUtc.ToUniversalTime().ToString('yyyyMMddTHHmmss')
        { Test-ClusterBackup -LiteralPath $b.Path -ErrorAction Stop } | Should -Throw -ErrorId 'BackupKeyRequired*'
        (Test-ClusterBackup -LiteralPath $b.Path -Passphrase $script:pass -Quiet) | Should -BeTrue
        $copies = Join-Path $script:dir 'copies'
        $c = Copy-ClusterBackup -LiteralPath $b.Path -Destination $copies -Passphrase $script:pass
        $c.Encrypted | Should -BeTrue
        [IO.File]::ReadAllBytes($c.Path).Length | Should -Be (Get-Item $b.Path).Length
        # age reads a passphrase from a terminal only: script(1) is one.
        $passFile = Join-Path $script:dir 'pass.txt'
        Set-Content -LiteralPath $passFile -Value $script:passText
        & sh -c "script -qec `"age -d -o '$script:dir/plain.tar.zst' '$($c.Path)'`" /dev/null < '$passFile' > /dev/null"
        $LASTEXITCODE | Should -Be 0
        (& tar --zstd -tf "$script:dir/plain.tar.zst") | Should -Contain 'snapshot.db'
        Remove-Item $passFile
        { New-Item -ItemType Directory $script:backups -Force | Out-Null; Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path $script:backups -Recipient $script:ops.Recipient -Passphrase $script:pass -ErrorAction Stop } |
            Should -Throw -ErrorId 'EncryptionKeyInvalid*'
    }

    It 'restores an archive that the age tool encrypted from one of ours' {
        $plain = Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path (Join-Path $script:dir 'plain') -Label byage
        $enc = Join-Path $script:dir "byage/$($plain.Name).age"
        $null = New-Item -ItemType Directory -Force (Split-Path $enc)
        & age -r $script:ops.Recipient -o $enc $plain.Path
        $LASTEXITCODE | Should -Be 0
        $listed = Get-ClusterBackup (Split-Path $enc)
        $listed.Encrypted | Should -BeTrue
        $listed.Kind | Should -Be 'etcd'
        foreach ($m in $script:members) { & sh -c $m.StopCommand }
        $r = $listed | Restore-EtcdSnapshot -Member $script:members -DecryptionKeyFile $script:ops.Path -Confirm:$false
        $r.Status.HealthyCount | Should -Be 3
        (Get-Keys) -join ',' | Should -Be $script:keysBefore
    }
}

Describe 'Retention by policy' {
    It 'selects what the policy does not keep, says why, and Remove-ClusterBackup removes just those' {
        $dir = Join-Path $script:dir 'retention'
        $made = foreach ($label in 'a', 'b', 'c') {
            Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path $dir -Label $label -Recipient $script:ops.Recipient
            Start-Sleep -Milliseconds 1100 # distinct creation seconds, so the order is the backups' order
        }
        $made += Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path $dir -Label d
        { Get-ClusterBackup $dir | Select-ExpiredClusterBackup -ErrorAction Stop } | Should -Throw -ErrorId 'RetentionPolicyInvalid*'

        $verbose = Get-ClusterBackup $dir | Select-ExpiredClusterBackup -KeepLast 2 -Verbose 4>&1
        $expired = @($verbose | Where-Object { $_ -is [ClusterDR.Backups.RetentionDecision] })
        $lines = @($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $expired.Name | Sort-Object | Should -Be (($made | Select-Object -First 2).Name | Sort-Object)
        $expired[0].Reason | Should -BeLike 'not kept by the policy (last 2)*'
        $lines.Count | Should -Be 4
        ($lines | Where-Object { $_ -like 'keep*' }).Count | Should -Be 2
        ($lines | Where-Object { $_ -like 'keep*last 1 of 2*' }) | Should -BeLike "*$($made[3].Name)*"
        $null = Assert-FitsConsole $expired[0]

        Get-ClusterBackup $dir | Select-ExpiredClusterBackup -KeepLast 2 | Remove-ClusterBackup -WhatIf
        @(Get-ClusterBackup $dir).Count | Should -Be 4
        Get-ClusterBackup $dir | Select-ExpiredClusterBackup -KeepLast 2 | Remove-ClusterBackup -Confirm:$false
        (Get-ClusterBackup $dir).Name | Sort-Object | Should -Be (($made | Select-Object -Last 2).Name | Sort-Object)
    }

    It 'never passes on the last verified backup unless told' {
        $dir = Join-Path $script:dir 'retention'
        $all = Get-ClusterBackup $dir
        $older = $all | Sort-Object CreatedUtc | Select-Object -First 1
        $verified = $older | Test-ClusterBackup -DecryptionKeyFile $script:ops.Path
        $verified.Verified | Should -BeTrue
        $newer = $all | Where-Object Name -ne $older.Name
        @(@($newer) + @($verified) | Select-ExpiredClusterBackup -KeepLast 1).Count | Should -Be 0
        (@(@($newer) + @($verified) | Select-ExpiredClusterBackup -KeepLast 1 -RemoveLastVerified)).Name | Should -Be $older.Name
    }
}
