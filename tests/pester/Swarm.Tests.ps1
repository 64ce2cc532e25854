#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The Swarm cmdlets end to end in PowerShell against a real dockerd in its own network namespace
# (tests/tools/swarm-node.sh): status, guard, backup, -WhatIf, leave, restore, an encrypted backup and its restore, unlock keys.

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    . (Join-Path $PSScriptRoot 'ConsoleView.ps1')
    . (Join-Path $PSScriptRoot 'BackupCraft.ps1')
    foreach ($program in 'dockerd', 'docker', 'nsenter', 'ip', 'busybox', 'age') {
        if (-not (Get-Command $program -ErrorAction SilentlyContinue)) { throw "$program is required: sh tests/tools/install-deps.sh" }
    }
    $script:tool = Join-Path $PSScriptRoot '../tools/swarm-node.sh'
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-pester-swarm-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:dockerHost = (& sh $script:tool start $script:dir | Select-Object -Last 1)
    if ($LASTEXITCODE -ne 0) { throw 'dockerd did not start' }
    $env:DOCKER_HOST = $script:dockerHost
    # -Node/-DockerHost reach the daemon; the cmdlets that stop and start it also get its data root and commands.
    $script:conn = @{ Node = 'localhost'; DockerHost = $script:dockerHost }
    $script:node = $script:conn + @{ DataRoot = "$script:dir/root"; StopCommand = "sh $script:dir/stop.sh"; StartCommand = "sh $script:dir/start.sh" }
    $script:backups = Join-Path $script:dir 'backups'
    function Get-Objects {
        @((docker service ls --format '{{.Name}}' | Sort-Object) + (docker secret ls --format '{{.Name}}' | Sort-Object) +
          (docker config ls --format '{{.Name}}' | Sort-Object) + (docker network ls --filter scope=swarm --format '{{.Name}}' | Sort-Object)) -join ','
    }
    docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 | Out-Null
    $img = Join-Path $script:dir 'img'
    New-Item -ItemType Directory -Force "$img/bin" | Out-Null
    Copy-Item (Get-Command busybox).Source "$img/bin/busybox"
    tar -C $img -cf "$script:dir/busybox.tar" . ; docker import "$script:dir/busybox.tar" clusterdr/busybox:1 | Out-Null
    'pw' | docker secret create db-password - | Out-Null
    'cfg' | docker config create app-config - | Out-Null
    docker network create -d overlay backend | Out-Null
    docker service create --detach --name web --replicas 1 --network backend --secret db-password --config app-config --stop-signal KILL clusterdr/busybox:1 /bin/busybox sleep 3600 | Out-Null
    $script:objects = Get-Objects
}

AfterAll {
    Remove-Item Env:DOCKER_HOST -ErrorAction Ignore
    # $script:dir is set before dockerd starts: a start that failed half-way is stopped too.
    if ($script:dir) { & sh $script:tool stop $script:dir }
}

