using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;

namespace ClusterDR.Safety
{
    /// <summary>
    /// A state-changing operation as an ordered list of named steps. Each step asks ShouldProcess for
    /// its target; under -WhatIf every step is reported and none runs; a "no" stops the plan. When a
    /// step fails (or the user declines part-way), the undo actions of the steps that ran are played
    /// back in reverse, and the error says what state every target was left in. A failed step surfaces as the
    /// plan's own failure id with the cause as InnerException, unless the cause is a ClusterDrException raised
    /// with SurfaceAsIs (the operator's answer): then its ErrorId and kind are kept. Steps added through
    /// <see cref="AtOnce"/> run as lanes, one per target, at the same time.
    /// </summary>
    public sealed class Plan
    {
        private readonly IOperationContext _ctx;
        private readonly string _operation;
        private readonly string _failureErrorId;
        private readonly List<PlanStep> _steps = new List<PlanStep>();
        private readonly Dictionary<string, string> _states = new Dictionary<string, string>();
        private int _groups;

        public Plan(IOperationContext ctx, string operation, string failureErrorId)
        {
            _ctx = ctx;
            _operation = operation;
            _failureErrorId = failureErrorId;
        }

        public IReadOnlyList<PlanStep> Steps => _steps;

        /// <summary>True once a step was skipped because of -WhatIf.</summary>
        public bool IsWhatIf { get; private set; }

        /// <summary>What each target looks like now, as far as the plan knows.</summary>
        public IReadOnlyDictionary<string, string> States => _states;

        /// <summary>Adds a step. <paramref name="state"/> is how the target looks after the step ran.</summary>
        public Plan Add(string target, string action, Action run, Action undo = null, string state = null, string undoneState = null)
        {
            _steps.Add(new PlanStep(target, action, run, undo, state, undoneState, confirm: true));
            return this;
        }

        /// <summary>
        /// A step that changes nothing (a wait, a verification): it runs without asking, but never under -WhatIf.
        /// Its <paramref name="undo"/>, if any, clears up after later steps when the plan fails.
        /// </summary>
        public Plan Check(string target, string action, Action run, Action undo = null, string undoneState = null)
        {
            _steps.Add(new PlanStep(target, action, run, undo, null, undoneState, confirm: false));
            return this;
        }

        public void SetState(string target, string state) => _states[target] = state;

        /// <summary>
        /// The steps <paramref name="addSteps"/> adds run at once, one lane per target: a target's steps keep their
        /// order, different targets' steps overlap (each member is its own node, and one node's write need not wait
        /// for another's). Every step of the group is put to ShouldProcess before any of them runs, so -WhatIf and
        /// -Confirm see the same list, in the same order, as for a plan that runs them one by one. When a step fails,
        /// the other lanes finish the step they are in and start no other; then every step done is undone as for
        /// any failure, and the error leads with the step that failed first. A step of a group runs on a thread of its
        /// own and must not call the context (PowerShell's Write* belong to its thread); its debug lines flow through
        /// Transport.DebugLog, which queues them.
        /// </summary>
        public Plan AtOnce(Action addSteps)
        {
            int first = _steps.Count;
            addSteps();
            int group = ++_groups;
            for (int i = first; i < _steps.Count; i++) _steps[i].Group = group;
            return this;
        }

        /// <summary>Runs the plan. Returns false when -WhatIf or a "no" kept it from running fully.</summary>
        public bool Execute()
        {
            var done = new List<PlanStep>();
            for (int i = 0; i < _steps.Count;)
            {
                var step = _steps[i];
                int end = i + 1;
                if (step.Group != 0) while (end < _steps.Count && _steps[end].Group == step.Group) end++;
                var steps = _steps.GetRange(i, end - i);
                i = end;
                if (_ctx.Cancellation.IsCancellationRequested)
                {
                    // Stopped between two steps: put back what ran before reporting the stop.
                    if (done.Count > 0)
                    {
                        int failed = Undo(done);
                        throw new OperationCanceledException($"{_operation} was stopped before '{step.Action}' on {step.Target}; undid {done.Count - failed} of {done.Count} completed step(s).{Environment.NewLine}{DescribeStates()}");
                    }
                    _ctx.Cancellation.ThrowIfCancellationRequested();
                }
                foreach (var s in steps)
                {
                    if (IsWhatIf)
                    {
                        if (s.Confirm) _ctx.ShouldProcess(s.Target, s.Action);
                        continue;
                    }
                    if (!s.Confirm) continue;
                    var decision = _ctx.ShouldProcess(s.Target, s.Action);
                    if (decision == Decision.WhatIf) { IsWhatIf = true; s.Outcome = StepOutcome.WhatIf; continue; }
                    if (decision == Decision.Declined)
                    {
                        s.Outcome = StepOutcome.Declined;
                        if (done.Count == 0) return false;
                        Undo(done);
                        throw new ClusterDrException(ErrorIds.OperationDeclined, ErrorKind.OperationStopped,
                            $"{_operation} stopped: '{s.Action}' on {s.Target} was declined; the steps already done were undone.{Environment.NewLine}{DescribeStates()}");
                    }
                }
                if (IsWhatIf) continue;
                bool lanes = steps.Select(s => s.Target).Distinct().Count() > 1;
                if (lanes) foreach (var s in steps) _ctx.WriteVerbose($"{_operation}: {s.Action} on {s.Target} (at once)");
                var failures = lanes ? RunLanes(steps) : RunInOrder(steps);
                foreach (var s in steps)
                    if (s.Outcome == StepOutcome.Done)
                    {
                        if (s.State != null) _states[s.Target] = s.State;
                        done.Add(s);
                    }
                if (failures.Count > 0) throw Failed(failures, done);
            }
            return !IsWhatIf;
        }

