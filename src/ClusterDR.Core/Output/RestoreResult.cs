using System;

namespace ClusterDR
{
    /// <summary>
    /// What a restore did (PowerShell type name ClusterDR.RestoreResult). One type for every platform, not one derived
    /// type each: scripts (and the Pester suite) check that PSTypeNames[0] is ClusterDR.RestoreResult. So the Swarm and
    /// Deis parts stay here, each filled by its platform's restore only.
    /// </summary>
    public sealed class RestoreResult
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
        /// <summary>Swarm: the restored swarm as its manager sees it.</summary>
        public SwarmClusterStatus Swarm { get; set; }
        /// <summary>Swarm: the NEW unlock key when the restore turned autolock back on; null otherwise.</summary>
        public System.Security.SecureString UnlockKey { get; set; }
        /// <summary>Deis store: items and bytes restored per part (buckets, objects, volume, database, controller).</summary>
        public Deis.DeisRestorePart[] Parts { get; set; } = new Deis.DeisRestorePart[0];

        public override string ToString() => $"{Platform} {Cluster} restored from {BackupPath} in {Duration.TotalSeconds:0.0}s";
    }
}
