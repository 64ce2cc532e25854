namespace ClusterDR
{
    /// <summary>One member of a cluster as seen by a status query (PowerShell type name ClusterDR.ClusterMember).</summary>
    public sealed class ClusterMember
    {
        public string Name { get; set; }
        /// <summary>Member id as the platform's own CLI prints it (etcd: lower-case hex).</summary>
        public string Id { get; set; }
        public string[] PeerUrls { get; set; } = new string[0];
        public string[] ClientUrls { get; set; } = new string[0];
        public bool Healthy { get; set; }
        public bool IsLeader { get; set; }
        public long RaftIndex { get; set; }
        public long RaftTerm { get; set; }
        public long DbSize { get; set; }
        public string Version { get; set; }
        /// <summary>The endpoint that answered for this member, if any.</summary>
        public string Endpoint { get; set; }
        /// <summary>Why the member is not healthy (unreachable, no leader, alarms); null when healthy.</summary>
        public string Problem { get; set; }
        /// <summary>
        /// True only when the member is known not to run: nothing listens on its client URL (connection
        /// refused) or its node shows no process holding its data dir. An unhealthy member that is not
        /// proven down (timeouts, TLS failures) may still be serving where this machine cannot see it.
        /// </summary>
        public bool ProvenDown { get; set; }

        /// <summary>ZooKeeper: leader, follower, observer or standalone (null when the server did not answer).</summary>
        public string Mode { get; set; }
        /// <summary>ZooKeeper: the last zxid as ZooKeeper prints it (0x…); RaftIndex holds the same number.</summary>
        public string Zxid { get; set; }
        /// <summary>ZooKeeper: znodes in the server's data tree.</summary>
        public long ZnodeCount { get; set; }
        /// <summary>ZooKeeper: requests queued and not yet answered.</summary>
        public long OutstandingRequests { get; set; }
        /// <summary>ZooKeeper: average and maximum request latency in milliseconds.</summary>
        public double AvgLatencyMs { get; set; }
        public long MaxLatencyMs { get; set; }

        public override string ToString() => Name ?? Id;
    }
}
