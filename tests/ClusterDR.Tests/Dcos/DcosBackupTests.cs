using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security;
using System.Threading;
using ClusterDR.Dcos;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using Newtonsoft.Json.Linq;
using Xunit;

namespace ClusterDR.Tests.Dcos
{
    /// <summary>The DC/OS backup engine against <see cref="FakeDcos"/>, a loopback server that follows DESIGN.md's contract.</summary>
    public sealed class DcosBackupTests : IDisposable
    {
        private readonly FakeDcos _fake = new FakeDcos();
        private readonly RecordingContext _ctx = new RecordingContext();

        public void Dispose() => _fake.Dispose();

        private static SecureString Secure(string s) => s == null ? null : new NetworkCredential("", s).SecurePassword;

        private DcosRequest Req(string token = FakeDcos.AdminToken, bool wait = false, bool guard = false, bool force = false) => new DcosRequest
        {
            Uri = _fake.Uri,
            AcsToken = Secure(token),
            ExhibitorUri = guard ? _fake.ExhibitorUri : null,
            Force = force,
            Wait = wait,
            PollInterval = TimeSpan.FromMilliseconds(20),
            WaitTimeout = TimeSpan.FromSeconds(10),
        };

        private DcosBackupInfo Ready(string label) => DcosBackups.Create(Req(wait: true), label, new RecordingContext());

        private static ClusterDrException Fails(Action a) => Assert.Throws<ClusterDrException>(a);

        [Theory]
        [InlineData("abc", true)]
        [InlineData("nightly", true)]
        [InlineData("pre-upgrade_1.13.x", true)]
        [InlineData(".x-single-dot-is-fine", true)]
        [InlineData("a234567890123456789012345", true)]   // 25
        [InlineData("ab", false)]                          // 2
        [InlineData("a2345678901234567890123456", false)]  // 26
        [InlineData("..x", false)]
        [InlineData("..nightly", false)]
        [InlineData("night ly", false)]
        [InlineData("nightly/1", false)]
        [InlineData("nächtlich", false)]
        [InlineData("abc\n", false)]
        [InlineData("", false)]
        [InlineData(null, false)]
        public void LabelsFollowTheServiceRuleAndBadOnesNeverLeaveThisMachine(string label, bool valid)
        {
            Assert.Equal(valid, DcosBackupLabel.IsValid(label));
            if (valid) return;
            Assert.Equal(ErrorIds.InvalidBackupLabel, Fails(() => DcosBackups.Create(Req(guard: true), label, _ctx)).ErrorId);
            Assert.Empty(_fake.Requests);
        }

        [Fact]
        public void CreateReturnsTheRunningBackupAndWaitFollowsItToReady()
        {
            var started = DcosBackups.Create(Req(), "first", _ctx);
            Assert.Equal((DcosStatus.BackingUp, DcosStatus.Unknown), (started.Status, started.ComponentStatus["marathon"]));
            Assert.Equal("first", started.Label);
            Assert.Matches("^first-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", started.Id);
            Assert.Single(_ctx.Asked, a => a.StartsWith("Create a DC/OS backup labelled 'first' @ " + _fake.Uri));

            var done = DcosBackups.Get(Req(wait: true), started.Id, null, _ctx).Single();
            Assert.Equal((DcosStatus.Ready, DcosStatus.Ready), (done.Status, done.ComponentStatus["marathon"]));
            Assert.Equal(_fake.Uri, done.Uri);

            var created = DcosBackups.Create(Req(wait: true), "second", _ctx);
            Assert.True(created.IsReady);
            Assert.Contains(_ctx.Verbose, v => v.Contains("STATUS_BACKING_UP (marathon STATUS_BACKING_UP)"));
            Assert.Contains(_ctx.Progress, p => p.Completed && p.Status.StartsWith("STATUS_READY"));
            Assert.Equal(new[] { "POST /system/v1/backup/v1/create {\"label\":\"first\"}", "POST /system/v1/backup/v1/create {\"label\":\"second\"}" }, _fake.StateChangingRequests);
        }

        [Fact]
        public void ASecondCreateWhileOneRunsIsBackupServiceBusy()
        {
            var first = DcosBackups.Create(Req(), "first", _ctx);
            var busy = Fails(() => DcosBackups.Create(Req(), "second", _ctx));
            Assert.Equal(ErrorIds.BackupServiceBusy, busy.ErrorId);
            Assert.Contains("lock is already held", busy.Message);
            DcosBackups.Get(Req(wait: true), first.Id, null, _ctx);
            Assert.True(DcosBackups.Create(Req(wait: true), "second", _ctx).IsReady);
        }

