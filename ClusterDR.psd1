@{
    RootModule           = 'ClusterDR.dll'
    ModuleVersion        = '0.3.0'
    GUID                 = '5b0f2a64-8a0e-4c0e-9d3a-6f4f3c1d2e71'
    Author               = 'ClusterDR'
    CompanyName          = 'ClusterDR'
    Copyright            = '(c) ClusterDR contributors. MIT License.'
    Description          = 'Backup, verification and disaster recovery of cluster control planes (etcd, ZooKeeper, the DC/OS backup service, Docker Swarm managers and classic Swarm HA, the Deis v1 platform store) with quorum guards, -WhatIf on every state change and self-describing, verified archives.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @('ClusterDR.Format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'Get-ClusterBackup'
        'Test-ClusterBackup'
        'Remove-ClusterBackup'
        'Copy-ClusterBackup'
        'New-ClusterBackupStore'
        'New-ClusterBackupKey'
        'Select-ExpiredClusterBackup'
        'Get-EtcdClusterStatus'
        'Backup-EtcdSnapshot'
        'Restore-EtcdSnapshot'
        'Repair-EtcdMember'
        'New-DcosBackup'
        'Get-DcosBackup'
        'Restore-DcosBackup'
        'Remove-DcosBackup'
        'Get-ZkEnsembleStatus'
        'Backup-ZkState'
        'Restore-ZkState'
        'Get-SwarmClusterStatus'
        'Backup-SwarmManager'
        'Restore-SwarmManager'
        'Repair-SwarmQuorum'
        'Get-SwarmUnlockKey'
        'Update-SwarmUnlockKey'
        'Get-SwarmClassicManager'
        'Test-SwarmClassicFailover'
        'Backup-DeisStore'
        'Restore-DeisStore'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('etcd', 'DisasterRecovery', 'Backup', 'Restore', 'Quorum', 'Kubernetes', 'DockerSwarm', 'ZooKeeper', 'DCOS', 'Linux', 'Windows', 'PSEdition_Core', 'PSEdition_Desktop', 'AzureAutomation', 'S3', 'AzureBlob')
            LicenseUri   = 'https://github.com/clusterdr/ClusterDR/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/clusterdr/ClusterDR'
            ReleaseNotes = '0.3.0: backups are .tar.zst by default (zstd level 1; .tar.gz still read, and written with -ArchiveFormat Gzip); -ArchiveFormat and -CompressionLevel on every Backup- cmdlet. See CHANGELOG.md: https://github.com/clusterdr/ClusterDR/blob/main/CHANGELOG.md'
        }
    }
}
