<#
.SYNOPSIS
    Azure Automation runbook (Hybrid Runbook Worker): backs up several etcd clusters into an Azure Blob
    container, keeps 14 days, and on Sundays copies the week's backups to a second region.
.NOTES
    Automation assets: variable 'EtcdEndpoints' (one client URL per cluster, comma-separated), encrypted
    variable 'DrSasToken' (a SAS for the primary container: read, write, delete, list). The second region is
    reached with the worker's managed identity (Storage Blob Data Contributor on that container).
    Import ClusterDR on the worker (extract the module zip into a PSModulePath folder) and Az.Accounts.
#>
$ErrorActionPreference = 'Stop'
Import-Module ClusterDR

$sas = ConvertTo-SecureString (Get-AutomationVariable -Name 'DrSasToken') -AsPlainText -Force
$primary = New-ClusterBackupStore -Container etcd-backups -StorageAccount contosodrweu -SasToken $sas

# 1. One backup per cluster, straight into the container (nothing is staged on the worker's disk).
foreach ($endpoint in (Get-AutomationVariable -Name 'EtcdEndpoints') -split ',') {
    try {
        $b = Backup-EtcdSnapshot -Endpoint $endpoint.Trim() -Store $primary -Path nightly -Label nightly
        Write-Output "Backed up $endpoint to $($b.Path) ($([math]::Round($b.SizeBytes / 1MB, 1)) MB)"
    }
    catch {
        # One cluster's failure (QuorumAtRisk, EndpointUnreachable, ...) must not stop the others.
        Write-Error "$endpoint : $($_.FullyQualifiedErrorId -split ',' | Select-Object -First 1): $($_.Exception.Message)" -ErrorAction Continue
    }
}

# 2. Keep 14 days: listing reads only manifests; Remove-ClusterBackup deletes only ClusterDR backups.
$cutoff = (Get-Date).ToUniversalTime().AddDays(-14)
Get-ClusterBackup -Store $primary -Path nightly | Where-Object CreatedUtc -lt $cutoff |
    Remove-ClusterBackup -Confirm:$false

# 3. Sundays: copy the last week's backups to the second region, verified as they stream.
if ((Get-Date).ToUniversalTime().DayOfWeek -eq 'Sunday') {
    Connect-AzAccount -Identity | Out-Null
    $token = (Get-AzAccessToken -ResourceUrl https://storage.azure.com -AsSecureString).Token
    $secondary = New-ClusterBackupStore -Container etcd-backups -StorageAccount contosodrneu -AccessToken $token
    $week = (Get-Date).ToUniversalTime().AddDays(-7)
    Get-ClusterBackup -Store $primary -Path nightly | Where-Object CreatedUtc -gt $week |
        Copy-ClusterBackup -Destination weekly -DestinationStore $secondary -ErrorAction Continue |
        ForEach-Object { Write-Output "Copied $($_.Name) to $($_.Path)" }
}
