namespace ClusterDR
{
    /// <summary>One backup of the DC/OS backup service (PowerShell type name ClusterDR.DcosBackupInfo).</summary>
    public sealed class DcosBackupInfo : DcosStatusInfo
    {
        /// <summary>The label it was created with, read from its id (&lt;label&gt;-&lt;uuid&gt;); null when the id has another shape.</summary>
        public string Label { get; set; }
        public DcosRestoreInfo[] Restores { get; set; } = new DcosRestoreInfo[0];
    }
}