        [Fact]
        public void AnEmptyServiceListsNothingAndGetFindsByIdAndLabelPrefix()
        {
            Assert.Empty(DcosBackups.Get(Req(), null, null, _ctx));
            var a = Ready("nightly.1");
            var b = Ready("nightly.2");
            var w = Ready("weekly");
            Assert.Equal(new[] { a.Id, b.Id, w.Id }, DcosBackups.Get(Req(), null, null, _ctx).Select(x => x.Id));
            Assert.Equal(new[] { a.Id, b.Id }, DcosBackups.Get(Req(), null, "nightly", _ctx).Select(x => x.Id));
            Assert.Empty(DcosBackups.Get(Req(), null, "monthly", _ctx));
            Assert.Equal("weekly", DcosBackups.Get(Req(), w.Id, null, _ctx).Single().Label);
            var missing = Fails(() => DcosBackups.Get(Req(), "nope-" + Guid.NewGuid(), null, _ctx));
            Assert.Equal((ErrorIds.DcosBackupNotFound, ErrorKind.ObjectNotFound), (missing.ErrorId, missing.Kind));
        }

        [Fact]
        public void RestoreUnderWhatIfAsksButSendsNothingThatChangesState()
        {
            var b = Ready("keep");
            int before = _fake.StateChangingRequests.Count;
            var whatIf = new RecordingContext(Decision.WhatIf);
            Assert.Null(DcosBackups.Restore(Req(wait: true, guard: true), b.Id, whatIf));
            Assert.Equal(new[] { $"Restore DC/OS backup {b.Id} @ {_fake.Uri}" }, whatIf.Asked);
            Assert.Equal(before, _fake.StateChangingRequests.Count);
            Assert.Contains(_fake.Requests, r => r.StartsWith("GET /exhibitor/exhibitor/v1/cluster/status"));
            Assert.Empty(DcosBackups.Get(Req(), b.Id, null, _ctx).Single().Restores);

            Assert.Null(DcosBackups.Restore(Req(), b.Id, new RecordingContext(Decision.Declined)));
            Assert.Null(DcosBackups.Create(Req(), "not-made", whatIf));
            Assert.Equal(before, _fake.StateChangingRequests.Count);
        }

        [Fact]
        public void RestoreWaitsForTheRestoreAndTheBackupListsIt()
        {
            var b = Ready("to-restore");
            var r = DcosBackups.Restore(Req(wait: true, guard: true), b.Id, _ctx);
            Assert.Equal((DcosStatus.Ready, b.Id), (r.Status, r.BackupId));
            Assert.StartsWith("restore-", r.Id);
            var listed = DcosBackups.Get(Req(), b.Id, null, _ctx).Single().Restores.Single();
            Assert.Equal((r.Id, DcosStatus.Ready), (listed.Id, listed.Status));
            Assert.Contains($"POST /system/v1/backup/v1/restore {{\"id\":\"{b.Id}\"}}", _fake.StateChangingRequests);
        }

        [Fact]
        public void ABackupThatIsNotReadyIsNotRestored()
        {
            var running = DcosBackups.Create(Req(), "running", _ctx);
            _fake.ListsToFinish = 100;
            Assert.Equal(ErrorIds.DcosBackupNotReady, Fails(() => DcosBackups.Restore(Req(), running.Id, _ctx)).ErrorId);
            Assert.DoesNotContain(_fake.StateChangingRequests, r => r.Contains("/restore"));
        }

        [Fact]
        public void RemoveDeletesABackupAndWaitSeesItGone()
        {
            var b = Ready("old");
            var keep = Ready("new");
            DcosBackups.Remove(Req(wait: true), b.Id, _ctx);
            Assert.Equal(new[] { keep.Id }, DcosBackups.Get(Req(), null, null, _ctx).Select(x => x.Id));
            Assert.Contains($"DELETE /system/v1/backup/v1/delete {{\"id\":\"{b.Id}\"}}", _fake.StateChangingRequests);
            Assert.Contains(_ctx.Asked, a => a.StartsWith("Delete the DC/OS backup (STATUS_READY (marathon STATUS_READY)) from ") && a.EndsWith("@ " + b.Id));
        }

