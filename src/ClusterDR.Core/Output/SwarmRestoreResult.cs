namespace ClusterDR
{
    /// <summary>What Restore-SwarmManager and Repair-SwarmQuorum did (ClusterDR.SwarmRestoreResult, a ClusterDR.RestoreResult).</summary>
    public sealed class SwarmRestoreResult : RestoreResult
    {
        /// <summary>The restored swarm as its manager sees it.</summary>
        public SwarmClusterStatus Swarm { get; set; }

        /// <summary>The NEW unlock key when the restore turned autolock back on; null otherwise.</summary>
        public System.Security.SecureString UnlockKey { get; set; }
    }
}
