# Dot-sourced by the Pester files that need a real 3-member etcd on 127.0.0.1 (tests/tools/etcd-cluster.sh): starts it
# under $Dir, waits until all members are healthy, and returns the members as the restore cmdlets take them (-Member)
# with their client URLs. Stop it with Stop-TestEtcd $Dir (by the PIDs the script wrote), also after a failed start.
function Start-TestEtcd([string] $Dir, [int] $LowPort, [int] $HighPort) {
    $tool = Join-Path $PSScriptRoot '../tools/etcd-cluster.sh'
    $lines = & sh $tool start $Dir 3 (Get-FreePortRun 6 $LowPort $HighPort)
    if ($LASTEXITCODE -ne 0) { throw 'etcd did not start' }
    $members = foreach ($line in $lines) {
        $name, $peer, $client, $data = $line -split ' '
        @{ Name = $name; PeerUrl = $peer; ClientUrl = $client; DataDir = $data; Node = 'localhost'
           StartCommand = "sh $Dir/$name/start.sh"; StopCommand = "sh $Dir/$name/stop.sh" }
    }
    $endpoints = [string[]]$members.ClientUrl
    Wait-TestEtcd $endpoints
    [pscustomobject]@{ Members = $members; Endpoints = $endpoints }
}

# Until $Count members (all by default) are healthy. Get-EtcdClusterStatus stops with a terminating error while no
# member listens yet, which -ErrorAction does not silence: hence the catch.
function Wait-TestEtcd([string[]] $Endpoints, [int] $Count = $Endpoints.Count, [int] $Seconds = 30) {
    $deadline = (Get-Date).AddSeconds($Seconds)
    do {
        Start-Sleep -Milliseconds 200
        $s = try { Get-EtcdClusterStatus -Endpoint $Endpoints -ErrorAction SilentlyContinue -WarningAction SilentlyContinue } catch { $null }
    } until (($s -and $s.HealthyCount -eq $Count) -or (Get-Date) -gt $deadline)
    if (-not $s -or $s.HealthyCount -ne $Count) { throw "etcd at $($Endpoints -join ', ') is not healthy" }
}

function Stop-TestEtcd([string] $Dir) {
    if ($Dir -and (Test-Path $Dir)) { & sh (Join-Path $PSScriptRoot '../tools/etcd-cluster.sh') stop $Dir }
}