        [Fact]
        public void ARestoreIdIsNotABackup()
        {
            var b = Ready("has-restore");
            var r = DcosBackups.Restore(Req(wait: true), b.Id, _ctx);
            int before = _fake.StateChangingRequests.Count;
            var refused = Fails(() => DcosBackups.Remove(Req(), r.Id, _ctx));
            Assert.Equal(ErrorIds.DcosBackupNotFound, refused.ErrorId);
            Assert.Contains("restore of backup " + b.Id, refused.Message);
            Assert.Equal(before, _fake.StateChangingRequests.Count);

            // The service itself answers 400 for a restore id; the client keeps the ErrorId.
            using var client = new DcosBackupClient(_fake.Uri, Secure(FakeDcos.AdminToken));
            var direct = Fails(() => client.Delete(r.Id, CancellationToken.None));
            Assert.Equal(ErrorIds.DcosBackupNotFound, direct.ErrorId);
            Assert.Contains("(400)", direct.Message);
            Assert.Contains(b.Id, DcosBackups.Get(Req(), null, null, _ctx).Select(x => x.Id));
        }

        [Theory]
        [InlineData(null, "Unauthorized")]
        [InlineData(FakeDcos.ReaderToken, "Forbidden")]
        public void AuthFailuresHaveTheirOwnErrorIds(string token, string id)
        {
            Assert.Equal(id, Fails(() => DcosBackups.Get(Req(token), null, null, _ctx)).ErrorId);
            Assert.Equal(id, Fails(() => DcosBackups.Create(Req(token), "nightly", _ctx)).ErrorId);
            Assert.Equal(id, Fails(() => DcosBackups.Create(Req(token, guard: true), "nightly", _ctx)).ErrorId);
            Assert.Equal(ErrorKind.PermissionDenied, Fails(() => DcosBackups.Remove(Req(token), "x-1", _ctx)).Kind);
        }

        [Fact]
        public void AFailedComponentIsNamed()
        {
            var e = Fails(() => DcosBackups.Create(Req(wait: true), FakeDcos.FailingLabel, _ctx));
            Assert.Equal(ErrorIds.DcosBackupFailed, e.ErrorId);
            Assert.Contains("component marathon reported STATUS_ERROR: backing up marathon state failed", e.Message);
            var failed = Assert.IsType<DcosBackupInfo>(e.Target);
            Assert.Equal(new[] { "marathon" }, failed.FailedComponents);

            var b = Ready(FakeDcos.FailingRestoreLabel);
            var r = Fails(() => DcosBackups.Restore(Req(wait: true), b.Id, _ctx));
            Assert.Equal(ErrorIds.DcosRestoreFailed, r.ErrorId);
            Assert.Contains("component marathon reported STATUS_ERROR: restoring marathon state failed", r.Message);
        }

        [Fact]
        public void WaitGivesUpAfterItsTimeout()
        {
            _fake.ListsToFinish = 1000;
            var req = Req(wait: true);
            req.WaitTimeout = TimeSpan.FromMilliseconds(300);
            var e = Fails(() => DcosBackups.Create(req, "slow", _ctx));
            Assert.Equal(ErrorIds.WaitTimedOut, e.ErrorId);
            Assert.Contains("STATUS_BACKING_UP", e.Message);
        }

        [Theory]
        [InlineData(ExhibitorView.NotServing, "not serving: 10.0.0.3 (not serving)")]
        [InlineData(ExhibitorView.TwoLeaders, "2 leaders instead of one")]
        public void TheGuardRefusesAnEnsembleThatIsNotWholeUnlessForced(ExhibitorView view, string problem)
        {
            var b = Ready("guarded");
            _fake.Exhibitor = view;
            int before = _fake.StateChangingRequests.Count;
            foreach (var whatIf in new[] { Decision.WhatIf, Decision.Proceed })
            {
                var create = Fails(() => DcosBackups.Create(Req(guard: true), "nightly", new RecordingContext(whatIf)));
                Assert.Equal(ErrorIds.QuorumAtRisk, create.ErrorId);
                Assert.Contains(problem, create.Message);
                Assert.IsType<QuorumStatus>(create.Target);
                Assert.Equal(ErrorIds.QuorumAtRisk, Fails(() => DcosBackups.Restore(Req(guard: true), b.Id, new RecordingContext(whatIf))).ErrorId);
            }
            Assert.Equal(before, _fake.StateChangingRequests.Count);

            var forced = DcosBackups.Create(Req(wait: true, guard: true, force: true), "forced", _ctx);
            Assert.True(forced.IsReady);
            Assert.Contains(_ctx.Warnings, w => w.Contains(problem) && w.Contains("-Force"));
        }

        [Fact]
        public void WithoutExhibitorUriTheGuardSaysItDidNotLook()
        {
            DcosBackups.Create(Req(), "unguarded", _ctx);
            Assert.Contains(_ctx.Verbose, v => v.Contains("no -ExhibitorUri"));
            Assert.DoesNotContain(_fake.Requests, r => r.Contains("/exhibitor/"));
        }