        /// <summary>One target's steps (or a single step) on the calling thread, up to the first that fails.</summary>
        private List<KeyValuePair<PlanStep, Exception>> RunInOrder(List<PlanStep> steps)
        {
            var failures = new List<KeyValuePair<PlanStep, Exception>>();
            RunLane(steps, failures, onCaller: true);
            return failures;
        }

        /// <summary>One thread per target; a lane stops at its next step once any lane failed or the user stopped the run.</summary>
        private List<KeyValuePair<PlanStep, Exception>> RunLanes(List<PlanStep> steps)
        {
            var failures = new List<KeyValuePair<PlanStep, Exception>>();
            var threads = steps.GroupBy(s => s.Target).Select(lane => new Thread(() => RunLane(lane.ToList(), failures, onCaller: false))
                { IsBackground = true, Name = "ClusterDR plan lane " + lane.Key }).ToList();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            return failures; // in the order they failed: the first is the cause, the others often its echo
        }

        /// <summary>
        /// Runs one target's steps in order until one fails, another lane failed, or Ctrl+C. On the calling thread
        /// (<paramref name="onCaller"/>) each step says itself in -Verbose as it starts, and its first step was just
        /// checked for Ctrl+C by <see cref="Execute"/>; on a lane's thread the context is never called.
        /// </summary>
        private void RunLane(List<PlanStep> lane, List<KeyValuePair<PlanStep, Exception>> failures, bool onCaller)
        {
            var ct = _ctx.Cancellation;
            foreach (var s in lane)
            {
                lock (failures) if (failures.Count > 0) return;
                if ((!onCaller || s != lane[0]) && ct.IsCancellationRequested)
                {
                    lock (failures) failures.Add(new KeyValuePair<PlanStep, Exception>(s, new OperationCanceledException(ct)));
                    return;
                }
                if (onCaller) _ctx.WriteVerbose($"{_operation}: {s.Action} on {s.Target}");
                try { s.Run(); s.Outcome = StepOutcome.Done; }
                catch (Exception ex)
                {
                    s.Outcome = StepOutcome.Failed;
                    lock (failures) failures.Add(new KeyValuePair<PlanStep, Exception>(s, ex));
                    return;
                }
            }
        }

        /// <summary>The failure of the step that failed first, the others named after it, once everything done is undone.</summary>
        private Exception Failed(List<KeyValuePair<PlanStep, Exception>> failures, List<PlanStep> done)
        {
            var step = failures[0].Key;
            var ex = failures[0].Value;
            var undoErrors = Undo(done);
            var msg = new StringBuilder();
            msg.Append($"{_operation} failed at '{step.Action}' on {step.Target}: {ex.Message}");
            foreach (var other in failures.Skip(1)) msg.Append(Environment.NewLine).Append($"At the same time '{other.Key.Action}' on {other.Key.Target} failed: {other.Value.Message}");
            msg.Append(Environment.NewLine).Append(done.Count == 0 ? "Nothing had been changed." : $"Undid {done.Count - undoErrors} of {done.Count} completed step(s).");
            msg.Append(Environment.NewLine).Append(DescribeStates());
            if (ex is OperationCanceledException) return new OperationCanceledException(msg.ToString(), ex);
            var cde = ex as ClusterDrException;
            bool asIs = cde?.SurfaceAsIs == true;
            return new ClusterDrException(asIs ? cde.ErrorId : _failureErrorId, cde?.Kind ?? ErrorKind.InvalidOperation, msg.ToString(), step.Target, ex, surfaceAsIs: asIs);
        }

        private int Undo(List<PlanStep> done)
        {
            // Undo runs to the end even after Ctrl+C: the tokens its actions captured are ignored here.
            using (CancellationScope.Suppress()) return UndoAll(done);
        }

        private int UndoAll(List<PlanStep> done)
        {
            int failures = 0;
            for (int i = done.Count - 1; i >= 0; i--)
            {
                var step = done[i];
                if (step.UndoAction == null) continue;
                try
                {
                    _ctx.WriteVerbose($"{_operation}: undoing '{step.Action}' on {step.Target}");
                    step.UndoAction();
                    step.Outcome = StepOutcome.Undone;
                    if (step.UndoneState != null) _states[step.Target] = step.UndoneState;
                }
                catch (Exception ex)
                {
                    failures++;
                    step.Outcome = StepOutcome.UndoFailed;
                    _states[step.Target] = $"UNDO FAILED for '{step.Action}': {ex.Message}";
                    _ctx.WriteWarning($"{_operation}: could not undo '{step.Action}' on {step.Target}: {ex.Message}");
                }
            }
            return failures;
        }

        private string DescribeStates()
        {
            if (_states.Count == 0) return "No target was changed.";
            return "State of each target: " + string.Join("; ", _states.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}")) + ".";
        }
    }

    public enum StepOutcome { Pending, Done, WhatIf, Declined, Failed, Undone, UndoFailed }

    public sealed class PlanStep
    {
        internal PlanStep(string target, string action, Action run, Action undo, string state, string undoneState, bool confirm)
        {
            Target = target; Action = action; Run = run; UndoAction = undo; State = state; UndoneState = undoneState; Confirm = confirm;
        }
        public string Target { get; }
        public string Action { get; }
        internal Action Run { get; }
        internal Action UndoAction { get; }
        internal string State { get; }
        internal string UndoneState { get; }
        internal bool Confirm { get; }
        /// <summary>Non-zero for the steps of one <see cref="Plan.AtOnce"/> group.</summary>
        internal int Group { get; set; }
        public StepOutcome Outcome { get; internal set; }
        public override string ToString() => $"{Action} on {Target}: {Outcome}";
    }
}
