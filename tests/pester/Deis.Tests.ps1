#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The Deis store cmdlets end to end in PowerShell against a real one-node Ceph with radosgw
# (tests/tools/ceph-s3.sh), a private sshd for -Node and a private PostgreSQL for the database part:
# backup, Test-ClusterBackup, -WhatIf, restore, -Force, both S3 signatures, wrong keys, -SshSession.

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    foreach ($program in 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'ssh', 'ssh-keygen', 'psql', 'pg_dumpall', 'runuser') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: sh tests/tools/install-deps.sh" }
    }
    if (-not (Test-Path /usr/sbin/sshd)) { throw 'sshd is required: apt-get install openssh-server' }
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-deis-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Force $script:dir
    $script:backups = Join-Path $script:dir 'backups'
    $script:vol = Join-Path $script:dir 'store'
    $null = New-Item -ItemType Directory -Force $script:vol

    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    . (Join-Path $PSScriptRoot 'BackupCraft.ps1')
    function Wait-Port([int] $Port, [int] $Seconds = 10) {
        $deadline = (Get-Date).AddSeconds($Seconds)
        while ((Get-Date) -lt $deadline) {
            try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port); $c.Dispose(); return } catch { Start-Sleep -Milliseconds 50 }
        }
        throw "Nothing listens on 127.0.0.1:$Port"
    }

    # Ceph with radosgw; the secret key goes to the script on stdin.
    $script:access = 'CLUSTERDRPESTERACCESS'
    $script:secretText = "clusterdr-pester-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    $script:cred = [pscredential]::new($script:access, (ConvertTo-SecureString $script:secretText -AsPlainText -Force))
    $script:wrong = [pscredential]::new($script:access, (ConvertTo-SecureString 'not-the-secret-key' -AsPlainText -Force))
    $script:cephDir = Join-Path $script:dir 'ceph'
    $script:cephTool = Join-Path $PSScriptRoot '../tools/ceph-s3.sh'
    $port = Get-FreePortRun 3
    $script:secretText | & sh $script:cephTool start $script:cephDir $port $script:access
    if ($LASTEXITCODE -ne 0) { throw 'Ceph did not start' }
    $script:gateway = [uri]"http://127.0.0.1:$port"
    $script:conf = Join-Path $script:cephDir 'ceph.conf'

    # A private sshd: -Node goes through the OpenSSH client with its own known_hosts and key.
    $script:sshd = Join-Path $script:dir 'sshd'
    $null = New-Item -ItemType Directory -Force $script:sshd, /run/sshd
    & ssh-keygen -q -t ed25519 -N '' -f "$script:sshd/host_key"
    & ssh-keygen -q -t ed25519 -N '' -f "$script:sshd/client_key"
    Copy-Item "$script:sshd/client_key.pub" "$script:sshd/authorized_keys"
    $sshPort = Get-FreePortRun
    $hostKey = (Get-Content "$script:sshd/host_key.pub").Split(' ')
    Set-Content "$script:sshd/known_hosts" "[127.0.0.1]:$sshPort $($hostKey[0]) $($hostKey[1])"
    Set-Content "$script:sshd/sshd_config" @(
        "Port $sshPort", 'ListenAddress 127.0.0.1', "HostKey $script:sshd/host_key", "PidFile $script:sshd/sshd.pid",
        "AuthorizedKeysFile $script:sshd/authorized_keys", 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
        'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'MaxSessions 50', 'MaxStartups 50:30:100')
    $script:sshdProcess = Start-Process /usr/sbin/sshd -ArgumentList '-D', '-e', '-f', "$script:sshd/sshd_config" -PassThru -RedirectStandardError "$script:sshd/sshd.log"
    Wait-Port $sshPort
    $user = [Environment]::UserName

    # A private PostgreSQL, as the database container of the platform.
    $script:pg = Join-Path $script:dir 'pg'
    $null = New-Item -ItemType Directory -Force $script:pg
    $script:pgBin = (Get-ChildItem /usr/lib/postgresql -Directory | Select-Object -First 1).FullName + '/bin'
    $script:pgPort = Get-FreePortRun
    & chown postgres:postgres $script:pg
    & runuser -u postgres -- "$script:pgBin/initdb" -D "$script:pg/data" -U postgres --auth=trust -N | Out-Null
    & runuser -u postgres -- "$script:pgBin/pg_ctl" -D "$script:pg/data" -w -l "$script:pg/pg.log" -o "-p $script:pgPort -k $script:pg -c listen_addresses=127.0.0.1 -c fsync=off" start | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'PostgreSQL did not start' }
    function Invoke-Psql([string] $Db, [string] $Sql) { (& psql -h 127.0.0.1 -p $script:pgPort -U postgres -d $Db -XAtq -v ON_ERROR_STOP=1 -c $Sql) -join '|' }
    Invoke-Psql postgres 'CREATE DATABASE deis' | Out-Null
    Invoke-Psql deis "CREATE TABLE api_app (id text primary key, owner text); INSERT INTO api_app VALUES ('app1','alice'),('app2','bob')" | Out-Null

    # Everything the Deis cmdlets need to reach this store; -Node is root@127.0.0.1 through the sshd above.
    $script:store = @{
        GatewayUri = $script:gateway; Credential = $script:cred
        Node = "$user@127.0.0.1:$sshPort"; KnownHostsFile = "$script:sshd/known_hosts"; IdentityFile = "$script:sshd/client_key"
        StoreDirectory = $script:vol
    }
    $script:dump = "pg_dumpall -h 127.0.0.1 -p $script:pgPort -U postgres"
    $script:load = "psql -h 127.0.0.1 -p $script:pgPort -U postgres -X -q -d postgres"
    $script:ceph = "ceph -c $script:conf"

    # The test's own S3 client (a copy of the module's AWSSDK in the default context; the module's own is in its own), for filling, wiping and reading the buckets.
    $lib = Join-Path (Split-Path (Get-Module ClusterDR).Path) 'lib'
    Add-Type -Path (Join-Path $lib 'AWSSDK.Core.dll'), (Join-Path $lib 'AWSSDK.S3.dll')
    $config = [Amazon.S3.AmazonS3Config]::new()
    $config.ServiceURL = $script:gateway.ToString()
    $config.ForcePathStyle = $true
    $config.AuthenticationRegion = 'us-east-1'
    $config.UseHttp = $true
    $config.RequestChecksumCalculation = [Amazon.Runtime.RequestChecksumCalculation]::WHEN_REQUIRED
    $config.ResponseChecksumValidation = [Amazon.Runtime.ResponseChecksumValidation]::WHEN_REQUIRED
    $script:s3 = [Amazon.S3.AmazonS3Client]::new([Amazon.Runtime.BasicAWSCredentials]::new($script:access, $script:secretText), $config)

    function Wait-Task($Task) { $Task.GetAwaiter().GetResult() }
    function Get-Bytes([int] $Length, [int] $Seed) { $b = [byte[]]::new($Length); [Random]::new($Seed).NextBytes($b); , $b }
    function Write-Object([string] $Bucket, [string] $Key, [byte[]] $Data) {
        $req = [Amazon.S3.Model.PutObjectRequest]@{ BucketName = $Bucket; Key = $Key; InputStream = [IO.MemoryStream]::new($Data); UseChunkEncoding = $false }
        $null = Wait-Task $script:s3.PutObjectAsync($req)
    }
    function Get-Objects([string] $Bucket) {
        $req = [Amazon.S3.Model.ListObjectsV2Request]@{ BucketName = $Bucket }
        do {
            $page = Wait-Task $script:s3.ListObjectsV2Async($req)
            $page.S3Objects
            $req.ContinuationToken = $page.NextContinuationToken
        } while ($page.IsTruncated)
    }
    function Get-Buckets { @((Wait-Task $script:s3.ListBucketsAsync()).Buckets.BucketName | Sort-Object) }
    # bucket/key -> SHA-256 of the content, read through S3.
    function Get-ObjectHashes {
        $all = [ordered]@{}
        foreach ($b in Get-Buckets) {
            foreach ($o in Get-Objects $b | Sort-Object Key) {
                $r = Wait-Task $script:s3.GetObjectAsync($b, $o.Key)
                try { $all["$b/$($o.Key)"] = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($r.ResponseStream)) } finally { $r.Dispose() }
            }
        }
        $all
    }
    # What the gateway holds as radosgw itself sees it (not through S3): buckets, and each object's size, ETag and mtime.
    function Get-GatewayState {
        $buckets = & radosgw-admin -c $script:conf bucket list | ConvertFrom-Json
        @(foreach ($b in $buckets | Sort-Object) {
            "bucket $b"
            foreach ($e in (& radosgw-admin -c $script:conf bucket list --bucket=$b | ConvertFrom-Json) | Sort-Object name) { "  $($e.name) $($e.meta.size) $($e.meta.etag) $($e.meta.mtime)" }
        }) -join "`n"
    }
    function Clear-Gateway {
        foreach ($b in Get-Buckets) {
            foreach ($o in Get-Objects $b) { $null = Wait-Task $script:s3.DeleteObjectAsync($b, $o.Key) }
            $null = Wait-Task $script:s3.DeleteBucketAsync($b)
        }
    }
    # Raw S3 requests signed with SigV2 and sent with the path exactly as given (System.Uri would collapse '.' and '..'
    # segments): the test's own way to put, read and delete such keys, independent of the module's S3 client.
    $script:http = [Net.Http.HttpClient]::new()
    function Invoke-RawS3([string] $Method, [string] $Bucket, [string] $Key, [byte[]] $Body) {
        $path = "/$Bucket/" + ((($Key -split '/') | ForEach-Object { [uri]::EscapeDataString($_) }) -join '/')
        $options = [System.UriCreationOptions]@{ DangerousDisablePathAndQueryCanonicalization = $true }
        $req = [Net.Http.HttpRequestMessage]::new([Net.Http.HttpMethod]::new($Method), [uri]::new($script:gateway.GetLeftPart('Authority') + $path, [ref] $options))
        if ($null -ne $Body) { $req.Content = [Net.Http.ByteArrayContent]::new($Body) }
        [ClusterDR.Deis.S3SigV2]::Sign($req, $script:access, [Text.Encoding]::UTF8.GetBytes($script:secretText), [DateTime]::UtcNow)
        $resp = $script:http.SendAsync($req).GetAwaiter().GetResult()
        $bytes = $resp.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
        if (-not $resp.IsSuccessStatusCode) { throw "$Method $($path): $([int]$resp.StatusCode) $([Text.Encoding]::UTF8.GetString($bytes))" }
        , $bytes
    }
    # One bucket's objects as radosgw itself lists them: name, size, ETag.
    function Get-BucketState([string] $Bucket) {
        (@((& radosgw-admin -c $script:conf bucket list --bucket=$Bucket | ConvertFrom-Json) | Sort-Object name | ForEach-Object { "$($_.name) $($_.meta.size) $($_.meta.etag)" })) -join "`n"
    }
    function Get-VolumeState { (& sh -c "cd '$script:vol' && find . -printf '%p %U:%G %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort") -join "`n" }
    function Get-State { (Get-GatewayState), (Get-VolumeState), (Invoke-Psql postgres 'SELECT datname FROM pg_database ORDER BY 1') -join "`n--`n" }

    # The store: both buckets with objects of mixed sizes (one goes up again in parts), a volume with owners, the database.
    foreach ($b in 'db_wal', 'registry') { $null = Wait-Task $script:s3.PutBucketAsync($b) }
    Write-Object db_wal 'basebackups_005/empty' ([byte[]]::new(0))
    Write-Object db_wal 'wal_005/000000010000000000000001.lzo' (Get-Bytes 1000 1)
    Write-Object registry 'registry/folder/' ([byte[]]::new(0))
    foreach ($i in 0..9) { Write-Object registry "registry/images/$i/layer" (Get-Bytes (3000 + 997 * $i) (10 + $i)) }
    Write-Object registry 'registry/images/big/layer' (Get-Bytes (9 * 1024 * 1024 + 7) 99)
    $null = New-Item -ItemType Directory -Force "$script:vol/logs/deep"
    Set-Content "$script:vol/logs/controller.log" 'controller log'
    [IO.File]::WriteAllBytes("$script:vol/logs/deep/app.log", (Get-Bytes 70000 5))
    & chown -R 1001:1002 "$script:vol/logs"
    & chmod 0700 "$script:vol/logs/deep"
    $script:objects = Get-ObjectHashes
    $script:volume = Get-VolumeState

    # A Posh-SSH session's shape (SSH.SshSession with an SSH.NET SshClient in "Session"), running commands with /bin/sh here:
    # Posh-SSH is not installed on this machine, and ClusterDR drives the real one by reflection through exactly these members.
    if (-not ('ClusterDRPester.ShapedSession' -as [type])) {
        Add-Type -TypeDefinition @'
using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
namespace ClusterDRPester
{
    public sealed class ShapedSession { public object Session; public string Host { get; set; } public int SessionId { get; set; } }
    public sealed class ShapedClient
    {
        public bool IsConnected { get; set; } = true;
        public int Commands;
        public ShapedCommand CreateCommand(string commandText) { Interlocked.Increment(ref Commands); return new ShapedCommand(commandText); }
    }
    public sealed class ShapedCommand : IDisposable
    {
        private readonly Process _p;
        public ShapedCommand(string text)
        {
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(text);
            _p = new Process { StartInfo = psi };
        }
        public Stream OutputStream => _p.StandardOutput.BaseStream;
        public Stream ExtendedOutputStream => _p.StandardError.BaseStream;
        public int? ExitStatus => _p.HasExited ? _p.ExitCode : (int?)null;
        public IAsyncResult BeginExecute() { _p.Start(); return new Done(); }
        public string EndExecute(IAsyncResult r) { _p.WaitForExit(); return ""; }
        public Stream CreateInputStream() => _p.StandardInput.BaseStream;
        public void Dispose() => _p.Dispose();
        private sealed class Done : IAsyncResult
        {
            public object AsyncState => null;
            public WaitHandle AsyncWaitHandle => new ManualResetEvent(true);
            public bool CompletedSynchronously => true;
            public bool IsCompleted => true;
        }
    }
}
'@
    }
}

