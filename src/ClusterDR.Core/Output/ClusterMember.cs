namespace ClusterDR
{
    /// <summary>
    /// One member of a cluster as seen by a status query (PowerShell type name ClusterDR.ClusterMember): what every
    /// platform reports. etcd members are <see cref="EtcdMember"/>, ZooKeeper servers <see cref="ZkMember"/>; Swarm nodes
    /// and Ceph monitors are this type itself. The ClusterDR.ClusterMember view shows all of them.
    /// </summary>
    public class ClusterMember
    {
        public string Name { get; set; }
        /// <summary>Member id as the platform's own CLI prints it (etcd: lower-case hex).</summary>
        public string Id { get; set; }
        public string[] PeerUrls { get; set; } = new string[0];
        public string[] ClientUrls { get; set; } = new string[0];
        public bool Healthy { get; set; }
        public bool IsLeader { get; set; }
        /// <summary>The member's place in the replicated log (etcd: raft index; ZooKeeper: the zxid); 0 where the platform reports none.</summary>
        public long RaftIndex { get; set; }
        /// <summary>The leader term of that place (etcd: raft term; ZooKeeper: the zxid's epoch); 0 where the platform reports none.</summary>
        public long RaftTerm { get; set; }
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

        public override string ToString() => Name ?? Id;
    }
}
