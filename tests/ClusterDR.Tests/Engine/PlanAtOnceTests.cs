using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// Plan.AtOnce: the members' writes of a restore run as lanes, one per target, at the same time. What must hold
    /// is what holds for a plan run step by step: every step approved before any runs, -WhatIf lists the same steps in
    /// the same order, and a failure anywhere undoes everything done.
    /// </summary>
    public sealed class PlanAtOnceTests
    {
        private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

        [Fact]
        public void LanesOverlapKeepTheirOwnOrderAndRunOnlyOnceEveryStepIsApproved()
        {
            var ctx = new RecordingContext();
            var log = new List<string>();
            void Log(string s) { lock (log) log.Add(s); }
            // Each lane's first step waits for the other's: only lanes that run at the same time get past it.
            using var both = new Barrier(2);
            int askedWhenFirstRan = -1;
            var plan = new Plan(ctx, "Op", "OpFailed").Add("a", "stop", () => Log("stop a"));
            plan.AtOnce(() =>
            {
                foreach (var t in new[] { "a", "b" })
                {
                    plan.Add(t, "copy", () =>
                    {
                        Interlocked.CompareExchange(ref askedWhenFirstRan, ctx.Asked.Count, -1);
                        Assert.True(both.SignalAndWait(Wait), "the lanes did not run at once");
                        Log("copy " + t);
                    });
                    plan.Add(t, "restore", () => Log("restore " + t), state: "restored");
                }
            });
            plan.Add("a", "start", () => Log("start a"));

            Assert.True(plan.Execute());
            Assert.Equal(new[] { "stop @ a", "copy @ a", "restore @ a", "copy @ b", "restore @ b", "start @ a" }, ctx.Asked.ToArray());
            Assert.Equal(5, askedWhenFirstRan); // stop and the group's four steps, before any step of the group ran
            Assert.Equal("stop a", log.First());
            Assert.Equal("start a", log.Last());
            foreach (var t in new[] { "a", "b" }) Assert.True(log.IndexOf("copy " + t) < log.IndexOf("restore " + t), string.Join(", ", log));
            Assert.Equal("restored", plan.States["b"]);
            Assert.All(plan.Steps, s => Assert.Equal(StepOutcome.Done, s.Outcome));
            Assert.Contains("Op: copy on b (at once)", ctx.Verbose);
        }

        [Fact]
        public void AGroupOfOneTargetRunsInOrderOnTheCallingThread()
        {
            // A one-member restore: nothing to overlap, so its steps run where they may use the context.
            var ctx = new RecordingContext();
            int caller = Environment.CurrentManagedThreadId;
            var ran = new List<string>();
            var plan = new Plan(ctx, "Op", "OpFailed");
            plan.AtOnce(() =>
            {
                plan.Add("a", "copy", () => { Assert.Equal(caller, Environment.CurrentManagedThreadId); ran.Add("copy"); });
                plan.Add("a", "restore", () => { Assert.Equal(caller, Environment.CurrentManagedThreadId); ran.Add("restore"); });
            });
            Assert.True(plan.Execute());
            Assert.Equal(new[] { "copy", "restore" }, ran.ToArray());
            Assert.Equal(new[] { "Op: copy on a", "Op: restore on a" }, ctx.Verbose.ToArray());
        }

        [Fact]
        public void WhatIfListsTheGroupsStepsInPlanOrderAndRunsNone()
        {
            var ctx = new RecordingContext(Decision.WhatIf);
            int ran = 0;
            var plan = new Plan(ctx, "Op", "OpFailed").Add("a", "stop", () => ran++);
            plan.AtOnce(() => { plan.Add("a", "write", () => ran++); plan.Check("a", "stage", () => ran++); plan.Add("b", "write", () => ran++); });
            plan.Add("b", "start", () => ran++);
            Assert.False(plan.Execute());
            Assert.Equal(0, ran);
            Assert.Equal(new[] { "stop @ a", "write @ a", "write @ b", "start @ b" }, ctx.Asked.ToArray());
        }

        [Fact]
        public void DecliningAStepOfTheGroupRunsNoneOfItAndUndoesWhatRanBefore()
        {
            var log = new List<string>();
            var ctx = new RecordingContext { DeclineFrom = 2 }; // yes to stop and to a's write, no to b's
            var plan = new Plan(ctx, "Op", "OpFailed").Add("a", "stop", () => log.Add("stop"), () => log.Add("start again"));
            plan.AtOnce(() => { plan.Add("a", "write", () => log.Add("write a")); plan.Add("b", "write", () => log.Add("write b")); });
            var ex = Assert.Throws<ClusterDrException>(() => plan.Execute());
            Assert.Equal(ErrorIds.OperationDeclined, ex.ErrorId);
            Assert.Equal(new[] { "stop", "start again" }, log.ToArray());
        }

        [Fact]
        public void AFailureStopsTheOtherLanesAfterTheirCurrentStepAndUndoesEverythingDoneInReverse()
        {
            var log = new List<string>();
            void Log(string s) { lock (log) log.Add(s); }
            using var bCopying = new ManualResetEventSlim();
            var plan = new Plan(new RecordingContext(), "Op", "OpFailed")
                .Add("a", "stop", () => Log("stop"), () => Log("start again"), "stopped", "running");
            plan.AtOnce(() =>
            {
                plan.Add("a", "copy", () => { Assert.True(bCopying.Wait(Wait)); Log("copy a"); throw new System.IO.IOException("no space left on a"); });
                plan.Add("a", "restore", () => Log("restore a"));
                // b's copy is still running when a fails; it finishes, and b's restore never starts.
                plan.Add("b", "copy", () => { bCopying.Set(); Thread.Sleep(300); Log("copy b"); }, () => Log("remove copy b"), "copied", "copy removed");
                plan.Add("b", "restore", () => Log("restore b"));
            });
            var ex = Assert.Throws<ClusterDrException>(() => plan.Execute());
            Assert.Equal("OpFailed", ex.ErrorId);
            Assert.Contains("failed at 'copy' on a: no space left on a", ex.Message);
            Assert.Contains("Undid 2 of 2", ex.Message);
            Assert.Contains("a: running", ex.Message);
            Assert.Contains("b: copy removed", ex.Message);
            Assert.DoesNotContain("restore a", log);
            Assert.DoesNotContain("restore b", log);
            Assert.Equal(new[] { "remove copy b", "start again" }, log.Skip(log.Count - 2).ToArray());
            Assert.Equal(StepOutcome.Pending, plan.Steps.Single(s => s.Target == "b" && s.Action == "restore").Outcome);
        }

        [Fact]
        public void TwoLanesFailingAreBothNamedTheFirstToFailLeading()
        {
            using var both = new Barrier(2);
            var plan = new Plan(new RecordingContext(), "Op", "OpFailed");
            plan.AtOnce(() =>
            {
                plan.Add("a", "copy", () => { both.SignalAndWait(Wait); Thread.Sleep(200); throw new InvalidOperationException("a broke"); });
                plan.Add("b", "copy", () => { both.SignalAndWait(Wait); throw new InvalidOperationException("b broke"); });
            });
            var ex = Assert.Throws<ClusterDrException>(() => plan.Execute());
            Assert.StartsWith("Op failed at 'copy' on b: b broke", ex.Message);
            Assert.Contains("At the same time 'copy' on a failed: a broke", ex.Message);
            Assert.Contains("Nothing had been changed.", ex.Message);
        }

        [Fact]
        public void CtrlCDuringTheGroupStopsEveryLaneAndUndoesWhatRan()
        {
            var ctx = new RecordingContext();
            var ct = ctx.Cancellation;
            var log = new List<string>();
            void Log(string s) { lock (log) log.Add(s); }
            using var sh = new ClusterDR.Transport.LocalShell();
            var plan = new Plan(ctx, "Op", "OpFailed").Add("a", "stop", () => Log("stop"), () => Log("start again"), "stopped", "running");
            plan.AtOnce(() =>
            {
                plan.Add("a", "long copy", () => { ctx.Cts.CancelAfter(300); sh.RunChecked("copy", "sleep 30", ct); });
                plan.Add("b", "long copy", () => sh.RunChecked("copy", "sleep 30", ct));
                plan.Add("b", "restore", () => Log("restore b"));
            });
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var ex = Assert.ThrowsAny<OperationCanceledException>(() => plan.Execute());
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), "Ctrl+C should end every lane's command");
            Assert.Equal(new[] { "stop", "start again" }, log.ToArray());
            Assert.Contains("a: running", ex.Message);
        }
    }
}
