using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Transport;

namespace ClusterDR.Safety
{
    /// <summary>
    /// THE RESTORE RULE. Every disaster-recovery restore (etcd, ZooKeeper, a Swarm manager) runs
    /// <see cref="Run"/>, in this order, and nothing else decides the order:
    ///   1. validate the member specs, then verify the archive (hashes and the platform's own check):
    ///      nothing is touched on any node before the backup proves intact;
    ///   2. read the cluster's status, ask the node of every silent member whether anything still holds
    ///      its data dir (prove down), and let <see cref="QuorumGuard"/> refuse a cluster that still
    ///      works (unless -Force): nothing is touched before the guard either;
    ///   3. then, as one <see cref="Plan"/> (each step behind ShouldProcess, so -WhatIf lists every step
    ///      and runs none): stop ALL members, move ALL old data dirs aside (never delete), write the
    ///      backup on every member (the members at once), start them all, wait until the cluster is
    ///      healthy, check it against the backup. A step that fails undoes the steps before it in
    ///      reverse: members stopped are started again on their original data, dirs moved aside are put back.
    /// A platform is an adapter (a subclass): how it reads status and proves a member down, stops,
    /// starts, writes, waits and checks; which dirs move aside; what its steps are called.
    /// </summary>
    /// <typeparam name="TMember">The platform's member spec (one per node to restore).</typeparam>
    public abstract class MemberRestore<TMember>
    {
        private readonly Dictionary<TMember, IRemoteShell> _shells = new Dictionary<TMember, IRemoteShell>();

        protected MemberRestore(IOperationContext ctx) { Ctx = ctx; }

        protected IOperationContext Ctx { get; }
        protected CancellationToken Ct => Ctx.Cancellation;
        /// <summary>The verified backup (from stage 1 on).</summary>
        protected ClusterBackup Backup { get; private set; }
        /// <summary>The UTC stamp of this restore: old dirs move to &lt;dir&gt;.clusterdr-&lt;stamp&gt;.</summary>
        protected string Stamp { get; private set; }
        /// <summary>What the restore hands back; the adapter adds its platform's facts (status, revision).</summary>
        protected RestoreResult Result { get; private set; }
        /// <summary>The shell on a member's node (from stage 2 on).</summary>
        protected IRemoteShell Shell(TMember m) => _shells[m];

        // ---- What the adapter says about itself ----
        /// <summary>The cmdlet's name, for the plan's messages: "Restore-EtcdSnapshot".</summary>
        protected abstract string Operation { get; }
        protected abstract string Platform { get; }
        /// <summary>The manifest kind a backup must have.</summary>
        protected abstract string BackupKind { get; }
        protected abstract Stores.BackupLocation BackupPath { get; }
        /// <summary>-Force: the guard warns instead of refusing.</summary>
        protected abstract bool Force { get; }
        protected abstract IList<TMember> Members { get; }
        /// <summary>The member's name as its status lists it and the result shows it.</summary>
        protected abstract string Name(TMember m);
        /// <summary>The member as the plan's target: "etcd member e1 (node)".</summary>
        protected abstract string Label(TMember m);
        /// <summary>The dirs a member keeps its state in: proven unused, then moved aside.</summary>
        protected abstract IEnumerable<string> DataDirs(TMember m);
        /// <summary>How states name the member's state and its dir: "data" and "data dir", "swarm state" and "swarm dir".</summary>
        protected virtual string DataNoun => "data";
        protected virtual string DirNoun => "data dir";
        /// <summary>The target of the wait and the check: "etcd cluster".</summary>
        protected abstract string ClusterTarget { get; }

        // ---- Stage 1: validate, verify ----
        /// <summary>Rejects member specs that cannot be right, before anything else.</summary>
        protected virtual void ValidateMembers() { }
        /// <summary>What the verified backup needs from the request (an unlock key for an autolocked swarm).</summary>
        protected virtual void CheckBackup() { }

        // ---- Stage 2: status, prove down, guard ----
        /// <summary>The cluster as it is now; null when nothing answers at all (nothing to protect).</summary>
        protected abstract QuorumStatus ReadStatus();
        /// <summary>What the live cluster must agree with before any node is asked (every server listed).</summary>
        protected virtual void CheckStatus(QuorumStatus before) { }
        protected virtual IRemoteShell OpenShell(TMember m) => null;
        /// <summary>False when the caller owns the shells (they are not disposed here).</summary>
        protected virtual bool OwnsShells => true;
        /// <summary>Whether to ask the member's node if anything still holds its data dir: a silent member.</summary>
        protected virtual bool NeedsProofOfDown(QuorumStatus before, ClusterMember m) => !m.Healthy && !m.ProvenDown && m.Endpoint == null;
        protected virtual void ProveDown(TMember m, ClusterMember status) => NodeDataDir.ProveDown(status, Shell(m), DataDirs(m), Ct);
        /// <summary>Set when the cluster proved quorate some other way (a linearizable read through a member).</summary>
        protected virtual string QuorumProof(QuorumStatus before) => null;
        protected virtual void Guard(QuorumStatus before, string quorumProof) => QuorumGuard.EnsureClusterIsDown(before, Force, Ctx, quorumProof);
        /// <summary>Whether the member may be running: its stop is undone by starting it again.</summary>
        protected virtual bool WasRunning(TMember m, QuorumStatus before) =>
            before != null && before.Members.Any(x => x.Name == Name(m) && (x.Endpoint != null || !x.ProvenDown));

