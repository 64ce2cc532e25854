#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Backups that leave the machine, end to end in PowerShell: a real 3-member etcd backed up into a real S3 gateway
# (Ceph radosgw, tests/tools/ceph-s3.sh) and a real Azure Blob emulator (Azurite), listed, tested, copied from one
# store to the other, restored from a store and removed; an upload cut off half-way, and wrong credentials.

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    foreach ($program in 'etcd', 'etcdctl', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'node', 'age') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: sh tests/tools/install-deps.sh" }
    }
    $script:azurite = Join-Path $PSScriptRoot '../../out/tools/azurite/node_modules/.bin/azurite-blob'
    if (-not (Test-Path $script:azurite)) { throw "Azurite is required: sh tests/tools/install-deps.sh azurite" }

    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-stores-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Force $script:dir
    function Wait-Port([int] $Port, [int] $Seconds = 20) {
        $deadline = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $deadline) {
            try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port); $c.Dispose(); return } catch { Start-Sleep -Milliseconds 100 }
        }
        throw "Nothing listens on 127.0.0.1:$Port"
    }

    # etcd: three members, stopped by PID in AfterAll.
    . (Join-Path $PSScriptRoot 'EtcdCluster.ps1')
    $script:etcdDir = Join-Path $script:dir 'etcd'
    $etcd = Start-TestEtcd $script:etcdDir 20000 24000
    $script:members = $etcd.Members
    $script:endpoints = $etcd.Endpoints
    function Get-Keys { & etcdctl --endpoints=$($script:endpoints[0]) get '' --from-key --keys-only | Where-Object { $_ } }
    # About 15 MB of values that compress to about 11 MB, so an upload takes more than one 8 MiB part.
    foreach ($i in 1..250) {
        $value = [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(45000))
        & etcdctl --endpoints=$($script:endpoints[0]) put "/registry/pods/p$i" $value | Out-Null
    }

    # Ceph with radosgw; the secret goes to the script on stdin, never on a command line.
    $script:s3Access = 'CLUSTERDRSTORESACCESS'
    $script:s3Secret = "clusterdr-stores-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    $script:s3Cred = [pscredential]::new($script:s3Access, (ConvertTo-SecureString $script:s3Secret -AsPlainText -Force))
    $script:cephDir = Join-Path $script:dir 'ceph'
    $script:cephTool = Join-Path $PSScriptRoot '../tools/ceph-s3.sh'
    $cephPort = Get-FreePortRun 3
    $script:s3Secret | & sh $script:cephTool start $script:cephDir $cephPort $script:s3Access
    if ($LASTEXITCODE -ne 0) { throw 'Ceph did not start' }
    $script:s3Endpoint = [uri]"http://127.0.0.1:$cephPort"

    # Azurite on loopback, with its well-known development account; stopped by PID.
    $script:azPort = Get-FreePortRun
    $azDir = Join-Path $script:dir 'azurite'
    $null = New-Item -ItemType Directory -Force $azDir
    $script:azProcess = Start-Process $script:azurite -PassThru -RedirectStandardOutput "$azDir/out.log" -RedirectStandardError "$azDir/err.log" `
        -ArgumentList '--blobHost', '127.0.0.1', '--blobPort', $script:azPort, '--location', $azDir, '--silent', '--skipApiVersionCheck'
    Wait-Port $script:azPort
    $script:azAccount = 'devstoreaccount1'
    $script:azKeyText = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
    $script:azKey = ConvertTo-SecureString $script:azKeyText -AsPlainText -Force
    $script:azEndpoint = [uri]"http://127.0.0.1:$($script:azPort)/$($script:azAccount)"

    $script:bucket = 'clusterdr-pester'
    $script:container = 'clusterdr-pester'
    $script:s3 = New-ClusterBackupStore -Bucket $script:bucket -EndpointUrl $script:s3Endpoint -Credential $script:s3Cred -Prefix 'etcd/'
    $script:blob = New-ClusterBackupStore -Container $script:container -BlobEndpoint $script:azEndpoint -AccountKey $script:azKey -Prefix 'dr/'
    # A store is made without contacting anything; its bucket or container is the operator's to create, as here.
    $script:s3.CreateIfMissing()
    $script:blob.CreateIfMissing()
}

AfterAll {
    if ($script:azProcess) { Stop-Process -Id $script:azProcess.Id -Force -ErrorAction Ignore; $script:azProcess.WaitForExit(10000) | Out-Null }
    if ($script:cephDir -and (Test-Path $script:cephDir)) { & sh $script:cephTool stop $script:cephDir }
    Stop-TestEtcd $script:etcdDir
    if ($script:dir) { Remove-Item -Recurse -Force $script:dir -ErrorAction Ignore }
}

Describe 'New-ClusterBackupStore' {
    It 'makes a store object that names its place and never its credential' {
        $script:s3.Kind | Should -Be 'S3'
        $script:s3.Location | Should -Be "s3://$($script:bucket)/etcd/"
        $script:blob.Kind | Should -Be 'AzureBlob'
        $text = ($script:s3, $script:blob | Format-List * | Out-String) + ($script:s3, $script:blob | ConvertTo-Json -Depth 2 -WarningAction Ignore)
        $text | Should -Not -Match ([regex]::Escape($script:s3Secret))
        $text | Should -Not -Match ([regex]::Escape($script:azKeyText.Substring(0, 20)))
    }
}

Describe 'A full cycle through <Name>' -ForEach @(
    @{ Name = 'S3 (radosgw)'; Store = 'S3'; Other = 'Blob' }
    @{ Name = 'Azure Blob (Azurite)'; Store = 'Blob'; Other = 'S3' }
) {
    BeforeAll {
        $script:here = if ($Store -eq 'S3') { $script:s3 } else { $script:blob }
        $script:there = if ($Other -eq 'S3') { $script:s3 } else { $script:blob }
        $script:label = "cycle$($Store.ToLower())"
    }

    It 'backs up etcd straight into the store, and the listing shows it' {
        $b = Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Store $script:here -Path . -Label $script:label
        $b.Store.Location | Should -Be $script:here.Location
        $b.Path | Should -BeLike "$($script:here.Location)*$($script:label)*.tar.zst"
        $listed = @(Get-ClusterBackup -Store $script:here -Label $script:label)
        $listed.Count | Should -Be 1
        $listed[0].FullName | Should -Be $b.FullName
        $listed[0].SizeBytes | Should -Be $b.SizeBytes
        $listed[0].Facts.revision | Should -Not -BeNullOrEmpty
    }

    It 'tests it from the pipeline, and copies it to the other store verified' {
        $tested = Get-ClusterBackup -Store $script:here -Label $script:label | Test-ClusterBackup
        $tested.Verified | Should -BeTrue
        $tested | Copy-ClusterBackup -Destination 'copies' -DestinationStore $script:there -WhatIf
        @(Get-ClusterBackup -Store $script:there -Path copies -Label $script:label).Count | Should -Be 0 -Because '-WhatIf copies nothing'
        $copy = $tested | Copy-ClusterBackup -Destination 'copies' -DestinationStore $script:there
        $copy.Verified | Should -BeTrue
        $copy.Path | Should -BeLike "$($script:there.Location)copies/*"
        (Get-ClusterBackup -Store $script:there -Path copies -Label $script:label | Test-ClusterBackup -Quiet) | Should -BeTrue
    }

    It 'restores from the store after a disaster, piped from Get-ClusterBackup' {
        $before = (Get-Keys) -join ','
        & etcdctl --endpoints=$($script:endpoints[0]) put /after-backup gone | Out-Null
        foreach ($m in $script:members) { & sh -c $m.StopCommand }
        $r = Get-ClusterBackup -Store $script:here -Label $script:label | Restore-EtcdSnapshot -Member $script:members -Confirm:$false
        $r.BackupPath | Should -BeLike "$($script:here.Location)*$($script:label)*"
        $r.Status.HealthyCount | Should -Be 3
        (Get-Keys) -join ',' | Should -Be $before
    }

    It 'backs up encrypted into the store: it lists without the key, verifies with it, and age opens what comes down' {
        $key = New-ClusterBackupKey -Path (Join-Path $script:dir "keys/$($script:label).key")
        $b = Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Store $script:here -Path sealed -Label $script:label -Recipient $key.Recipient
        $b.Path | Should -BeLike "$($script:here.Location)sealed/*.tar.zst.age"
        $listed = @(Get-ClusterBackup -Store $script:here -Path sealed -Label $script:label)
        $listed.Count | Should -Be 1
        $listed[0].Encrypted | Should -BeTrue
        $listed[0].SizeBytes | Should -Be $b.SizeBytes
        { $listed | Test-ClusterBackup -ErrorAction Stop } | Should -Throw -ErrorId 'BackupKeyRequired*'
        ($listed | Test-ClusterBackup -DecryptionKeyFile $key.Path).Verified | Should -BeTrue
        $down = Join-Path $script:dir "down-$($script:label)"
        $c = $listed | Copy-ClusterBackup -Destination $down -DecryptionKeyFile $key.Path
        $names = & sh -c "age -d -i '$($key.Path)' '$($c.Path)' | tar --zstd -t"
        $LASTEXITCODE | Should -Be 0
        $names | Should -Contain 'snapshot.db'
        $listed | Remove-ClusterBackup -Confirm:$false
        @(Get-ClusterBackup -Store $script:here -Path sealed).Count | Should -Be 0
    }

    It 'removes it, -WhatIf first changing nothing' {
        Get-ClusterBackup -Store $script:here -Label $script:label | Remove-ClusterBackup -WhatIf
        @(Get-ClusterBackup -Store $script:here -Label $script:label).Count | Should -Be 1
        Get-ClusterBackup -Store $script:here -Label $script:label | Remove-ClusterBackup -Confirm:$false
        @(Get-ClusterBackup -Store $script:here -Label $script:label).Count | Should -Be 0
        Get-ClusterBackup -Store $script:there -Path copies -Label $script:label | Remove-ClusterBackup -Confirm:$false
    }
}

Describe 'When an upload fails' {
    It 'a copy that fails half-way (the source is damaged past its first parts) leaves nothing in either store' {
        $local = Join-Path $script:dir 'local'
        $b = Backup-EtcdSnapshot -Endpoint $script:endpoints[0] -Path $local -Label damaged -CompressionLevel NoCompression
        $bytes = [IO.File]::ReadAllBytes($b.Path)
        $bytes.Length | Should -BeGreaterThan (10MB)
        $bytes[[int]($bytes.Length * 0.9)] = $bytes[[int]($bytes.Length * 0.9)] -bxor 0x55
        [IO.File]::WriteAllBytes($b.Path, $bytes)
        foreach ($store in $script:s3, $script:blob) {
            $err = $null
            $b | Copy-ClusterBackup -Destination . -DestinationStore $store -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Match '^(ArchiveCorrupt|PayloadHashMismatch|EtcdSnapshotHashMismatch)'
            @(Get-ClusterBackup -Store $store -Label damaged).Count | Should -Be 0
        }
    }

    It 'a wrong credential is BackupStoreAccessDenied, and no text carries the secret' {
        $badS3 = New-ClusterBackupStore -Bucket $script:bucket -EndpointUrl $script:s3Endpoint -Prefix 'etcd/' `
            -Credential ([pscredential]::new($script:s3Access, (ConvertTo-SecureString 'not-the-secret' -AsPlainText -Force)))
        $badBlob = New-ClusterBackupStore -Container $script:container -BlobEndpoint $script:azEndpoint `
            -AccountKey (ConvertTo-SecureString ([Convert]::ToBase64String([byte[]](1..64))) -AsPlainText -Force)
        foreach ($bad in $badS3, $badBlob) {
            $err = $null
            Get-ClusterBackup -Store $bad -ErrorVariable err -ErrorAction SilentlyContinue -Verbose 4>&1 | Out-Null
            $err.Count | Should -BeGreaterThan 0
            $err[0].FullyQualifiedErrorId | Should -BeLike 'BackupStoreAccessDenied*'
            $text = ($err | Out-String) + ($err | ForEach-Object { $_.Exception.ToString() } | Out-String)
            $text | Should -Not -Match 'not-the-secret'
        }
    }
}
