using System.Collections.Generic;
using System.Linq;

namespace ClusterDR.Safety
{
    /// <summary>
    /// The quorum guard of DESIGN.md, and every refusal that -Force may override. Every decision is
    /// made here so that each platform asks the same questions the same way: the quorum checks below,
    /// and <see cref="Refuse"/> for a platform's own reason (a single manager, a store that holds data).
    /// Each throws a terminating <see cref="ClusterDrException"/> unless <c>force</c> is set, in which
    /// case it warns with one wording and lets the caller go on; what -Force overrides changes here and
    /// nowhere else. A few checks are never overridden (<see cref="EnsureCanReplaceMember"/>). It runs
    /// under -WhatIf too.
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
            Refuse(ErrorIds.QuorumAtRisk, ErrorKind.InvalidOperation,
                $"Taking down {string.Join(", ", down)} would leave {remaining} healthy member(s) of {status.MemberCount} in {status.Platform} cluster {status.Cluster}; quorum needs {quorum}.",
                force, ctx, status,
                recommendedAction: "Bring the unhealthy members back first, so the others keep a quorum, or pass -Force to go on anyway (the cluster loses quorum while this runs).");
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
            Refuse(ErrorIds.QuorumAtRisk, ErrorKind.InvalidOperation, "Refusing to back up: " + problem + ".", force, ctx, status,
                recommendedAction: "Wait until the cluster has quorum, or back up a healthy member; pass -Force to back up anyway (the backup may be stale).");
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
                Refuse(ErrorIds.ClusterHealthy, ErrorKind.InvalidOperation,
                    $"The {status.Platform} cluster {status.Cluster} is healthy ({why}); a restore would replace its current data.",
                    force, ctx, status,
                recommendedAction: "A healthy cluster needs no restore; to roll it back to this backup on purpose, pass -Force (its current data is moved aside, not deleted).");
                return;
            }
            // A member that answered told us its state; only the silent ones can hide a working majority.
            var doubtful = status.Members.Where(m => !m.Healthy && !m.ProvenDown && m.Endpoint == null).ToList();
            if (status.HealthyCount + doubtful.Count >= status.QuorumSize && doubtful.Count > 0)
            {
                Refuse(ErrorIds.ClusterStateUnknown, ErrorKind.InvalidOperation,
                    $"Cannot prove that the {status.Platform} cluster {status.Cluster} lost quorum: {status.HealthyCount} of {status.MemberCount} members are healthy and " +
                    $"{string.Join(", ", doubtful.Select(m => $"{m.Name} ({m.Problem})"))} could still be serving where this machine cannot see them; quorum is {status.QuorumSize}.",
                    force, ctx, status,
                recommendedAction: "Find out whether the members that did not answer are down (network, firewall, a stopped service), or pass -Force when you know the cluster lost quorum.");
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
            Refuse(ErrorIds.QuorumAtRisk, ErrorKind.InvalidOperation, $"Refusing to {operation}: the {status.Platform} ensemble {status.Cluster} is not whole ({problem}).", force, ctx, status,
                recommendedAction: $"Wait until every server serves and one leads, or pass -Force to {operation} anyway.");
        }

        /// <summary>
        /// A repair replaces one lost member: never a healthy one, and never one whose removal would leave
        /// the healthy rest short of a quorum of what is left. -Force does not override these: a cluster in
        /// that state needs a restore instead (<paramref name="instead"/> says which).
        /// </summary>
        /// <param name="target">The member as the cluster lists it; null when the cluster no longer lists it.</param>
        public static void EnsureCanReplaceMember(QuorumStatus status, ClusterMember target, string memberName, string operation, string instead, IOperationContext ctx)
        {
            if (target != null && target.Healthy)
                throw new ClusterDrException(ErrorIds.MemberHealthy, ErrorKind.InvalidOperation,
                    $"{status.Platform} member {target.Name} is healthy (raft index {target.RaftIndex}); {operation} only replaces a lost member.", target,
                    recommendedAction: "Nothing to repair: check which member you meant with the cluster's status cmdlet (there is no override).");
            // Removing the member shrinks the cluster: the healthy rest must be a quorum of what is left.
            int after = status.MemberCount - (target != null ? 1 : 0);
            int healthyRest = status.Members.Count(x => x.Healthy && x != target);
            if (!status.HasQuorum || healthyRest < Quorum.Size(after))
                throw new ClusterDrException(ErrorIds.QuorumAtRisk, ErrorKind.InvalidOperation,
                    $"Refusing to repair {memberName}: the cluster has {status.HealthyCount} healthy member(s) of {status.MemberCount} (quorum {status.QuorumSize}); " +
                    $"without {memberName} it would have {healthyRest} healthy of {after}, quorum {Quorum.Size(after)}. {instead}", status,
                    recommendedAction: "Repair the other lost members first if they can come back, or restore the whole cluster from a backup (there is no override).");
            ctx.WriteVerbose($"Repair guard: {status}; {memberName} is {(target == null ? "not a member any more" : "unhealthy: " + target.Problem)}.");
        }

        /// <summary>
        /// The one place a refusal that -Force overrides is raised. Without <paramref name="force"/> it throws
        /// "<paramref name="reason"/> [<paramref name="advice"/>] Use -Force to override [(<paramref name="withForce"/>)]."
        /// with the given ErrorId, kind and target; with it, it warns "<paramref name="reason"/> Going on because
        /// -Force was given[: <paramref name="withForce"/>]." and returns.
        /// </summary>
        /// <param name="reason">The platform's own sentence(s): what is wrong and what the operation would do to it.</param>
        /// <param name="withForce">What the operation does differently under -Force (e.g. where it keeps what it overwrites).</param>
        /// <param name="advice">What to do instead of -Force; the error only.</param>
        /// <param name="nothingChanged">The error adds "Nothing was changed." (a restore refused before its plan).</param>
        /// <param name="recommendedAction">What the operator can do, for the ErrorRecord's ErrorDetails.RecommendedAction.</param>
        public static void Refuse(string errorId, ErrorKind kind, string reason, bool force, IOperationContext ctx, object target,
            string withForce = null, string advice = null, bool nothingChanged = false, string recommendedAction = null)
        {
            if (force)
            {
                ctx.WriteWarning(reason + " Going on because -Force was given" + (withForce == null ? "." : ": " + withForce + "."));
                return;
            }
            throw new ClusterDrException(errorId, kind,
                reason + (advice == null ? "" : " " + advice) + " Use -Force to override" + (withForce == null ? "." : " (" + withForce + ").") +
                (nothingChanged ? " Nothing was changed." : ""), target, recommendedAction: recommendedAction);
        }

        /// <summary>
        /// A check that could not be made (<paramref name="failure"/>) refuses as that failure unless
        /// <paramref name="force"/>, which warns "<paramref name="reason"/> Going on because -Force was given." and returns.
        /// </summary>
        public static void RefuseUnchecked(ClusterDrException failure, string reason, bool force, IOperationContext ctx)
        {
            if (!force) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            ctx.WriteWarning(reason + " Going on because -Force was given.");
        }
    }
}
