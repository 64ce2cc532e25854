namespace ClusterDR
{
    /// <summary>One restore of a DC/OS backup (PowerShell type name ClusterDR.DcosRestoreInfo).</summary>
    public sealed class DcosRestoreInfo : DcosStatusInfo
    {
        public string BackupId { get; set; }
    }
}
