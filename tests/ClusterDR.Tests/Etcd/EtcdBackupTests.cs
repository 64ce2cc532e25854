using System;
using System.IO;
using System.Linq;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Etcd;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Etcd
{
    /// <summary>Status, backup and the refusals that leave a healthy cluster alone; one real 3-member cluster.</summary>
    public sealed class EtcdBackupTests : IClassFixture<EtcdBackupTests.Cluster>, IDisposable
    {
        public sealed class Cluster : IDisposable
        {
            public EtcdTestCluster Etcd { get; } = new EtcdTestCluster(3);
            public SshTestServer Ssh { get; } = new SshTestServer();
            public Cluster()
            {
                for (int i = 0; i < 50; i++) Etcd.Put("/app/key" + i, "value" + i);
            }
            public void Dispose() { Etcd.Dispose(); Ssh.Dispose(); }
        }

        private readonly EtcdTestCluster _etcd;
        private readonly SshTestServer _ssh;
        private readonly string _out = TestEnv.TempDir("etcd-backups");

        public EtcdBackupTests(Cluster c) { _etcd = c.Etcd; _ssh = c.Ssh; }
        public void Dispose() { try { Directory.Delete(_out, true); } catch { } }

        [Fact]
        public void StatusShowsThreeHealthyMembersWithOneLeader()
        {
            var s = EtcdStatusReader.Read(new[] { _etcd.Url(0) }, null, CancellationToken.None);
            Assert.Equal((3, 3, 2, 1, true), (s.MemberCount, s.HealthyCount, s.QuorumSize, s.FaultTolerance, s.HasQuorum));
            Assert.Single(s.Members, m => m.IsLeader);
            Assert.All(s.Members.Cast<EtcdMember>(), m =>
            {
                Assert.Matches("^[0-9a-f]+$", m.Id);
                Assert.Single(m.PeerUrls);
                Assert.True(m.RaftIndex > 0);
                Assert.True(m.DbSize > 0);
                Assert.StartsWith("3.", m.Version);
            });
            Assert.Equal(new[] { "e1", "e2", "e3" }, s.Members.Select(m => m.Name).ToArray());
        }

        [Fact]
        public void StatusReadOnANodeThroughEtcdctlMatchesTheHttpView()
        {
            using var ssh = new OpenSshShell(NodeAddress.Parse(_ssh.Node), _ssh.Options);
            var viaNode = EtcdStatusReader.ReadOnNode(ssh, _etcd.Members[0].ClientUrl, null, "etcdctl", CancellationToken.None);
            var direct = _etcd.Status();
            Assert.Equal((3, 3), (viaNode.MemberCount, viaNode.HealthyCount));
            Assert.Equal(direct.Cluster, viaNode.Cluster);
            Assert.Equal(direct.Members.Select(m => m.Id), viaNode.Members.Select(m => m.Id));
            Assert.Equal(direct.Leader, viaNode.Leader);
        }

        [Fact]
        public void BehindAnHttp11OnlyProxyTheSnapshotFallsBackToTheJsonGatewayWithTheSameBytes()
        {
            // A reverse proxy that speaks only HTTP/1.1 (as some load balancers do) in front of the real member:
            // neither h2c attempt gets through, the JSON gateway does.
            var target = _etcd.Url(0);
            using var upstream = new System.Net.Http.HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            var (proxy, url) = Proxy(target, upstream);
            using (proxy)
            {
                var ctx = new RecordingContext();
                var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = url, Directory = _out, Label = "proxied" }, ctx);
                Assert.Contains(ctx.Verbose, v => v.Contains("fetched over JSON gateway"));
                var native = Path.Combine(_out, "native-proxied.db");
                Shell.Run("sh", "-c", $"ETCDCTL_API=3 etcdctl --endpoints={target} snapshot save {native} >/dev/null");
                byte[] ours = null;
                BackupArchiveReaderExtensions.ReadPayload(backup.Path, EtcdBackup.SnapshotFile, s => { var ms = new MemoryStream(); s.CopyTo(ms); ours = ms.ToArray(); });
                SnapshotAssert.Same(File.ReadAllBytes(native), ours);
            }
        }

        private static (System.Net.HttpListener, Uri) Proxy(Uri target, System.Net.Http.HttpClient upstream)
        {
            int port = TestEnv.FreePorts(1);
            var l = new System.Net.HttpListener();
            l.Prefixes.Add($"http://127.0.0.1:{port}/");
            l.Start();
            System.Threading.Tasks.Task.Run(async () =>
            {
                while (l.IsListening)
                {
                    System.Net.HttpListenerContext c;
                    try { c = await l.GetContextAsync(); } catch { return; }
                    _ = System.Threading.Tasks.Task.Run(async () =>
                    {
                        try
                        {
                            var body = new MemoryStream();
                            await c.Request.InputStream.CopyToAsync(body);
                            var req = new System.Net.Http.HttpRequestMessage(new System.Net.Http.HttpMethod(c.Request.HttpMethod), new Uri(target, c.Request.RawUrl)) { Content = new System.Net.Http.ByteArrayContent(body.ToArray()) };
                            if (c.Request.ContentType != null) req.Content.Headers.TryAddWithoutValidation("Content-Type", c.Request.ContentType);
                            using var resp = await upstream.SendAsync(req, System.Net.Http.HttpCompletionOption.ResponseHeadersRead);
                            c.Response.StatusCode = (int)resp.StatusCode;
                            c.Response.SendChunked = true;
                            await (await resp.Content.ReadAsStreamAsync()).CopyToAsync(c.Response.OutputStream);
                        }
                        catch { c.Response.StatusCode = 502; }
                        finally { try { c.Response.Close(); } catch { } }
                    });
                }
            });
            return (l, new Uri($"http://127.0.0.1:{port}/"));
        }

        private sealed class FullDisk : Backups.WriteOnlyStream
        {
            public long Written;
            public override void Write(byte[] buffer, int offset, int count)
            {
                if (Written + count > 100_000) throw new IOException("No space left on device");
                Written += count;
            }
        }

        [Theory]
        [InlineData(EtcdSnapshotProtocol.Auto)]
        [InlineData(EtcdSnapshotProtocol.Gateway)]
        public void AFullDiskIsReportedAsItselfNotAsABrokenSnapshotStream(EtcdSnapshotProtocol protocol)
        {
            var rnd = new Random(11);
            for (int i = 0; i < 4; i++)
            {
                var v = new byte[75_000];
                rnd.NextBytes(v);
                _etcd.Put("/disk/" + protocol + i, Convert.ToBase64String(v));
            }
            using var client = new EtcdClient(_etcd.Url(0)) { SnapshotProtocol = protocol };
            var ex = Assert.Throws<IOException>(() => client.Snapshot(new FullDisk(), null, null, CancellationToken.None));
            Assert.Equal("No space left on device", ex.Message);
        }

        [Fact]
        public void CtrlCPartWayThroughTheSnapshotLeavesNothingBehind()
        {
            var rnd = new Random(9);
            for (int i = 0; i < 40; i++)
            {
                var v = new byte[75_000];
                rnd.NextBytes(v);
                _etcd.Put("/cancel/" + i, Convert.ToBase64String(v));
            }
            var dir = Path.Combine(_out, "cancelled");
            var ctx = new RecordingContext();
            ctx.OnProgress = p => { if (p.Activity.StartsWith("Snapshot of etcd member") && p.Done > 0) ctx.Cts.Cancel(); };
            Assert.ThrowsAny<OperationCanceledException>(() => EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = dir }, ctx));
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }

        [Theory]
        [InlineData(EtcdSnapshotProtocol.Auto, "gRPC")]
        [InlineData(EtcdSnapshotProtocol.Gateway, "JSON gateway")]
        public void BackupSnapshotEqualsEtcdctlSnapshotSaveByteForByte(EtcdSnapshotProtocol protocol, string transport)
        {
            // Values of ~100 KB make the snapshot span many stream messages (etcd sends 32 KB blobs).
            var rnd = new Random(7);
            for (int i = 0; i < 12; i++)
            {
                var v = new byte[75_000];
                rnd.NextBytes(v);
                _etcd.Put("/big/" + protocol + i, Convert.ToBase64String(v));
            }
            var native = Path.Combine(_out, "native.db");
            var ctx = new RecordingContext();
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(1), Directory = _out, Label = "bytes", Protocol = protocol }, ctx);
            Assert.Contains(ctx.Verbose, v => v.Contains("fetched over " + transport));
            Shell.Run("sh", "-c", $"ETCDCTL_API=3 etcdctl --endpoints={_etcd.Url(1)} snapshot save {native} >/dev/null");
            byte[] ours = null;
            BackupArchiveReaderExtensions.ReadPayload(backup.Path, EtcdBackup.SnapshotFile, s => { var ms = new MemoryStream(); s.CopyTo(ms); ours = ms.ToArray(); });
            SnapshotAssert.Same(File.ReadAllBytes(native), ours);
            Assert.Equal("etcd", backup.Kind);
            Assert.Equal("e2", backup.Facts["memberName"]);
            Assert.True(long.Parse((string)backup.Facts["revision"]) >= 51);
            Assert.Matches("^[0-9a-f]+$", (string)backup.Facts["clusterId"]);
            Assert.Equal(backup.Cluster, (string)backup.Facts["clusterId"]);
            Assert.Contains("bytes", backup.Name);
            Assert.True(BackupVerifier.Verify(backup.Path, new RecordingContext()).Verified);
            Assert.True(ours.Length > 1_000_000);
            Assert.Equal(ours.Length, ctx.Progress.Last(p => p.Activity.StartsWith("Snapshot of etcd member")).Total);
        }

        [Fact]
        public void BackupWritesTheRequestsAndCommandsItRunsToTheDebugStream()
        {
            var ctx = new RecordingContext();
            EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out, Label = "debug" }, ctx);
            string url = _etcd.Url(0).ToString().TrimEnd('/');
            Assert.Contains("HTTP POST " + url + "/v3/maintenance/status", ctx.Debug);
            Assert.Contains(ctx.Debug, l => l.StartsWith("HTTP/2 POST " + url + "/etcdserverpb.Maintenance/Snapshot"));

            var onNode = new RecordingContext();
            using (var sh = new LocalShell())
                EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out, Label = "debug-node", Shell = sh }, onNode);
            Assert.Contains(onNode.Debug, l => l.StartsWith("localhost: /bin/sh -c ") && l.Contains("etcdctl") && l.Contains("snapshot"));
        }

        [Fact]
        public void BackupWritesProgressInBytes()
        {
            var ctx = new RecordingContext();
            EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out }, ctx);
            Assert.Contains(ctx.Progress, p => p.Completed);
            Assert.Contains(ctx.Progress, p => p.Done > 0 && p.Activity.Contains("etcd"));
        }

        [Fact]
        public void WhatIfBackupWritesNoFile()
        {
            var ctx = new RecordingContext(Decision.WhatIf);
            Assert.Null(EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out }, ctx));
            Assert.Single(ctx.Asked);
            Assert.Empty(Directory.GetFileSystemEntries(_out));
        }

        [Fact]
        public void NodeBackupRunsEtcdctlLocallyAndOverOpenSsh()
        {
            using var local = new LocalShell();
            var a = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(2), Directory = _out, Shell = local, Label = "local" }, new RecordingContext());
            using var ssh = new OpenSshShell(NodeAddress.Parse(_ssh.Node), _ssh.Options);
            var b = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(2), Directory = _out, Shell = ssh, Label = "ssh" }, new RecordingContext());
            var native = Path.Combine(_out, "native-node.db");
            Shell.Run("sh", "-c", $"ETCDCTL_API=3 etcdctl --endpoints={_etcd.Url(2)} snapshot save {native} >/dev/null");
            foreach (var backup in new[] { a, b })
            {
                Assert.True(BackupVerifier.Verify(backup.Path, new RecordingContext()).Verified);
                Assert.Equal("e3", backup.Facts["memberName"]);
                // The size line the node sends first is not part of the payload.
                byte[] ours = null;
                BackupArchiveReaderExtensions.ReadPayload(backup.Path, EtcdBackup.SnapshotFile, s => { var ms = new MemoryStream(); s.CopyTo(ms); ours = ms.ToArray(); });
                Assert.Equal(new FileInfo(native).Length, ours.Length);
            }
            // etcdctl on the node records what a rehearsal compares, as the gateway does: the same count and sample.
            var direct = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(2), Directory = _out, Label = "direct" }, new RecordingContext());
            foreach (var backup in new[] { a, b })
            {
                Assert.Equal((string)direct.Facts["keyCount"], (string)backup.Facts["keyCount"]);
                Assert.Equal((string)direct.Facts["keySample"], (string)backup.Facts["keySample"]);
                Assert.True(long.Parse((string)backup.Facts["revisionAfterSnapshot"]) >= long.Parse((string)backup.Facts["revision"]));
            }
            Assert.True(long.Parse((string)direct.Facts["keyCount"]) > 0);
            Assert.Equal(ClusterDR.Etcd.EtcdKeyFacts.SampleSize, ClusterDR.Etcd.EtcdKeyFacts.ParseSample((string)direct.Facts["keySample"]).Count);
            // Nothing was staged beside the archive.
            Assert.DoesNotContain(Directory.GetFileSystemEntries(_out), e => e.EndsWith(".staging"));
            Assert.Contains("127.0.0.1", b.SourceNodes[0]);
        }

        [Fact]
        public void ARehearsalRestoresTheBackupIntoAThrowawayMemberOfTheSameVersionAndComparesIt()
        {
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out, Label = "rehearsed" }, new RecordingContext());
            var ctx = new RecordingContext();
            var rehearsed = ClusterDR.Rehearsal.BackupRehearsal.Run(backup.Location, new ClusterDR.Rehearsal.RehearsalOptions(), ctx);
            var r = rehearsed.Rehearsal;
            Assert.True(r.Passed, string.Join("; ", r.Checks.Select(c => c.ToString())));
            Assert.Equal((string)backup.Facts["revision"], r.Checks.Single(c => c.Name == "revision").Found);
            Assert.Equal((string)backup.Facts["keyCount"], r.Checks.Single(c => c.Name.StartsWith("keys at revision")).Found);
            // The version matrix puts etcd 3.5 (with etcdutl) first on PATH: the rehearsal runs what the operator has.
            string expect = Environment.GetEnvironmentVariable("CLUSTERDR_EXPECT_ETCD");
            if (!string.IsNullOrEmpty(expect)) Assert.StartsWith("etcd " + expect, r.Server);
            Assert.Contains(r.Checks, c => c.Name == "snapshot restores" && c.Found.Contains(string.IsNullOrEmpty(expect) ? "etcd" : "etcdutl"));
            string scratch = ctx.Verbose.Select(v => System.Text.RegularExpressions.Regex.Match(v, "working in (\\S+)\\.$")).First(m => m.Success).Groups[1].Value;
            Assert.False(Directory.Exists(scratch));
        }

        [Fact]
        public void AFlippedByteFailsVerificationAndRestoreRefusesBeforeTouchingAnything()
        {
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out }, new RecordingContext());
            var tar = Engine.ArchiveTests.Unpack(backup.Path);
            tar[Engine.ArchiveTests.FindPayloadOffset(tar, "snapshot.db") + 5000] ^= 0x01;
            Engine.ArchiveTests.Repack(backup.Path, tar);
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(backup.Path, new RecordingContext()));
            Assert.Equal(ErrorIds.PayloadHashMismatch, ex.ErrorId);

            var before = _etcd.Members.Select(m => DirSignature.Siblings(m.DataDir)).ToArray();
            var ctx = new RecordingContext();
            var refused = Assert.Throws<ClusterDrException>(() => EtcdRestore.Run(new EtcdRestoreRequest { BackupPath = backup.Path, Members = _etcd.Members, Force = true }, ctx));
            Assert.Equal(ErrorIds.PayloadHashMismatch, refused.ErrorId);
            Assert.Empty(ctx.Asked);
            Assert.Equal(3, _etcd.Status().HealthyCount);
            Assert.Equal(before, _etcd.Members.Select(m => DirSignature.Siblings(m.DataDir)).ToArray());
        }

        [Fact]
        public void ASnapshotWhoseTrailerIsWrongFailsThePlatformCheck()
        {
            // Rebuild an archive whose manifest hashes match but whose etcd trailer does not: only the platform check can catch it.
            var bad = new byte[4096];
            new Random(5).NextBytes(bad);
            using (var w = BackupArchiveWriter.Create(_out, "trailer.tar.gz"))
            {
                w.AddPayload(EtcdBackup.SnapshotFile, s => s.Write(bad, 0, bad.Length));
                w.Commit(new BackupManifest { Kind = "etcd", Cluster = "x", CreatedUtc = DateTime.UtcNow }, new RecordingContext());
            }
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(Path.Combine(_out, "trailer.tar.gz"), new RecordingContext()));
            Assert.Equal(ErrorIds.SnapshotHashMismatch, ex.ErrorId);
        }

        [Fact]
        public void RestoreRefusesAHealthyClusterAndWhatIfWithForceChangesNothing()
        {
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out }, new RecordingContext());
            var refused = Assert.Throws<ClusterDrException>(() => EtcdRestore.Run(new EtcdRestoreRequest { BackupPath = backup.Path, Members = _etcd.Members }, new RecordingContext()));
            Assert.Equal(ErrorIds.ClusterHealthy, refused.ErrorId);
            Assert.Contains("3 of 3", refused.Message);

            var keys = _etcd.All();
            var pids = _etcd.Members.Select(m => File.ReadAllText(Path.Combine(_etcd.Dir, m.Name, "pid"))).ToArray();
            var siblings = _etcd.Members.Select(m => DirSignature.Siblings(m.DataDir)).ToArray();
            var dataDirs = _etcd.Members.Select(m => DirSignature.Of(m.DataDir)).ToArray();
            var ctx = new RecordingContext(Decision.WhatIf);
            Assert.Null(EtcdRestore.Run(new EtcdRestoreRequest { BackupPath = backup.Path, Members = _etcd.Members, Force = true }, ctx));
            Assert.Equal(15, ctx.Asked.Count); // stop, move aside, copy, restore, start × 3 members
            Assert.Contains(ctx.Warnings, w => w.Contains("-Force"));
            Assert.Equal(keys, _etcd.All());
            Assert.Equal(pids, _etcd.Members.Select(m => File.ReadAllText(Path.Combine(_etcd.Dir, m.Name, "pid"))).ToArray());
            Assert.Equal(siblings, _etcd.Members.Select(m => DirSignature.Siblings(m.DataDir)).ToArray());
            Assert.Equal(dataDirs, _etcd.Members.Select(m => DirSignature.Of(m.DataDir)).ToArray());
            Assert.True(_etcd.Members.Select((m, i) => _etcd.IsRunning(i)).All(x => x));
        }

        [Fact]
        public void RepairRefusesAHealthyMember()
        {
            var ex = Assert.Throws<ClusterDrException>(() => EtcdRepair.Run(new EtcdRepairRequest { Endpoints = _etcd.ClientUrls, Member = _etcd.Members[2] }, new RecordingContext()));
            Assert.Equal(ErrorIds.MemberHealthy, ex.ErrorId);
            Assert.Equal(3, _etcd.Status().HealthyCount);
        }

        [Fact]
        public void AHealthyClusterThatThisMachineCannotReachIsNeverRestored()
        {
            // Every client URL leads to a listener that accepts and never answers (a firewall, a wrong
            // route): from here nothing proves the members down, and on their node etcd holds the data dirs.
            var listeners = _etcd.Members.Select(_ => new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)).ToList();
            listeners.ForEach(l => l.Start());
            try
            {
                var members = _etcd.Members.Select((m, i) => new EtcdMemberSpec
                {
                    Name = m.Name, PeerUrl = m.PeerUrl, DataDir = m.DataDir, StartCommand = m.StartCommand, StopCommand = m.StopCommand,
                    ClientUrl = "http://127.0.0.1:" + ((System.Net.IPEndPoint)listeners[i].LocalEndpoint).Port,
                }).ToList();
                var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd.Url(0), Directory = _out }, new RecordingContext());
                var before = _etcd.Members.Select(m => DirSignature.Siblings(m.DataDir)).ToArray();
                var ctx = new RecordingContext();
                var ex = Assert.Throws<ClusterDrException>(() => EtcdRestore.Run(new EtcdRestoreRequest { BackupPath = backup.Path, Members = members }, ctx));
                Assert.Equal(ErrorIds.ClusterStateUnknown, ex.ErrorId);
                Assert.Contains("hold its data dir", ex.Message);
                Assert.Empty(ctx.Asked);
                Assert.Equal(3, _etcd.Status().HealthyCount);
                Assert.Equal(before, _etcd.Members.Select(m => DirSignature.Siblings(m.DataDir)).ToArray());
            }
            finally { listeners.ForEach(l => l.Stop()); }
        }

        [Fact]
        public void RepairRefusesAMemberTheClusterDoesNotKnow()
        {
            var typo = new EtcdMemberSpec { Name = "e9", PeerUrl = "http://127.0.0.1:1", ClientUrl = "http://127.0.0.1:2", DataDir = "/tmp/nonexistent-e9", StartCommand = "true", StopCommand = "true" };
            var ex = Assert.Throws<ClusterDrException>(() => EtcdRepair.Run(new EtcdRepairRequest { Endpoints = _etcd.ClientUrls, Member = typo }, new RecordingContext()));
            Assert.Equal(ErrorIds.MemberNotFound, ex.ErrorId);
            Assert.Equal(3, _etcd.Status().MemberCount);
        }

        [Fact]
        public void UnreachableEndpointGivesAClearError()
        {
            var ex = Assert.Throws<ClusterDrException>(() => EtcdBackup.Run(new EtcdBackupRequest { Endpoint = new Uri("http://127.0.0.1:" + TestEnv.FreePorts(1)), Directory = _out }, new RecordingContext()));
            Assert.Equal(ErrorIds.EndpointUnreachable, ex.ErrorId);
            Assert.Empty(Directory.GetFileSystemEntries(_out));
        }
    }
}