Describe 'Swarm cmdlets against a real dockerd' {
    It 'reports the one-manager swarm with its objects' {
        $s = Get-SwarmClusterStatus @script:conn
        $s.PSObject.TypeNames[0] | Should -Be 'ClusterDR.SwarmClusterStatus'
        $s.IsManager | Should -BeTrue
        $s.ManagerCount | Should -Be 1
        $s.HasQuorum | Should -BeTrue
        $s.FaultTolerance | Should -Be 0
        $s.Autolock | Should -BeFalse
        $s.Services | Should -Be 1
        $s.Secrets | Should -Be 1
        $null = Assert-FitsConsole $s
    }

    It 'refuses to back up the only manager without -Force, with the ErrorId QuorumAtRisk' {
        { Backup-SwarmManager @script:node -Path $script:backups -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'QuorumAtRisk*'
        Test-Path $script:backups | Should -BeFalse
    }

    It 'has no unlock key while autolock is off' {
        { Get-SwarmUnlockKey @script:conn -ErrorAction Stop } | Should -Throw -ErrorId 'SwarmAutolockOff*'
    }

    It 'backs up, leaves the daemon untouched under -WhatIf, restores after leaving the swarm' {
        $b = Backup-SwarmManager @script:node -Path $script:backups -Force -Label pester -Confirm:$false -WarningAction SilentlyContinue | Test-ClusterBackup
        $b.Verified | Should -BeTrue
        $b.Facts.services | Should -Be '1'
        [double]$b.Facts.downtimeSeconds | Should -BeGreaterThan 0

        $pid1 = Get-Content "$script:dir/dockerd.pid"
        $b | Restore-SwarmManager @script:node -Force -WhatIf
        Get-Content "$script:dir/dockerd.pid" | Should -Be $pid1
        (Get-ChildItem "$script:dir/root" -Filter 'swarm*').Count | Should -Be 1

        docker swarm leave --force | Out-Null
        $r = Get-ClusterBackup $script:backups -Kind swarm | Restore-SwarmManager @script:node -AdvertiseAddress 127.0.0.1 -ListenAddress 127.0.0.1:2377 -Confirm:$false
        # Its own type first, the shared one behind it (what views and scripts select on).
        $r.PSObject.TypeNames[0] | Should -Be 'ClusterDR.SwarmRestoreResult'
        $r.PSObject.TypeNames | Should -Contain 'ClusterDR.RestoreResult'
        $r.Swarm.HasQuorum | Should -BeTrue
        Get-Objects | Should -Be $script:objects
    }

    It 'rehearses the backup on a throwaway dockerd in a network namespace of its own, leaving the real daemon and swarm alone' {
        $b = Get-ClusterBackup $script:backups -Kind swarm | Select-Object -First 1
        $pid1 = Get-Content "$script:dir/dockerd.pid"
        $r = $b | Test-ClusterBackup -Rehearse
        $r.Rehearsal.Passed | Should -BeTrue
        $r.Rehearsal.Checks.Name | Should -Be @('archive', 'restores', 'nodes', 'services', 'secrets', 'configs', 'networks')
        ($r.Rehearsal.Checks | Where-Object Name -eq 'services').Found | Should -Be '1'
        ($r.Rehearsal.Checks | Where-Object Name -eq 'networks').Found | Should -Be $b.Facts.networks
        $r.Rehearsal.Server | Should -BeLike 'dockerd * in network namespace cdr-rh-*'
        Get-Content "$script:dir/dockerd.pid" | Should -Be $pid1
        Get-Objects | Should -Be $script:objects
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'backs up encrypted (age), refuses to restore without the key, restores with it after leaving the swarm' {
        $key = New-ClusterBackupKey -Path "$script:dir/keys/swarm.key"
        $enc = Join-Path $script:dir 'encrypted'
        $b = Backup-SwarmManager @script:node -Path $enc -Force -Label sealed -Recipient $key.Recipient -Confirm:$false -WarningAction SilentlyContinue
        $b.Encrypted | Should -BeTrue
        $b.Name | Should -BeLike 'swarm-*-sealed-*.tar.zst.age'
        # The standard tool opens it; the raft keys inside are not in clear in the file.
        $names = & sh -c "age -d -i '$($key.Path)' '$($b.Path)' | tar --zstd -t"
        $LASTEXITCODE | Should -Be 0
        @($names | Where-Object { $_ -like '*raft*' }).Count | Should -BeGreaterThan 0
        [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($b.Path)) | Should -Not -Match 'raft'
        $listed = Get-ClusterBackup $enc
        ($listed.Kind, $listed.Label, $listed.Encrypted) | Should -Be @('swarm', 'sealed', $true)

        $pid1 = Get-Content "$script:dir/dockerd.pid"
        { $listed | Restore-SwarmManager @script:node -Force -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'BackupKeyRequired*'
        Get-Content "$script:dir/dockerd.pid" | Should -Be $pid1 -Because 'nothing is touched before the archive opens'

        docker swarm leave --force | Out-Null
        $r = $listed | Restore-SwarmManager @script:node -DecryptionKeyFile $key.Path -AdvertiseAddress 127.0.0.1 -ListenAddress 127.0.0.1:2377 -Confirm:$false
        $r.Swarm.HasQuorum | Should -BeTrue
        Get-Objects | Should -Be $script:objects
    }

    It 'rotates the unlock key once autolock is on and returns SecureStrings' {
        docker swarm update --autolock=true | Out-Null
        $k1 = Get-SwarmUnlockKey @script:conn
        $k1 | Should -BeOfType [securestring]
        Update-SwarmUnlockKey @script:conn -WhatIf | Should -BeNullOrEmpty
        (Get-SwarmUnlockKey @script:conn -AsPlainText) | Should -Be ([pscredential]::new('x', $k1).GetNetworkCredential().Password)
        $k2 = Update-SwarmUnlockKey @script:conn -AsPlainText -Confirm:$false
        $k2 | Should -BeLike 'SWMKEY-*'
        (Get-SwarmUnlockKey @script:conn -AsPlainText) | Should -Be $k2
    }

    It 'rehearses an autolocked backup with the unlock key of its day, and asks for the key without it' {
        $key = Get-SwarmUnlockKey @script:conn
        $b = Backup-SwarmManager @script:node -Path "$script:dir/locked" -Force -UnlockKey $key -Confirm:$false -WarningAction SilentlyContinue
        $b.Facts.autolock | Should -Be 'true'
        { $b | Test-ClusterBackup -Rehearse -ErrorAction Stop } | Should -Throw -ErrorId 'SwarmUnlockKeyRequired*'
        $r = $b | Test-ClusterBackup -Rehearse -UnlockKey $key
        $r.Rehearsal.Passed | Should -BeTrue
        Get-SwarmUnlockKey @script:conn -AsPlainText | Should -Be ([pscredential]::new('x', $key).GetNetworkCredential().Password) -Because 'the real swarm keeps its key'
        Get-RehearsalTrace | Should -BeNullOrEmpty
    }

    It 'reads classic Swarm managers that do not answer as unreachable' {
        $m = Get-SwarmClassicManager -Endpoint 127.0.0.1:1 -TimeoutSec 2
        $m.Reachable | Should -BeFalse
        $m.Problem | Should -Not -BeNullOrEmpty
        $null = Assert-FitsConsole $m -Columns Endpoint, Role, Primary, Nodes, Strategy, Filters
    }
}