AfterAll {
    if ($script:s3) { $script:s3.Dispose() }
    if ($script:http) { $script:http.Dispose() }
    if ($script:sshdProcess) { Stop-Process -Id $script:sshdProcess.Id -ErrorAction Ignore; $script:sshdProcess.WaitForExit(5000) | Out-Null }
    if ($script:pgBin) { & runuser -u postgres -- "$script:pgBin/pg_ctl" -D "$script:pg/data" -m fast -w stop | Out-Null }
    & sh $script:cephTool stop $script:cephDir
    Remove-Item -Recurse -Force $script:dir -ErrorAction Ignore
}

Describe 'Deis store cmdlets against real Ceph radosgw, sshd and PostgreSQL' {
    It 'refuses wrong keys with S3AccessDenied under both signatures and writes nothing' {
        foreach ($sig in '4', '2') {
            $err = { Backup-DeisStore @script:store -Credential $script:wrong -SignatureVersion $sig -CephCommand $script:ceph -Path $script:backups -SkipVolume -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'S3AccessDenied*' -PassThru
            # The SDK's exception stays inside ours; neither the ErrorRecord nor its message is the SDK's.
            $err.Exception | Should -BeOfType ([ClusterDR.ClusterDrException])
            $err.Exception.Message | Should -Not -Match 'Amazon|HttpErrorResponseException|Exception of type'
        }
        Test-Path $script:backups | Should -BeFalse
    }

    It 'accepts only signature versions 2 and 4' {
        { Backup-DeisStore @script:store -SignatureVersion 3 -Path $script:backups -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'reports a -CephCommand that prints no JSON as EndpointError, quoting its output' {
        $err = { Backup-DeisStore @script:store -CephCommand 'echo this is not json' -Path $script:backups -SkipVolume -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'EndpointError*' -PassThru
        $err.Exception.Message | Should -Match "The ceph command's output on .+ is not the JSON of 'ceph quorum_status -f json': `"this is not json"
        Test-Path $script:backups | Should -BeFalse
    }

    It 'refuses a gateway URL that is not http(s) with InvalidAddress and an empty bucket name when binding, in its own words' {
        foreach ($u in 'relative/path', 'ftp://127.0.0.1:9/') {
            $err = { Backup-DeisStore -GatewayUri $u -Credential $script:cred -Path $script:backups -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidAddress*' -PassThru
            $err.Exception.Message | Should -BeLike "'$u' is not an S3 gateway URL*"
        }
        { Backup-DeisStore -GatewayUri $script:gateway -Credential $script:cred -Bucket '' -Path $script:backups -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        Test-Path $script:backups | Should -BeFalse
    }

    It 'writes no archive under -WhatIf' {
        $before = Get-State
        Backup-DeisStore @script:store -CephCommand $script:ceph -Path $script:backups -IncludeDatabase -DatabaseDumpCommand $script:dump -WhatIf | Should -BeNullOrEmpty
        Test-Path $script:backups | Should -BeFalse
        Get-State | Should -Be $before
    }

    It 'backs up buckets, volume and database over ssh; the backup verifies and no secret is in the output' {
        $out = Backup-DeisStore @script:store -CephCommand $script:ceph -Path $script:backups -Label pester -IncludeDatabase -DatabaseDumpCommand $script:dump -Confirm:$false -Verbose 4>&1
        $verbose = $out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $b = $out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] } | Test-ClusterBackup
        $b.Kind | Should -Be 'deis-store'
        $b.Verified | Should -BeTrue
        $b.Facts.objects | Should -Be "$($script:objects.Count)"
        $b.Files.Path | Should -Contain 'volume/store.tar'
        $b.Files.Path | Should -Contain 'database/pg_dumpall.sql'
        $verbose | Should -Not -BeNullOrEmpty
        ($verbose.Message -join "`n") | Should -Not -Match ([regex]::Escape($script:secretText))
    }

    It 'rehearses the backup: every object re-hashed and counted per bucket, the dump loaded into a throwaway PostgreSQL' {
        $b = Get-ClusterBackup $script:backups -Kind deis-store | Select-Object -First 1
        $r = $b | Test-ClusterBackup -Rehearse
        $r.Rehearsal.Passed | Should -BeTrue
        $names = $r.Rehearsal.Checks.Name
        foreach ($n in 'archive', 'objects', 'serves', 'database dump loads') { $names | Should -Contain $n }
        ($r.Rehearsal.Checks | Where-Object Name -eq 'objects').Found | Should -Be "$($script:objects.Count)"
        @($names | Where-Object { $_ -like 'objects in *' }).Count | Should -Be @($b.Facts.buckets -split ',').Count
        ($r.Rehearsal.Checks | Where-Object Name -eq 'database dump loads').Found | Should -Match 'deis'
        $r.Rehearsal.Server | Should -BeLike 'psql (PostgreSQL) *'
        Invoke-Psql deis 'SELECT count(*) FROM api_app' | Should -Be '2' -Because 'the real database is not touched'

        # A dump that stops half-way through its SQL: the archive verifies, the load does not.
        $bad = Edit-TestBackup -Path $b.Path -Destination "$script:dir/crafted/$($b.Name -replace '-pester-', '-baddump-')" -Edit {
            param($d) Add-Content "$d/database/pg_dumpall.sql" 'INSERT INTO no_such_table VALUES (1);'
        }
        (Test-ClusterBackup -LiteralPath $bad.FullName).Verified | Should -BeTrue
        Test-ClusterBackup -LiteralPath $bad.FullName -Rehearse -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failed = $e[0].TargetObject.Rehearsal.FailedChecks
        $failed.Name | Should -Be 'database dump loads'
        $failed.Found | Should -Match 'no_such_table'
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'refuses to restore onto the filled store with DeisStoreNotEmpty and changes nothing' {
        $before = Get-State
        { Get-ClusterBackup $script:backups -Kind deis-store | Restore-DeisStore @script:store -SkipVolume -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'DeisStoreNotEmpty*'
        Get-State | Should -Be $before
    }

    It 'leaves the wiped buckets, volume and database untouched under Restore -WhatIf' {
        Clear-Gateway
        & sh -c "rm -rf '$script:vol'/*"
        Invoke-Psql postgres 'DROP DATABASE deis' | Out-Null
        $before = Get-State
        $before | Should -Not -Match 'bucket '
        Get-ClusterBackup $script:backups -Kind deis-store | Restore-DeisStore @script:store -IncludeDatabase -DatabaseLoadCommand $script:load -WhatIf | Should -BeNullOrEmpty
        Get-State | Should -Be $before
    }

    It 'restores every object, file owner and the database, signing with SigV2' {
        $r = Get-ClusterBackup $script:backups -Kind deis-store | Restore-DeisStore @script:store -SignatureVersion 2 -IncludeDatabase -DatabaseLoadCommand $script:load -Confirm:$false
        # Its own type first, the shared one behind it (what views and scripts select on).
        $r.PSObject.TypeNames[0] | Should -Be 'ClusterDR.DeisRestoreResult'
        $r.PSObject.TypeNames | Should -Contain 'ClusterDR.RestoreResult'
        ($r.Parts | Where-Object Name -eq 'objects').Items | Should -Be $script:objects.Count
        ($r.Parts | Where-Object Name -eq 'buckets').Items | Should -Be 2
        $now = Get-ObjectHashes
        ($now.Keys -join ',') | Should -Be ($script:objects.Keys -join ',')
        foreach ($k in $script:objects.Keys) { $now[$k] | Should -Be $script:objects[$k] -Because $k }
        Get-VolumeState | Should -Be $script:volume
        Invoke-Psql deis "SELECT string_agg(id || ' ' || owner, ',' ORDER BY id) FROM api_app" | Should -Be 'app1 alice,app2 bob'
        # The 9 MiB object went up in parts.
        (Get-Objects registry | Where-Object Key -eq 'registry/images/big/layer').ETag | Should -Match '-2"$'
    }

    It 'with -Force keeps identical objects, moves differing ones aside first and leaves other objects alone' {
        Write-Object registry 'registry/images/3/layer' (Get-Bytes 123 4242)
        Write-Object registry 'registry/only-here' (Get-Bytes 55 55)
        $old = (Get-ObjectHashes)['registry/registry/images/3/layer']
        $r = Get-ClusterBackup $script:backups -Kind deis-store | Restore-DeisStore @script:store -SkipVolume -Force -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        $r.MovedAside.Count | Should -Be 1
        $aside = $r.MovedAside['registry/registry/images/3/layer']
        $aside | Should -Match '^registry/clusterdr-moved-aside/\d{8}T\d{6}Z/registry/images/3/layer$'
        ($r.Parts | Where-Object Name -eq 'moved-aside').Items | Should -Be 1
        ($r.Parts | Where-Object Name -eq 'unchanged').Items | Should -Be ($script:objects.Count - 1)
        $now = Get-ObjectHashes
        $now['registry/registry/images/3/layer'] | Should -Be $script:objects['registry/registry/images/3/layer']
        $now[$aside] | Should -Be $old
        $now['registry/registry/only-here'] | Should -Not -BeNullOrEmpty
        ($warnings -join "`n") | Should -Match 'clusterdr-moved-aside/'
        ($r | Out-String -Width 300) | Should -Match 'MovedAside\s*:\s*registry/registry/images/3/layer -> registry/clusterdr-moved-aside/'
    }

    It 'backs up through a Posh-SSH session with -SshSession, which cannot be combined with -Node' {
        $client = [ClusterDRPester.ShapedClient]::new()
        $session = [ClusterDRPester.ShapedSession]@{ Session = $client; Host = 'deis-1' }
        $b = Backup-DeisStore -SshSession $session -GatewayUri $script:gateway -Credential $script:cred -StoreDirectory $script:vol -CephCommand $script:ceph -Path (Join-Path $script:dir 'via-session') -Confirm:$false
        $b.SourceNodes | Should -Contain 'ssh-session:deis-1'
        $b.Files.Path | Should -Contain 'volume/store.tar'
        $client.Commands | Should -BeGreaterOrEqual 2 -Because 'the Ceph guard and the volume tar ran through the session'
        { Backup-DeisStore -SshSession $session -Node localhost -GatewayUri $script:gateway -Path $script:backups -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet*'
    }

    It 'backs up and restores keys with . and .. segments, spaces, +, % and unicode under both signatures' {
        $keys = 'docker/dot/./z', 'a/./b', 'a/../b', 'trail/.', './lead', '../up', 'x/..', 'sp ace+plus%25/ünï~', 'plain/key'
        foreach ($sig in '4', '2') {
            $bucket = "dots-v$sig"
            $null = Wait-Task $script:s3.PutBucketAsync($bucket)
            $i = 0
            foreach ($k in $keys) { $null = Invoke-RawS3 PUT $bucket $k (Get-Bytes (100 + $i) (500 + $i)); $i++ }
            $before = Get-BucketState $bucket
            @($before -split "`n").Count | Should -Be $keys.Count -Because 'radosgw holds every key as written, none collapsed'
            $dir = Join-Path $script:dir "dots-$sig"
            $b = Backup-DeisStore -GatewayUri $script:gateway -Credential $script:cred -Bucket $bucket -SignatureVersion $sig -Path $dir -Confirm:$false -WarningAction SilentlyContinue -ErrorAction Stop |
                Test-ClusterBackup
            $b.Verified | Should -BeTrue
            $b.Facts.objects | Should -Be "$($keys.Count)"
            # Keys that are not clean paths are hex-encoded in the archive, so none can name a path outside it.
            # Objects are listed in the backup's payload index, not in manifest.json (Files).
            @([ClusterDR.Backups.PayloadIndex]::ReadFiles($b.Path) | Where-Object { $_.Path -like "s3x/$bucket/*" }).Count | Should -Be 8
            foreach ($k in $keys) { $null = Invoke-RawS3 DELETE $bucket $k }
            $null = Wait-Task $script:s3.DeleteBucketAsync($bucket)
            $r = $b | Restore-DeisStore -GatewayUri $script:gateway -Credential $script:cred -SignatureVersion $sig -SkipVolume -Confirm:$false -ErrorAction Stop
            ($r.Parts | Where-Object Name -eq 'objects').Items | Should -Be $keys.Count
            Get-BucketState $bucket | Should -Be $before
            $i = 0
            foreach ($k in $keys) { [Convert]::ToHexString((Invoke-RawS3 GET $bucket $k)) | Should -Be ([Convert]::ToHexString((Get-Bytes (100 + $i) (500 + $i)))) -Because $k; $i++ }
            foreach ($k in $keys) { $null = Invoke-RawS3 DELETE $bucket $k }
            $null = Wait-Task $script:s3.DeleteBucketAsync($bucket)
        }
    }
}
