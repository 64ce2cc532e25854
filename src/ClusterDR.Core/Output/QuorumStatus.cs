using System;
using System.Linq;

namespace ClusterDR
{
    /// <summary>A cluster's quorum picture at one moment (PowerShell type name ClusterDR.QuorumStatus).</summary>
    public sealed class QuorumStatus
    {
        public QuorumStatus(string platform, string cluster, ClusterMember[] members)
        {
            Platform = platform;
            Cluster = cluster;
            // Copied into a ClusterMember[] whatever array the reader built (EtcdMember[], ZkMember[]).
            Members = members?.ToArray() ?? new ClusterMember[0];
            CheckedUtc = DateTime.UtcNow;
        }

        public string Platform { get; }
        public string Cluster { get; }
        public ClusterMember[] Members { get; }
        public DateTime CheckedUtc { get; }
        public long Revision { get; set; }

        public int MemberCount => Members.Length;
        public int HealthyCount => Members.Count(m => m.Healthy);
        public int QuorumSize => Safety.Quorum.Size(MemberCount);
        public int FaultTolerance => Safety.Quorum.FaultTolerance(MemberCount, HealthyCount);
        public bool HasQuorum => Safety.Quorum.HasQuorum(MemberCount, HealthyCount);
        public string Leader => Members.FirstOrDefault(m => m.IsLeader)?.Name;

        public override string ToString() =>
            $"{Platform} {Cluster}: {HealthyCount}/{MemberCount} healthy, quorum {QuorumSize}, leader {Leader ?? "none"}";
    }
}
