using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// The restore rule of Safety/MemberRestore.cs, proven once with a fake platform that records every
    /// call it gets and every ShouldProcess it causes, in one timeline.
    /// </summary>
    public sealed class MemberRestoreTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("member-restore");
        private readonly string _backup;

        public MemberRestoreTests()
        {
            using var w = BackupArchiveWriter.Create(_dir, "fake.tar.gz");
            var data = Encoding.UTF8.GetBytes("state");
            w.AddPayload("state.bin", s => s.Write(data, 0, data.Length));
            _backup = w.Commit(new BackupManifest { Kind = "fake", Cluster = "c1", Label = "l", CreatedUtc = DateTime.UtcNow }, new RecordingContext()).Path;
        }

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        /// <summary>Members a and b answer but are unhealthy; c is silent and its node proves it down.</summary>
        private sealed class Fake : MemberRestore<string>
        {
            public readonly List<string> Log;
            public string FailAt;
            public bool Healthy;
            public string Path;

            public Fake(RecordingContext ctx, List<string> log, string path) : base(ctx)
            {
                Log = log;
                Path = path;
                ctx.OnAsk = (target, action) => Log.Add("ask " + action);
            }

            private void Call(string what)
            {
                // The members' writes run at once: a failing write waits for the others, which a failure found
                // before they started would skip (they would then have nothing to undo).
                if (what == FailAt && what.StartsWith("write ", StringComparison.Ordinal))
                    SpinWait.SpinUntil(() => { lock (Log) return Log.Count(l => l.StartsWith("write ", StringComparison.Ordinal)) == 2; }, 10000);
                lock (Log) Log.Add(what);
                if (what == FailAt) throw new ClusterDrException(ErrorIds.RemoteCommandFailed, ErrorKind.InvalidOperation, what + " failed");
            }

            protected override string Operation => "Restore-Fake";
            protected override string Platform => "fake";
            protected override string BackupKind => "fake";
            protected override ClusterDR.Stores.BackupLocation BackupPath => Path;
            protected override bool Force => false;
            protected override IList<string> Members { get; } = new[] { "a", "b", "c" };
            protected override string Name(string m) => m;
            protected override string Label(string m) => "member " + m;
            protected override IEnumerable<string> DataDirs(string m) => new[] { "/d/" + m };
            protected override string ClusterTarget => "fake cluster";
            protected override void ValidateMembers() => Call("validate");
            protected override void CheckBackup() => Call("verified " + Backup.Cluster);

            protected override QuorumStatus ReadStatus()
            {
                Call("status");
                return new QuorumStatus("fake", "c1", new[]
                {
                    new ClusterMember { Name = "a", Healthy = Healthy, Endpoint = "a:1", Problem = "no leader" },
                    new ClusterMember { Name = "b", Healthy = Healthy, Endpoint = "b:1", Problem = "no leader" },
                    new ClusterMember { Name = "c", Healthy = false, Problem = "no answer" },
                });
            }

            protected override void CheckStatus(QuorumStatus before) => Call("check status");
            protected override void ProveDown(string m, ClusterMember status) { Call("prove down " + m); status.ProvenDown = true; }
            protected override void Guard(QuorumStatus before, string quorumProof) { Call("guard"); base.Guard(before, quorumProof); }
            protected override string Node(string m) => "node-" + m;
            protected override bool Exists(string m, string dir) { Log.Add("look for " + dir); return true; }
            protected override bool MoveAside(string m, string dir) { Call("move aside " + dir); return true; }
            protected override void PutBack(string m, string dir) => Call("put back " + dir);
            protected override string StopAction(string m) => "Stop " + m;
            protected override void Stop(string m) => Call("stop " + m);
            protected override void PlanWrite(Plan plan, string m) =>
                plan.Add(Label(m), "Write " + m, () => Call("write " + m), undo: () => Call("unwrite " + m), state: "written");
            protected override string StartAction(string m) => "Start " + m;
            protected override void Start(string m) => Call("start " + m);
            protected override string WaitAction => "Wait";
            protected override void Wait() => Call("wait");
            protected override string CheckAction => "Check";
            protected override void Check() => Call("check");
            protected override void Done() => Call("done");
            protected override void CleanUp() => Log.Add("clean up");
        }

        private static readonly string[] Ahead = { "validate", "verified c1", "status", "check status", "prove down c", "guard" };
        private static readonly string[] Looks = { "look for /d/a", "look for /d/b", "look for /d/c" };
        private static readonly string[] Steps =
        {
            "stop a", "stop b", "stop c", "move aside /d/a", "move aside /d/b", "move aside /d/c",
            "write a", "write b", "write c", "start a", "start b", "start c",
        };
        private static readonly string[] Asks =
        {
            "Stop a", "Stop b", "Stop c", "Move /d/a aside to ", "Move /d/b aside to ", "Move /d/c aside to ",
            "Write a", "Write b", "Write c", "Start a", "Start b", "Start c",
        };

        private (Fake, RecordingContext, List<string>) Make(Decision answer = Decision.Proceed)
        {
            var ctx = new RecordingContext(answer);
            var log = new List<string>();
            return (new Fake(ctx, log, _backup), ctx, log);
        }

        private static string Unstamped(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"/d/(\w)\.clusterdr-\d{8}T\d{6}Z", "");

        [Fact]
        public void TheStagesRunInTheOrderOfTheRuleEachStepAskedBeforeItRuns()
        {
            var (fake, ctx, log) = Make();
            var result = fake.Run();
            // Each step asked right before it runs; the members' writes all asked first, then run at once (in any order).
            IEnumerable<string> OneByOne(int from, int to) => Steps.Skip(from).Take(to - from).SelectMany((s, i) => new[] { "ask " + Asks[from + i], s });
            var expected = Ahead.Concat(Looks).Concat(OneByOne(0, 6)).Concat(Asks.Skip(6).Take(3).Select(a => "ask " + a))
                .Concat(new[] { "write *", "write *", "write *" }).Concat(OneByOne(9, 12)).Concat(new[] { "wait", "check", "done", "clean up" });
            var actual = log.Select(Unstamped).ToList();
            Assert.Equal(new[] { "write a", "write b", "write c" }, actual.Where(l => l.StartsWith("write ", StringComparison.Ordinal)).OrderBy(l => l));
            Assert.Equal(expected, actual.Select(l => l.StartsWith("write ", StringComparison.Ordinal) ? "write *" : l));
            Assert.Equal(new[] { "a", "b", "c" }, result.Members);
            Assert.Equal("c1", result.Cluster);
            Assert.Equal(3, result.MovedAside.Count);
            Assert.Equal(14, result.Steps.Length);
        }

        [Fact]
        public void NothingIsTouchedBeforeTheArchiveIsVerified()
        {
            var bytes = File.ReadAllBytes(_backup);
            bytes[bytes.Length / 2] ^= 0xff;
            File.WriteAllBytes(_backup, bytes);
            var (fake, ctx, log) = Make();
            Assert.Throws<ClusterDrException>(() => fake.Run());
            Assert.Equal(new[] { "validate", "clean up" }, log);
            Assert.Empty(ctx.Asked);
        }

        [Fact]
        public void NothingIsTouchedWhenTheGuardRefusesAWorkingCluster()
        {
            var (fake, ctx, log) = Make();
            fake.Healthy = true;
            var ex = Assert.Throws<ClusterDrException>(() => fake.Run());
            Assert.Equal(ErrorIds.ClusterHealthy, ex.ErrorId);
            Assert.Equal(Ahead.Concat(new[] { "clean up" }), log);
            Assert.Empty(ctx.Asked);
        }

        [Theory]
        [InlineData("stop b", new[] { "start a" })]
        [InlineData("stop c", new[] { "start b", "start a" })]
        [InlineData("move aside /d/b", new[] { "put back /d/a", "start b", "start a" })]
        [InlineData("write c", new[] { "unwrite b", "unwrite a", "put back /d/c", "put back /d/b", "put back /d/a", "start b", "start a" })]
        [InlineData("start b", new[] { "stop a", "unwrite c", "unwrite b", "unwrite a", "put back /d/c", "put back /d/b", "put back /d/a", "start b", "start a" })]
        [InlineData("wait", new[] { "stop c", "stop b", "stop a", "unwrite c", "unwrite b", "unwrite a", "put back /d/c", "put back /d/b", "put back /d/a", "start b", "start a" })]
        [InlineData("check", new[] { "stop c", "stop b", "stop a", "unwrite c", "unwrite b", "unwrite a", "put back /d/c", "put back /d/b", "put back /d/a", "start b", "start a" })]
        public void AFailureAtEachStageUndoesWhatRanInReverse(string failAt, string[] undo)
        {
            // c was proven down: its stop is not undone by starting it (it did not run before).
            // Every failure is reported as the plan's RestoreFailed, with the state each member was left in.
            var (fake, ctx, log) = Make();
            fake.FailAt = failAt;
            var ex = Assert.Throws<ClusterDrException>(() => fake.Run());
            Assert.Equal(ErrorIds.RestoreFailed, ex.ErrorId);
            Assert.Contains(failAt + " failed", ex.Message);
            var after = log.Skip(log.IndexOf(failAt) + 1).ToList();
            Assert.Equal(undo.Concat(new[] { "clean up" }), after);
            Assert.Contains("member a: started again with its original data", ex.Message);
        }

        [Fact]
        public void WhatIfAsksEveryStepInOrderAndRunsNone()
        {
            var (fake, ctx, log) = Make(Decision.WhatIf);
            Assert.Null(fake.Run());
            Assert.Equal(Asks, ctx.Asked.Select(a => Unstamped(a.Substring(0, a.IndexOf(" @ ", StringComparison.Ordinal)))));
            Assert.Equal(new[] { "member a", "member b", "member c" }, ctx.Asked.Take(3).Select(a => a.Substring(a.IndexOf(" @ ", StringComparison.Ordinal) + 3)));
            Assert.Equal(Ahead.Concat(Looks).Concat(new[] { "clean up" }), log.Where(l => !l.StartsWith("ask ", StringComparison.Ordinal)));
        }
    }
}
