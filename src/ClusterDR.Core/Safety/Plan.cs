using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ClusterDR.Safety
{
    /// <summary>
    /// A state-changing operation as an ordered list of named steps. Each step asks ShouldProcess for
    /// its target; under -WhatIf every step is reported and none runs; a "no" stops the plan. When a
    /// step fails (or the user declines part-way), the undo actions of the steps that ran are played
    /// back in reverse, and the error says what state every target was left in. A failed step surfaces as the
    /// plan's own failure id with the cause as InnerException, unless the cause is a ClusterDrException raised
    /// with SurfaceAsIs (the operator's answer): then its ErrorId and kind are kept.
    /// </summary>
    public sealed class Plan
    {
        private readonly IOperationContext _ctx;
        private readonly string _operation;
        private readonly string _failureErrorId;
        private readonly List<PlanStep> _steps = new List<PlanStep>();
        private readonly Dictionary<string, string> _states = new Dictionary<string, string>();

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

        /// <summary>Runs the plan. Returns false when -WhatIf or a "no" kept it from running fully.</summary>
        public bool Execute()
        {
            var done = new List<PlanStep>();
            for (int i = 0; i < _steps.Count; i++)
            {
                var step = _steps[i];
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
                if (IsWhatIf)
                {
                    if (step.Confirm) _ctx.ShouldProcess(step.Target, step.Action);
                    continue;
                }
                if (step.Confirm)
                {
                    var decision = _ctx.ShouldProcess(step.Target, step.Action);
                    if (decision == Decision.WhatIf) { IsWhatIf = true; step.Outcome = StepOutcome.WhatIf; continue; }
                    if (decision == Decision.Declined)
                    {
                        step.Outcome = StepOutcome.Declined;
                        if (done.Count == 0) return false;
                        Undo(done);
                        throw new ClusterDrException(ErrorIds.OperationDeclined, ErrorKind.OperationStopped,
                            $"{_operation} stopped: '{step.Action}' on {step.Target} was declined; the steps already done were undone.{Environment.NewLine}{DescribeStates()}");
                    }
                }
                _ctx.WriteVerbose($"{_operation}: {step.Action} on {step.Target}");
                try
                {
                    step.Run();
                    step.Outcome = StepOutcome.Done;
                    if (step.State != null) _states[step.Target] = step.State;
                    done.Add(step);
                }
                catch (Exception ex)
                {
                    step.Outcome = StepOutcome.Failed;
                    var undoErrors = Undo(done);
                    var msg = new StringBuilder();
                    msg.Append($"{_operation} failed at '{step.Action}' on {step.Target}: {ex.Message}");
                    msg.Append(Environment.NewLine).Append(done.Count == 0 ? "Nothing had been changed." : $"Undid {done.Count - undoErrors} of {done.Count} completed step(s).");
                    msg.Append(Environment.NewLine).Append(DescribeStates());
                    if (ex is OperationCanceledException) throw new OperationCanceledException(msg.ToString(), ex);
                    var cde = ex as ClusterDrException;
                    bool asIs = cde?.SurfaceAsIs == true;
                    throw new ClusterDrException(asIs ? cde.ErrorId : _failureErrorId, cde?.Kind ?? ErrorKind.InvalidOperation, msg.ToString(), step.Target, ex, surfaceAsIs: asIs);
                }
            }
            return !IsWhatIf;
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
        public StepOutcome Outcome { get; internal set; }
        public override string ToString() => $"{Action} on {Target}: {Outcome}";
    }
}
