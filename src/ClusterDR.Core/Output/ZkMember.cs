namespace ClusterDR
{
    /// <summary>One ZooKeeper server as Get-ZkEnsembleStatus lists it (PowerShell type names ClusterDR.ZkMember, ClusterDR.ClusterMember).</summary>
    public sealed class ZkMember : ClusterMember
    {
        /// <summary>leader, follower, observer or standalone (null when the server did not answer).</summary>
        public string Mode { get; set; }
        /// <summary>The last zxid as ZooKeeper prints it (0x…); RaftIndex holds the same number.</summary>
        public string Zxid { get; set; }
        /// <summary>Znodes in the server's data tree.</summary>
        public long ZnodeCount { get; set; }
        /// <summary>Requests queued and not yet answered.</summary>
        public long OutstandingRequests { get; set; }
        /// <summary>Average and maximum request latency in milliseconds.</summary>
        public double AvgLatencyMs { get; set; }
        public long MaxLatencyMs { get; set; }
    }
}
