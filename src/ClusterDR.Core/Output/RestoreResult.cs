using System;

namespace ClusterDR
{
    /// <summary>
    /// What a restore or repair did (PowerShell type name ClusterDR.RestoreResult): what every platform reports.
    /// A platform with more to say derives from it (SwarmRestoreResult, DeisRestoreResult), so its objects still
    /// carry ClusterDR.RestoreResult in PSTypeNames and take this type's view.
    /// </summary>
    public class RestoreResult
    {
        public string Platform { get; set; }
        public string Cluster { get; set; }
        public string BackupPath { get; set; }
        public string[] Members { get; set; } = new string[0];
        /// <summary>Old data that was moved aside (never deleted): member → path on that member's node.</summary>
        public MovedAsideMap MovedAside { get; } = new MovedAsideMap();
        public long Revision { get; set; }
        public DateTime StartedUtc { get; set; }
        public TimeSpan Duration { get; set; }
        public QuorumStatus Status { get; set; }
        public string[] Steps { get; set; } = new string[0];

        public override string ToString() => $"{Platform} {Cluster} restored from {BackupPath} in {Duration.TotalSeconds:0.0}s";
    }
}
