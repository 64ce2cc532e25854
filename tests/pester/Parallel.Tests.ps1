#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The module from several runspaces at once (ForEach-Object -Parallel; a runbook's runspace pool): in a child pwsh that
# has never loaded ClusterDR, five runspaces import it at the same moment (the first import races: load context, type
# accelerators) and each backs up its own single-member etcd cluster (tests/tools/etcd-cluster.sh). Every backup is
# verified and holds its own cluster's data; each runspace's verbose stream names only its own endpoint.

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    $script:module = (Resolve-Path $script:module).Path
    # This process reads the snapshots back through the engine's types.
    Import-Module $script:module -Force
    $script:tool = Join-Path $PSScriptRoot '../tools/etcd-cluster.sh'
    foreach ($program in 'etcd', 'etcdctl') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: apt-get install etcd-server etcd-client" }
    }
    . (Join-Path $PSScriptRoot 'TestPorts.ps1')
    $script:pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
    # Kept before anything starts, so AfterAll stops by the PIDs etcd-cluster.sh wrote there even after a failed start.
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-parallel-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Force $script:dir

    # One run of free ports for all five (a member binds only after etcd-cluster.sh returns): four each.
    $base = Get-FreePortRun 20 20000 24000
    $script:clusters = foreach ($i in 1..5) {
        $d = Join-Path $script:dir "etcd$i"
        $line = & sh $script:tool start $d 1 ($base + 4 * ($i - 1))
        if ($LASTEXITCODE -ne 0) { throw "etcd $i did not start" }
        $name, $peer, $client, $data = "$line" -split ' '
        [pscustomobject]@{ Index = $i; Dir = $d; Endpoint = $client; Out = Join-Path $script:dir "backups$i" }
    }
    foreach ($c in $script:clusters) {
        $deadline = (Get-Date).AddSeconds(30)
        do { Start-Sleep -Milliseconds 200; & etcdctl --endpoints=$($c.Endpoint) endpoint health *> $null }
        until ($LASTEXITCODE -eq 0 -or (Get-Date) -gt $deadline)
        if ($LASTEXITCODE -ne 0) { throw "etcd at $($c.Endpoint) is not healthy" }
        # Distinct keys, and a different number of them: the revisions differ too.
        foreach ($k in 0..(2 * $c.Index)) { & etcdctl --endpoints=$($c.Endpoint) put "parallel-$($c.Index)/key-$k" "value $k" | Out-Null }
    }
}

AfterAll {
    if ($script:dir -and (Test-Path $script:dir)) {
        foreach ($d in Get-ChildItem -Directory $script:dir -Filter 'etcd*') {
            & sh $script:tool stop $d.FullName
            if ($LASTEXITCODE -ne 0) { Write-Warning "etcd-cluster.sh stop $($d.FullName) exited with $LASTEXITCODE" }
        }
        Remove-Item -Recurse -Force $script:dir -ErrorAction Ignore
    }
}

Describe 'ClusterDR in several runspaces at once' {
    BeforeAll {
        $child = Join-Path $script:dir 'parallel.ps1'
        Set-Content -Path $child -Value @'
param([string] $Module, [string] $Clusters, [string] $Results)
$ErrorActionPreference = 'Stop'
$Clusters | ConvertFrom-Json | ForEach-Object -ThrottleLimit 5 -Parallel {
    $c = $_
    Import-Module $using:Module
    $all = Backup-EtcdSnapshot -Endpoint $c.Endpoint -Path $c.Out -Label parallel -Confirm:$false -Verbose -ErrorAction Stop 4>&1
    $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    $backup = $all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
    $tested = $backup | Test-ClusterBackup -ErrorAction Stop
    [pscustomobject]@{
        Index = $c.Index; Endpoint = $c.Endpoint; Path = $tested.Path; Verified = $tested.Verified
        ClusterId = $tested.Facts.clusterId; Revision = $tested.Facts.revision; Verbose = $verbose
        Runspace = [runspace]::DefaultRunspace.InstanceId
    }
} | ConvertTo-Json -Depth 4 | Set-Content -Path $Results
'@
        # The results go to a file: the child's console output (warnings, errors) stays apart from them.
        $resultFile = Join-Path $script:dir 'results.json'
        $output = & $script:pwsh -NoProfile -NonInteractive -File $child -Module $script:module -Clusters ($script:clusters | ConvertTo-Json -Compress) -Results $resultFile 2>&1
        if ($LASTEXITCODE -ne 0) { throw "the parallel run failed: $output" }
        $script:results = @(Get-Content -Raw $resultFile | ConvertFrom-Json) | Sort-Object Index
    }

    It 'backs up five clusters from five runspaces, each verified' {
        $script:results.Count | Should -Be 5
        @($script:results.Runspace | Select-Object -Unique).Count | Should -Be 5
        $script:results | ForEach-Object { $_.Verified | Should -BeTrue }
        @($script:results.Path | Select-Object -Unique).Count | Should -Be 5
    }

    It 'gives each backup its own cluster: cluster ids and revisions differ' {
        @($script:results.ClusterId | Select-Object -Unique).Count | Should -Be 5
        @($script:results.Revision | Select-Object -Unique).Count | Should -Be 5
        foreach ($r in $script:results) {
            $b = Get-ClusterBackup -Path $r.Path
            $b.Facts.clusterId | Should -Be $r.ClusterId
            $ms = [IO.MemoryStream]::new()
            [ClusterDR.Backups.BackupArchiveReaderExtensions]::ReadPayload($r.Path, 'snapshot.db', [Action[IO.Stream]] { param($s) $s.CopyTo($ms) })
            # bbolt keeps keys as they are: the snapshot holds this cluster's keys and no other's.
            $snapshot = [Text.Encoding]::Latin1.GetString($ms.ToArray())
            $snapshot | Should -BeLike "*parallel-$($r.Index)/key-$(2 * $r.Index)*"
            foreach ($other in $script:results | Where-Object Index -ne $r.Index) { $snapshot | Should -Not -BeLike "*parallel-$($other.Index)/key-0*" }
        }
    }

    It 'writes each runspace''s verbose lines to that runspace, naming only its own endpoint' {
        foreach ($r in $script:results) {
            $own = ([uri] $r.Endpoint).Authority
            @($r.Verbose | Where-Object { $_ -like "*$own*" }).Count | Should -BeGreaterThan 0
            foreach ($other in $script:results | Where-Object Index -ne $r.Index) {
                $r.Verbose | Where-Object { $_ -like "*$(([uri] $other.Endpoint).Authority)*" } | Should -BeNullOrEmpty
            }
        }
    }
}