        [Fact]
        public void TheTokenNeverAppearsInMessagesOrVerboseOutput()
        {
            var texts = new System.Collections.Generic.List<string>();
            void Collect(Action a)
            {
                try { a(); }
                catch (ClusterDrException e) { for (Exception x = e; x != null; x = x.InnerException) texts.Add(x.Message + x.StackTrace); }
            }
            var first = DcosBackups.Create(Req(), "first", _ctx);
            Collect(() => DcosBackups.Create(Req(), "second", _ctx));                                // busy
            Collect(() => DcosBackups.Create(Req(FakeDcos.ReaderToken, guard: true), "third", _ctx)); // 403 from Exhibitor
            Collect(() => DcosBackups.Get(Req(FakeDcos.ReaderToken), null, null, _ctx));               // 403
            Collect(() => DcosBackups.Create(Req(FakeDcos.AdminToken + "\r\nX-Injected: 1"), "fourth", _ctx)); // a token that is not a valid header value
            _fake.Exhibitor = ExhibitorView.NotServing;
            Collect(() => DcosBackups.Restore(Req(guard: true), first.Id, _ctx));
            Collect(() => DcosBackups.Create(Req(wait: true), FakeDcos.FailingLabel, _ctx));
            Assert.True(texts.Count >= 5, string.Join("\n", texts));
            var all = string.Join("\n", texts.Concat(_ctx.Verbose).Concat(_ctx.Warnings).Concat(_ctx.Asked));
            Assert.DoesNotContain(FakeDcos.AdminToken, all);
            Assert.DoesNotContain(FakeDcos.ReaderToken, all);
        }

        [Fact]
        public void AMissingCaBundleIsATlsConfigurationError()
        {
            var req = Req();
            req.CaCertificatePath = "/nonexistent/dcos-ca.crt";
            Assert.Equal(ErrorIds.TlsConfiguration, Fails(() => DcosBackups.Get(req, null, null, _ctx)).ErrorId);
        }

        /// <summary>The fake itself, on the wire: the shapes DESIGN.md names.</summary>
        [Fact]
        public void TheFakeAnswersWithTheContractsShapes()
        {
            using var http = new HttpClient { BaseAddress = new Uri(_fake.Uri, "system/v1/backup/v1/") };
            (int, string) Call(HttpMethod m, string path, string body = null, string token = FakeDcos.AdminToken)
            {
                using var req = new HttpRequestMessage(m, path);
                if (body != null) req.Content = new StringContent(body);
                if (token != null) req.Headers.TryAddWithoutValidation("Authorization", "token=" + token);
                using var resp = http.Send(req);
                return ((int)resp.StatusCode, resp.Content.ReadAsStringAsync().Result);
            }
            Assert.Equal((200, "{}"), Call(HttpMethod.Get, "list"));
            Assert.Equal(401, Call(HttpMethod.Get, "list", token: null).Item1);
            Assert.Equal(403, Call(HttpMethod.Get, "list", token: FakeDcos.ReaderToken).Item1);
            var (code, created) = Call(HttpMethod.Post, "create", "{\"label\":\"foo\"}");
            var info = JObject.Parse(created)["backup_info"]!;
            Assert.Equal((200, "STATUS_BACKING_UP", "STATUS_UNKNOWN"), (code, (string)info["status"], (string)info["component_status"]!["marathon"]!["status"]));
            var (busy, errors) = Call(HttpMethod.Post, "create", "{\"label\":\"bar\"}");
            Assert.Equal(500, busy);
            Assert.Equal("Could not backup bar: backup label=bar failed: backup/restore is currently busy: lock is already held", (string)JObject.Parse(errors)["errors"]![0]);
            Call(HttpMethod.Get, "list");
            var listed = JObject.Parse(Call(HttpMethod.Get, "list").Item2)["backup_info"]![0]!;
            Assert.Equal(("STATUS_READY", 0), ((string)listed["status"], ((JArray)listed["restores"]!).Count));
            var restore = JObject.Parse(Call(HttpMethod.Post, "restore", $"{{\"id\":\"{listed["id"]}\"}}").Item2)["backup_info"]!;
            Assert.Equal("STATUS_RESTORING", (string)restore["status"]);
            Assert.Equal(400, Call(HttpMethod.Delete, "delete", $"{{\"id\":\"{restore["id"]}\"}}").Item1);
            Call(HttpMethod.Get, "list");
            Call(HttpMethod.Get, "list");
            Assert.Equal((200, "{}"), Call(HttpMethod.Delete, "delete", $"{{\"id\":\"{listed["id"]}\"}}"));
            Assert.Equal((200, "{}"), Call(HttpMethod.Get, "list"));
        }
    }
}
