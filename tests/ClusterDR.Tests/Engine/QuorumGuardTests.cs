using System.Linq;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    public sealed class QuorumGuardTests
    {
        [Theory]
        [InlineData(1, 1)] [InlineData(2, 2)] [InlineData(3, 2)] [InlineData(4, 3)] [InlineData(5, 3)] [InlineData(6, 4)] [InlineData(7, 4)]
        public void QuorumIsFloorHalfPlusOne(int members, int quorum) => Assert.Equal(quorum, Quorum.Size(members));

        [Theory]
        [InlineData(3, 3, 1)] [InlineData(3, 2, 0)] [InlineData(3, 1, 0)] [InlineData(5, 5, 2)] [InlineData(5, 4, 1)]
        public void FaultToleranceCountsSpareHealthyMembers(int members, int healthy, int tolerance) =>
            Assert.Equal(tolerance, Quorum.FaultTolerance(members, healthy));

        private static QuorumStatus Cluster(int size, params int[] unhealthy) =>
            new QuorumStatus("test", "c", Enumerable.Range(1, size).Select(i => new ClusterMember
            {
                Name = "m" + i, Id = i.ToString(), Healthy = !unhealthy.Contains(i), ProvenDown = unhealthy.Contains(i), Problem = unhealthy.Contains(i) ? "down (connection refused)" : null,
            }).ToArray());

        [Fact]
        public void TakingOneOfThreeHealthyDownIsAllowed()
        {
            var ctx = new RecordingContext();
            QuorumGuard.EnsureCanTakeDown(Cluster(3), new[] { "m1" }, false, ctx);
            Assert.Contains(ctx.Verbose, v => v.Contains("leaves 2 healthy of 3"));
        }

        [Fact]
        public void TakingDownAManagerWhenOneIsAlreadyDownIsRefusedWithTheNumbers()
        {
            var ex = Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureCanTakeDown(Cluster(3, 3), new[] { "m1" }, false, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, ex.ErrorId);
            Assert.Contains("1 healthy member(s) of 3", ex.Message);
            Assert.Contains("quorum needs 2", ex.Message);
        }

        [Fact]
        public void ForceTurnsTheRefusalIntoAWarning()
        {
            var ctx = new RecordingContext();
            QuorumGuard.EnsureCanTakeDown(Cluster(3, 3), new[] { "m1" }, true, ctx);
            Assert.Single(ctx.Warnings);
        }

        [Fact]
        public void EveryRefusalHasOneWordingForForce()
        {
            var ex = Assert.Throws<ClusterDrException>(() => QuorumGuard.Refuse(ErrorIds.StoreNotEmpty, ErrorKind.ResourceExists, "It holds data.", false, new RecordingContext(), "t",
                withForce: "it is moved aside first", advice: "Empty it.", nothingChanged: true));
            Assert.Equal(ErrorIds.StoreNotEmpty, ex.ErrorId);
            Assert.Equal(ErrorKind.ResourceExists, ex.Kind);
            Assert.Equal("It holds data. Empty it. Use -Force to override (it is moved aside first). Nothing was changed.", ex.Message);
            var ctx = new RecordingContext();
            QuorumGuard.Refuse(ErrorIds.StoreNotEmpty, ErrorKind.ResourceExists, "It holds data.", true, ctx, "t", withForce: "it is moved aside first", advice: "Empty it.");
            Assert.Equal(new[] { "It holds data. Going on because -Force was given: it is moved aside first." }, ctx.Warnings.ToArray());
            var plain = Assert.Throws<ClusterDrException>(() => QuorumGuard.Refuse(ErrorIds.QuorumAtRisk, ErrorKind.InvalidOperation, "One manager.", false, new RecordingContext(), "t"));
            Assert.Equal("One manager. Use -Force to override.", plain.Message);
        }

        [Fact]
        public void ACheckThatCouldNotBeMadeRefusesAsItsFailureUnlessForced()
        {
            var failure = new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError, "no answer");
            Assert.Same(failure, Assert.Throws<ClusterDrException>(() => QuorumGuard.RefuseUnchecked(failure, "Could not check.", false, new RecordingContext())));
            var ctx = new RecordingContext();
            QuorumGuard.RefuseUnchecked(failure, "Could not check.", true, ctx);
            Assert.Equal(new[] { "Could not check. Going on because -Force was given." }, ctx.Warnings.ToArray());
        }

        [Fact]
        public void ASingleMemberClusterCannotLoseItsOnlyMember() =>
            Assert.Equal(ErrorIds.QuorumAtRisk, Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureCanTakeDown(Cluster(1), new[] { "m1" }, false, new RecordingContext())).ErrorId);

        [Fact]
        public void ReadingFromAMemberWithoutQuorumIsRefused()
        {
            var ex = Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureReadableWithQuorum(Cluster(3, 2, 3), "m1", false, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, ex.ErrorId);
            Assert.Contains("stale", ex.Message);
        }

        [Fact]
        public void ReadingFromAnUnhealthyMemberOfAQuorateClusterIsRefused() =>
            Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureReadableWithQuorum(Cluster(3, 3), "m3", false, new RecordingContext()));

        [Fact]
        public void ReadingFromAHealthyMemberOfAQuorateClusterIsAllowed() =>
            QuorumGuard.EnsureReadableWithQuorum(Cluster(3, 3), "m1", false, new RecordingContext());

        [Fact]
        public void RestoringOverAHealthyClusterIsRefused()
        {
            var ex = Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureClusterIsDown(Cluster(3, 3), false, new RecordingContext()));
            Assert.Equal(ErrorIds.ClusterHealthy, ex.ErrorId);
            QuorumGuard.EnsureClusterIsDown(Cluster(3, 2, 3), false, new RecordingContext());
        }

        [Fact]
        public void RestoringIsRefusedWhenSilentMembersAreNotProvenDown()
        {
            var status = Cluster(3, 2, 3);
            status.Members[2].ProvenDown = false;
            status.Members[2].Problem = "unreachable: no answer in time";
            var ex = Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureClusterIsDown(status, false, new RecordingContext()));
            Assert.Equal(ErrorIds.ClusterStateUnknown, ex.ErrorId);
            Assert.Contains("m3 (unreachable: no answer in time)", ex.Message);
            // One doubtful member beside one healthy of five cannot make a quorum: the restore may go on.
            var five = Cluster(5, 2, 3, 4, 5);
            five.Members[4].ProvenDown = false;
            QuorumGuard.EnsureClusterIsDown(five, false, new RecordingContext());
        }
    }

    public sealed class PlanTests
    {
        [Fact]
        public void WhatIfReportsEveryStepAndRunsNone()
        {
            var ctx = new RecordingContext(Decision.WhatIf);
            int ran = 0;
            var plan = new Plan(ctx, "Op", "OpFailed").Add("a", "one", () => ran++).Check("a", "wait", () => ran++).Add("b", "two", () => ran++);
            Assert.False(plan.Execute());
            Assert.Equal(0, ran);
            Assert.Equal(new[] { "one @ a", "two @ b" }, ctx.Asked.ToArray());
        }

        [Fact]
        public void AFailureUndoesCompletedStepsInReverseAndNamesEachTargetsState()
        {
            var log = new System.Collections.Generic.List<string>();
            var plan = new Plan(new RecordingContext(), "Op", "OpFailed")
                .Add("a", "stop", () => log.Add("stop a"), () => log.Add("start a"), "stopped", "running")
                .Add("b", "move", () => log.Add("move b"), () => log.Add("unmove b"), "moved", "in place")
                .Add("b", "break", () => throw new System.IO.IOException("disk full"));
            var ex = Assert.Throws<ClusterDrException>(() => plan.Execute());
            Assert.Equal("OpFailed", ex.ErrorId);
            Assert.Equal(new[] { "stop a", "move b", "unmove b", "start a" }, log.ToArray());
            Assert.Contains("disk full", ex.Message);
            Assert.Contains("a: running", ex.Message);
            Assert.Contains("b: in place", ex.Message);
        }

        [Fact]
        public void AFailedStepSurfacesAsTheOperationsFailureUnlessItsErrorIsRaisedToSurfaceAsIs()
        {
            var cause = new ClusterDrException("SomeCause", ErrorKind.ResourceUnavailable, "the cause");
            var answer = new ClusterDrException("TheAnswer", ErrorKind.PermissionDenied, "the answer", "t", surfaceAsIs: true);
            Plan Failing(string op, string failureId, System.Action step) =>
                new Plan(new RecordingContext(), op, failureId).Add("a", "stop", () => { }, () => { }, "stopped", "running").Add("b", "break", step);

            // An ordinary cause: the operation's own id, the cause as InnerException, its kind kept.
            var wrapped = Assert.Throws<ClusterDrException>(() => Failing("Op", "OpFailed", () => throw cause).Execute());
            Assert.Equal(("OpFailed", ErrorKind.ResourceUnavailable), (wrapped.ErrorId, wrapped.Kind));
            Assert.Same(cause, wrapped.InnerException);
            Assert.False(wrapped.SurfaceAsIs);

            // The operator's answer: its own id and kind, the plan's message (undo, states) around it.
            var kept = Assert.Throws<ClusterDrException>(() => Failing("Op", "OpFailed", () => throw answer).Execute());
            Assert.Equal(("TheAnswer", ErrorKind.PermissionDenied), (kept.ErrorId, kept.Kind));
            Assert.Same(answer, kept.InnerException);
            Assert.Contains("the answer", kept.Message);
            Assert.Contains("a: running", kept.Message);
            Assert.True(kept.SurfaceAsIs);

            // A plan inside a plan's step: the answer still comes through, the ordinary cause takes the outer id.
            Assert.Equal("TheAnswer", Assert.Throws<ClusterDrException>(() => Failing("Outer", "OuterFailed", () => Failing("Op", "OpFailed", () => throw answer).Execute()).Execute()).ErrorId);
            Assert.Equal("OuterFailed", Assert.Throws<ClusterDrException>(() => Failing("Outer", "OuterFailed", () => Failing("Op", "OpFailed", () => throw cause).Execute()).Execute()).ErrorId);
        }

        [Fact]
        public void DecliningMidwayUndoesWhatRan()
        {
            var log = new System.Collections.Generic.List<string>();
            var ctx = new RecordingContext { DeclineFrom = 1 };
            var plan = new Plan(ctx, "Op", "OpFailed")
                .Add("a", "stop", () => log.Add("stop"), () => log.Add("start"))
                .Add("a", "wipe", () => log.Add("wipe"));
            var ex = Assert.Throws<ClusterDrException>(() => plan.Execute());
            Assert.Equal(ErrorIds.OperationDeclined, ex.ErrorId);
            Assert.Equal(new[] { "stop", "start" }, log.ToArray());
        }

        [Fact]
        public void CtrlCDuringAStepStillUndoesEverythingThatRan()
        {
            var dir = TestEnv.TempDir("plan-cancel");
            var ctx = new RecordingContext();
            var ct = ctx.Cancellation; // engines capture the token when they build their plan
            using var sh = new ClusterDR.Transport.LocalShell();
            var plan = new Plan(ctx, "Op", "OpFailed")
                .Add("a", "stop", () => sh.RunChecked("stop", $"touch {dir}/stopped", ct), () => sh.RunChecked("start again", $"rm {dir}/stopped && touch {dir}/started-again", ct), "stopped", "running")
                .Add("a", "long copy", () => { ctx.Cts.CancelAfter(300); sh.RunChecked("copy", "sleep 30", ct); });
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var ex = Assert.ThrowsAny<System.OperationCanceledException>(() => plan.Execute());
            Assert.True(sw.Elapsed < System.TimeSpan.FromSeconds(20), "Ctrl+C should kill the running command");
            Assert.True(System.IO.File.Exists($"{dir}/started-again"), "the undo must run although the token is cancelled");
            Assert.False(System.IO.File.Exists($"{dir}/stopped"));
            Assert.Contains("a: running", ex.Message);
            System.IO.Directory.Delete(dir, true);
        }

        [Fact]
        public void CtrlCBetweenStepsUndoesWhatRanAndRunsNothingMore()
        {
            var ctx = new RecordingContext();
            var ct = ctx.Cancellation;
            using var sh = new ClusterDR.Transport.LocalShell();
            var log = new System.Collections.Generic.List<string>();
            var plan = new Plan(ctx, "Op", "OpFailed")
                .Add("a", "stop", () => { log.Add("stop"); ctx.Cts.Cancel(); }, () => log.Add(sh.RunChecked("undo", "echo started", ct).StdOut.Trim()))
                .Add("a", "wipe", () => log.Add("wipe"));
            var ex = Assert.ThrowsAny<System.OperationCanceledException>(() => plan.Execute());
            Assert.Equal(new[] { "stop", "started" }, log.ToArray());
            Assert.Contains("stopped before 'wipe'", ex.Message);
        }

        [Fact]
        public void DecliningTheFirstStepChangesNothing()
        {
            int ran = 0;
            var plan = new Plan(new RecordingContext(Decision.Declined), "Op", "OpFailed").Add("a", "x", () => ran++);
            Assert.False(plan.Execute());
            Assert.Equal(0, ran);
        }
    }
}
