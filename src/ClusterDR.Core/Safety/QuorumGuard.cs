using System.Collections.Generic;
using System.Linq;

namespace ClusterDR.Safety
{
    /// <summary>
    /// The quorum guard of DESIGN.md. Every decision is made here so that each platform asks the same
    /// questions the same way. Each check throws a terminating <see cref="ClusterDrException"/> unless
    /// <c>force</c> is set, in which case it warns and lets the caller go on. It runs under -WhatIf too.
    /// </summary>
    public static class QuorumGuard
    {
        /// <summary>
        /// An operation takes the named members down: healthy members outside that set must still
        /// form a quorum of the whole cluster.
        /// </summary>
        public static void EnsureCanTakeDown(QuorumStatus status, IEnumerable<string> takenDown, bool force, IOperationContext ctx)
        {
            var down = new HashSet<string>(takenDown ?? Enumerable.Empty<string>());
            int remaining = status.Members.Count(m => m.Healthy && !down.Contains(m.Name) && !down.Contains(m.Id));
            int quorum = status.QuorumSize;
            if (remaining >= quorum)
            {
                ctx.WriteVerbose($"Quorum guard: taking down {string.Join(", ", down)} leaves {remaining} healthy of {status.MemberCount}; quorum is {quorum}.");
                return;
            }
            Refuse(ErrorIds.QuorumAtRisk,
                $"Taking down {string.Join(", ", down)} would leave {remaining} healthy member(s) of {status.MemberCount} in {status.Platform} cluster {status.Cluster}; quorum needs {quorum}.",
                status, force, ctx,
                "Bring the unhealthy members back first, so the others keep a quorum, or pass -Force to go on anyway (the cluster loses quorum while this runs).");
        }

        /// <summary>
        /// A backup that reads state from a member needs that member inside a quorate cluster: a member
        /// cut off from the majority may serve stale data.
        /// </summary>
        public static void EnsureReadableWithQuorum(QuorumStatus status, string memberNameOrId, bool force, IOperationContext ctx)
        {
            var member = status.Members.FirstOrDefault(m => m.Name == memberNameOrId || m.Id == memberNameOrId);
            string problem = null;
            if (!status.HasQuorum)
                problem = $"the {status.Platform} cluster {status.Cluster} has {status.HealthyCount} healthy member(s) of {status.MemberCount}; quorum needs {status.QuorumSize}, so its data may be stale";
            else if (member == null)
                problem = $"member {memberNameOrId} is not part of the {status.Platform} cluster {status.Cluster}";
            else if (!member.Healthy)
                problem = $"member {member.Name} is not healthy ({member.Problem}); its data may be stale";
            if (problem == null)
            {
                ctx.WriteVerbose($"Quorum guard: {status}.");
                return;
            }
            Refuse(ErrorIds.QuorumAtRisk, "Refusing to back up: " + problem + ".", status, force, ctx,
                "Wait until the cluster has quorum, or back up a healthy member; pass -Force to back up anyway (the backup may be stale).");
        }

        /// <summary>
        /// A disaster-recovery restore replaces the data of every member: refuse a cluster that still
        /// works, and one that cannot be proven to have lost quorum (members in doubt count as healthy).
        /// </summary>
        /// <param name="quorumProof">Set when a member proved the cluster quorate in another way (a linearizable read).</param>
        public static void EnsureClusterIsDown(QuorumStatus status, bool force, IOperationContext ctx, string quorumProof = null)
        {
            if (status.HasQuorum || quorumProof != null)
            {
                string why = status.HasQuorum
                    ? $"{status.HealthyCount} of {status.MemberCount} members healthy, quorum {status.QuorumSize}"
                    : $"{quorumProof}, although only {status.HealthyCount} of {status.MemberCount} members answer from here";
                Refuse(ErrorIds.ClusterHealthy,
                    $"The {status.Platform} cluster {status.Cluster} is healthy ({why}); a restore would replace its current data.",
                    status, force, ctx,
                    "A healthy cluster needs no restore; to roll it back to this backup on purpose, pass -Force (its current data is moved aside, not deleted).");
                return;
            }
            // A member that answered told us its state; only the silent ones can hide a working majority.
            var doubtful = status.Members.Where(m => !m.Healthy && !m.ProvenDown && m.Endpoint == null).ToList();
            if (status.HealthyCount + doubtful.Count >= status.QuorumSize && doubtful.Count > 0)
            {
                Refuse(ErrorIds.ClusterStateUnknown,
                    $"Cannot prove that the {status.Platform} cluster {status.Cluster} lost quorum: {status.HealthyCount} of {status.MemberCount} members are healthy and " +
                    $"{string.Join(", ", doubtful.Select(m => $"{m.Name} ({m.Problem})"))} could still be serving where this machine cannot see them; quorum is {status.QuorumSize}.",
                    status, force, ctx,
                    "Find out whether the members that did not answer are down (network, firewall, a stopped service), or pass -Force when you know the cluster lost quorum.");
                return;
            }
            ctx.WriteVerbose($"Restore guard: {status}: the cluster has lost quorum, a restore is warranted.");
        }

        /// <summary>
        /// An ensemble that must be whole for the operation (DC/OS backup and restore need every ZooKeeper
        /// server serving and one leader): <paramref name="problem"/> is what is wrong, null when nothing is.
        /// </summary>
        public static void EnsureEnsembleWhole(QuorumStatus status, string problem, string operation, bool force, IOperationContext ctx)
        {
            if (problem == null)
            {
                ctx.WriteVerbose($"Quorum guard: {status}.");
                return;
            }
            Refuse(ErrorIds.QuorumAtRisk, $"Refusing to {operation}: the {status.Platform} ensemble {status.Cluster} is not whole ({problem}).", status, force, ctx,
                $"Wait until every server serves and one leads, or pass -Force to {operation} anyway.");
        }

        /// <param name="recommendedAction">What the operator can do, for ErrorDetails.RecommendedAction.</param>
        private static void Refuse(string errorId, string message, QuorumStatus status, bool force, IOperationContext ctx, string recommendedAction)
        {
            if (force)
            {
                ctx.WriteWarning(message + " Going on because -Force was given.");
                return;
            }
            throw new ClusterDrException(errorId, ErrorKind.InvalidOperation, message + " Use -Force to override.", status, recommendedAction: recommendedAction);
        }
    }
}