        // ---- Stage 3: the plan ----
        /// <summary>Checks that prepare the writes (staging files) before anything stops.</summary>
        protected virtual void PlanPrepare(Plan plan) { }
        protected abstract string StopAction(TMember m);
        /// <summary>Stops the member and waits until it is gone: a data dir never moves under a live server.</summary>
        protected abstract void Stop(TMember m);
        protected virtual string MoveAsideAction(TMember m, string dir, string aside) => $"Move {dir} aside to {aside}";
        protected virtual bool Exists(TMember m, string dir) => NodeDataDir.Exists(Shell(m), dir, Ct);
        protected virtual bool MoveAside(TMember m, string dir) => NodeDataDir.MoveAside(Shell(m), dir, Stamp, Ct, DirNoun);
        protected virtual void PutBack(TMember m, string dir) => NodeDataDir.PutBack(Shell(m), dir, Stamp, Ct, DirNoun);
        protected virtual string Node(TMember m) => Shell(m).Node;
        /// <summary>
        /// Adds the step(s) that write the backup's state on the stopped member, its old dirs aside. They run while the
        /// other members' run, on a thread of their own: they may use the member's shell and Ct, never Ctx.
        /// </summary>
        protected abstract void PlanWrite(Plan plan, TMember m);
        protected abstract string StartAction(TMember m);
        protected abstract void Start(TMember m);
        protected virtual string StartedState => "running restored " + DataNoun;
        /// <summary>Steps after every member started, before the wait (unlock, force a new cluster).</summary>
        protected virtual void PlanAfterStart(Plan plan) { }
        protected abstract string WaitAction { get; }
        /// <summary>Waits until the restored cluster is healthy; sets <see cref="RestoreResult.Status"/>.</summary>
        protected abstract void Wait();
        protected abstract string CheckAction { get; }
        /// <summary>Compares the restored cluster with the backup's manifest (revision, znodes, object counts).</summary>
        protected abstract void Check();
        /// <summary>The platform's result type (a RestoreResult with what else it reports).</summary>
        protected virtual RestoreResult NewResult() => new RestoreResult();
        /// <summary>After the plan ran fully.</summary>
        protected virtual void Done() { }
        /// <summary>Clears up local leftovers (staging files), whatever happened.</summary>
        protected virtual void CleanUp() { }

        /// <summary>The restore: null when -WhatIf or a "no" kept the plan from running fully.</summary>
        public RestoreResult Run()
        {
            using var debug = Transport.DebugLog.To(Ctx);
            var started = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            try
            {
                // 1. Nothing is touched before the member specs make sense and the archive proves intact.
                ValidateMembers();
                Backup = BackupVerifier.Verify(BackupPath, Ctx, BackupKind);
                Ctx.WriteVerbose($"Verified {Backup.Path}: {Backup.Verification}.");
                CheckBackup();

                // 2. Nothing is touched before the guard: a cluster that still works holds newer, good data.
                var before = ReadStatus();
                CheckStatus(before);
                foreach (var m in Members) _shells[m] = OpenShell(m);
                string quorumProof = before == null ? null : QuorumProof(before);
                foreach (var cm in before?.Members.Where(x => NeedsProofOfDown(before, x)).ToList() ?? new List<ClusterMember>())
                {
                    var spec = Members.FirstOrDefault(x => Name(x) == cm.Name);
                    if (spec != null) ProveDown(spec, cm);
                }
                Guard(before, quorumProof);

                // 3. The plan: stop all, move aside all, write, start all, wait, check.
                Stamp = UtcStamp.Now();
                Result = NewResult();
                Result.Platform = Platform;
                Result.Cluster = Backup.Cluster;
                Result.BackupPath = Backup.Path;
                Result.Members = Members.Select(Name).ToArray();
                Result.StartedUtc = started;
                var running = Members.Where(m => WasRunning(m, before)).ToList();
                var plan = new Plan(Ctx, Operation, ErrorIds.RestoreFailed);
                foreach (var m in Members)
                    plan.SetState(Label(m), running.Contains(m) ? $"running, {DataNoun} untouched" : $"not answering, {DataNoun} untouched");
                PlanPrepare(plan);
                foreach (var m in Members)
                {
                    bool wasRunning = running.Contains(m);
                    plan.Add(Label(m), StopAction(m), () => Stop(m),
                        undo: wasRunning ? (Action)(() => Start(m)) : null,
                        state: $"stopped, {DataNoun} untouched",
                        undoneState: wasRunning ? $"started again with its original {DataNoun}" : $"stopped with its original {DataNoun}");
                }
                foreach (var m in Members)
                    foreach (var dir in DataDirs(m))
                    {
                        string aside = NodeDataDir.AsidePath(dir, Stamp);
                        NodeDataDir.PlanMoveAside(plan, Label(m), Node(m), dir, aside, () => Exists(m, dir), () => MoveAside(m, dir), () => PutBack(m, dir),
                            MoveAsideAction(m, dir, aside), $"stopped, old {DataNoun} at {aside}", $"stopped, original {DirNoun} back in place",
                            a => { if (!Result.MovedAside.ContainsKey(Name(m))) Result.MovedAside[Name(m)] = a; });
                    }
                // Each member is its own node: the writes, the longest steps, run at once (Plan.AtOnce), every one approved first.
                plan.AtOnce(() => { foreach (var m in Members) PlanWrite(plan, m); });
                foreach (var m in Members)
                    plan.Add(Label(m), StartAction(m), () => Start(m), undo: () => Stop(m), state: StartedState, undoneState: "stopped");
                PlanAfterStart(plan);
                plan.Check(ClusterTarget, WaitAction, Wait);
                plan.Check(ClusterTarget, CheckAction, Check);
                if (!plan.Execute()) return null;
                Result.Steps = plan.Steps.Select(s => s.ToString()).ToArray();
                Result.Duration = clock.Elapsed;
                Done();
                return Result;
            }
            finally
            {
                if (OwnsShells) foreach (var s in _shells.Values) s?.Dispose();
                CleanUp();
            }
        }
    }
}
