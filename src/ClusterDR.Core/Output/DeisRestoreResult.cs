namespace ClusterDR
{
    /// <summary>What Restore-DeisStore did (ClusterDR.DeisRestoreResult, a ClusterDR.RestoreResult).</summary>
    public sealed class DeisRestoreResult : RestoreResult
    {
        /// <summary>Items and bytes restored per part (buckets, objects, volume, database, controller).</summary>
        public Deis.DeisRestorePart[] Parts { get; set; } = new Deis.DeisRestorePart[0];
    }
}
