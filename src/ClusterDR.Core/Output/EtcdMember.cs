namespace ClusterDR
{
    /// <summary>One etcd member as Get-EtcdClusterStatus lists it (PowerShell type names ClusterDR.EtcdMember, ClusterDR.ClusterMember).</summary>
    public sealed class EtcdMember : ClusterMember
    {
        /// <summary>The member's backend database size in bytes (etcdctl endpoint status's DB SIZE).</summary>
        public long DbSize { get; set; }
    }
}
