using System;
using System.Linq;

namespace ClusterDR
{
    /// <summary>A swarm as one node sees it (PowerShell type name ClusterDR.SwarmClusterStatus).</summary>
    public sealed class SwarmClusterStatus
    {
        /// <summary>The node that was asked.</summary>
        public string Node { get; set; }
        public string NodeId { get; set; }
        public string NodeAddress { get; set; }
        /// <summary>The cluster id (empty when the node is not in a swarm or is locked).</summary>
        public string Cluster { get; set; }
        /// <summary>docker info's LocalNodeState: inactive, pending, active, error or locked.</summary>
        public string LocalNodeState { get; set; }
        public bool Locked => string.Equals(LocalNodeState, "locked", StringComparison.OrdinalIgnoreCase);
        /// <summary>True when the node is a manager (docker info's ControlAvailable).</summary>
        public bool IsManager { get; set; }
        /// <summary>Whether autolock is on; null when the node cannot tell (not a manager).</summary>
        public bool? Autolock { get; set; }
        public ClusterMember[] Managers { get; set; } = new ClusterMember[0];
        public ClusterMember[] Workers { get; set; } = new ClusterMember[0];
        public int ManagerCount => Managers.Length;
        public int ReachableManagers => Managers.Count(m => m.Healthy);
        public int WorkerCount => Workers.Length;
        public int QuorumSize => Quorum.QuorumSize;
        public int FaultTolerance => Quorum.FaultTolerance;
        public bool HasQuorum => Quorum.HasQuorum;
        public string Leader => Managers.FirstOrDefault(m => m.IsLeader)?.Name;
        public int Services { get; set; }
        public int Secrets { get; set; }
        public int Configs { get; set; }
        /// <summary>Swarm-scoped networks (overlay networks and ingress).</summary>
        public int Networks { get; set; }
        public string DockerVersion { get; set; }
        /// <summary>What kept the node from listing the swarm (no quorum, locked, not a manager); null when it could.</summary>
        public string Problem { get; set; }
        /// <summary>The managers as a quorum picture, for the quorum guard.</summary>
        public QuorumStatus Quorum { get; set; } = new QuorumStatus("swarm", "", new ClusterMember[0]);
        public DateTime CheckedUtc { get; set; } = DateTime.UtcNow;

        public override string ToString() =>
            $"swarm {(string.IsNullOrEmpty(Cluster) ? "(none)" : Cluster)} from {Node}: {LocalNodeState}, {ReachableManagers}/{ManagerCount} managers reachable, quorum {QuorumSize}, leader {Leader ?? "none"}";
    }
}
