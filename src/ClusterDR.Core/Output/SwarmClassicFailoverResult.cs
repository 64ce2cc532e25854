using System;

namespace ClusterDR
{
    /// <summary>What Test-SwarmClassicFailover saw (PowerShell type name ClusterDR.SwarmClassicFailoverResult).</summary>
    public sealed class SwarmClassicFailoverResult
    {
        public string OldPrimary { get; set; }
        public string NewPrimary { get; set; }
        /// <summary>From the stop of the old primary until a replica reported itself primary.</summary>
        public TimeSpan TakeoverTime { get; set; }
        /// <summary>The old primary's role after its restart (Replica when it rejoined behind the new primary).</summary>
        public string OldPrimaryRoleAfter { get; set; }
        public SwarmClassicManager[] Managers { get; set; } = new SwarmClassicManager[0];
        public override string ToString() => $"{NewPrimary} took over from {OldPrimary} in {TakeoverTime.TotalSeconds:0.0}s";
    }
}
