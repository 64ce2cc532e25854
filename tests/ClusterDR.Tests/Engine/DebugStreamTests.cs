using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3.Model;
using ClusterDR.Dcos;
using ClusterDR.Deis;
using ClusterDR.Safety;
using ClusterDR.Swarm;
using ClusterDR.Tests.Dcos;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// -Debug says what runs: each command line a shell starts and each HTTP request line, and never a secret
    /// (an unlock key goes on stdin, S3 keys and the ACS token in headers).
    /// </summary>
    public sealed class DebugStreamTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("debug-stream");
        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        private static SecureString Secure(string s) => new NetworkCredential("", s).SecurePassword;

        [Fact]
        public void AShellWritesItsCommandLineAndTheUnlockKeyOnStdinIsNotInIt()
        {
            const string key = "SWMKEY-1-debugtest0secret0unlock0key0aZ9";
            string docker = Path.Combine(_dir, "docker");
            string stdin = Path.Combine(_dir, "stdin");
            File.WriteAllText(docker, $"#!/bin/sh\ncat > '{stdin}'\n");
            Shell.Run("chmod", "+x", docker);
            var ctx = new RecordingContext();
            using (var sh = new LocalShell())
            using (DebugLog.To(ctx))
                SwarmNode.Unlock(sh, new SwarmNodeOptions { DockerPath = docker }, Secrets.Secure(key), CancellationToken.None);

            Assert.Equal(key + "\n", File.ReadAllText(stdin));
            var line = Assert.Single(ctx.Debug);
            Assert.StartsWith("localhost: /bin/sh -c ", line);
            Assert.Contains(docker, line);
            Assert.Contains(" swarm unlock", line);
            Assert.DoesNotContain(ctx.Debug.Concat(ctx.Verbose), l => l.Contains(key) || l.Contains("SWMKEY"));
        }

        [Theory]
        [InlineData("4")]
        [InlineData("2")]
        public void EachS3OperationIsADebugLineWithoutTheKeys(string signature)
        {
            const string secret = "s3-secret-key-never-in-debug-7f3c";
            var requests = new List<string>();
            var (listener, uri) = LoopbackHttp.Serve(r =>
            {
                lock (requests) requests.Add(r.HttpMethod + " " + r.Url.PathAndQuery);
                return (403, "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>denied</Message></Error>");
            });
            using (listener)
            {
                var o = new DeisS3Options { GatewayUri = uri, AccessKey = "AKIDEBUG", SecretKey = Secrets.Secure(secret), SignatureVersion = signature, Buckets = new[] { "registry" } };
                var ctx = new RecordingContext();
                using (var s3 = DeisStore.Client(o))
                using (DebugLog.To(ctx))
                {
                    var ex = Assert.Throws<ClusterDrException>(() => DeisStore.S3(o, "listing registry",
                        () => s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "registry" })));
                    Assert.Equal(ErrorIds.S3AccessDenied, ex.ErrorId);
                    Assert.Throws<ClusterDrException>(() => DeisStore.S3(o, "reading registry/a b/c",
                        () => s3.GetObjectMetadataAsync("registry", "a b/c")));
                }
                Assert.Contains($"S3 ListObjectsV2 {uri}registry", ctx.Debug);
                Assert.Contains($"S3 GetObjectMetadata {uri}registry/a%20b/c", ctx.Debug);
                Assert.NotEmpty(requests);
                Assert.DoesNotContain(ctx.Debug, l => l.Contains(secret) || l.Contains("Signature") || l.Contains("AKIDEBUG"));
            }
        }

        [Fact]
        public void DcosRequestsAreDebugLinesAndTheAcsTokenIsNotInThem()
        {
            using var fake = new FakeDcos();
            var ctx = new RecordingContext();
            var backup = DcosBackups.Create(new DcosRequest
            {
                Uri = fake.Uri, AcsToken = Secure(FakeDcos.AdminToken), ExhibitorUri = fake.ExhibitorUri,
                PollInterval = TimeSpan.FromMilliseconds(20), WaitTimeout = TimeSpan.FromSeconds(10),
            }, "debug-lines", ctx);
            Assert.NotNull(backup);
            Assert.Contains(ctx.Debug, l => l.StartsWith("HTTP GET " + fake.Uri) && l.Contains("/exhibitor/v1/cluster/status"));
            Assert.Contains(ctx.Debug, l => l.StartsWith("HTTP POST " + fake.Uri) && l.EndsWith("/backup/v1/create"));
            Assert.DoesNotContain(ctx.Debug, l => l.Contains(FakeDcos.AdminToken) || l.Contains("token="));
        }

        /// <summary>Records the thread each debug line arrives on.</summary>
        private sealed class ThreadContext : IOperationContext
        {
            public List<(int Thread, string Line)> Lines { get; } = new List<(int, string)>();
            public Decision ShouldProcess(string target, string action) => Decision.Proceed;
            public void WriteVerbose(string message) { }
            public void WriteWarning(string message) { }
            public void WriteDebug(string message) { lock (Lines) Lines.Add((Thread.CurrentThread.ManagedThreadId, message)); }
            public void WriteProgress(ProgressInfo progress) { }
            public CancellationToken Cancellation => CancellationToken.None;
        }

        [Fact]
        public void LinesFromWorkerTasksReachTheContextOnItsOwnThreadAndNothingLeaksPastTheScope()
        {
            var ctx = new ThreadContext();
            int me = Thread.CurrentThread.ManagedThreadId;
            using (DebugLog.To(ctx))
            {
                // A worker thread started here carries the scope (ExecutionContext), like Task.Run does.
                var workers = Enumerable.Range(0, 4).Select(i => new Thread(() => DebugLog.Write("worker " + i))).ToList();
                workers.ForEach(t => t.Start());
                workers.ForEach(t => t.Join());
                DebugLog.Write("caller");
            }
            DebugLog.Write("after the scope");
            Assert.Equal(5, ctx.Lines.Count);
            Assert.All(ctx.Lines, l => Assert.Equal(me, l.Thread));
            Assert.Equal("caller", ctx.Lines.Last().Line);
            Assert.DoesNotContain(ctx.Lines, l => l.Line == "after the scope");
        }

        [Fact]
        public void ARequestLineLeavesOutTheQueryAndUserInfo()
        {
            Assert.Equal("http://host:2379/v3/kv/range", DebugLog.Redact(new Uri("http://host:2379/v3/kv/range")));
            Assert.Equal("https://host/api?…", DebugLog.Redact(new Uri("https://user:pw@host/api?token=abc")));
        }

        [Fact]
        public void AGuardRefusalSaysWhatToDo()
        {
            var status = new QuorumStatus("etcd", "c1", new[]
            {
                new ClusterMember { Name = "e1", Healthy = true }, new ClusterMember { Name = "e2" }, new ClusterMember { Name = "e3" },
            });
            var ex = Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureReadableWithQuorum(status, "e1", false, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, ex.ErrorId);
            Assert.Contains("-Force", ex.RecommendedAction);
            Assert.Contains("stale", ex.RecommendedAction);
            var healthy = new QuorumStatus("etcd", "c1", new[] { new ClusterMember { Name = "e1", Healthy = true } });
            Assert.Contains("-Force", Assert.Throws<ClusterDrException>(() => QuorumGuard.EnsureClusterIsDown(healthy, false, new RecordingContext())).RecommendedAction);
        }
    }
}
