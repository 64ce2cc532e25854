using System;

namespace ClusterDR
{
    /// <summary>One classic Swarm manager (swarm manage --replication) as its /info shows it (PowerShell type name ClusterDR.SwarmClassicManager).</summary>
    public sealed class SwarmClassicManager
    {
        public string Endpoint { get; set; }
        /// <summary>Primary or Replica; null when the manager did not answer.</summary>
        public string Role { get; set; }
        /// <summary>The primary a replica forwards to (a primary names itself).</summary>
        public string Primary { get; set; }
        public int? Nodes { get; set; }
        public string Strategy { get; set; }
        public string Filters { get; set; }
        public string ServerVersion { get; set; }
        public bool Reachable { get; set; }
        public string Problem { get; set; }
        public bool IsPrimary => string.Equals(Role, "Primary", StringComparison.OrdinalIgnoreCase);
        public override string ToString() => $"{Endpoint} {Role ?? "unreachable"}";
    }
}
