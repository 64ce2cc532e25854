using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using ClusterDR.Etcd;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Etcd
{
    /// <summary>Destructive flows: each test gets its own real 3-member cluster.</summary>
    public sealed class EtcdDisasterRecoveryTests : IDisposable
    {
        private readonly string _out = TestEnv.TempDir("etcd-dr");
        public void Dispose() { try { Directory.Delete(_out, true); } catch { } }

        [Fact]
        public void BackupFromAMemberThatLostQuorumIsRefusedUnlessForced()
        {
            using var etcd = new EtcdTestCluster(3);
            etcd.Put("/k", "v");
            etcd.Stop(1);
            etcd.Stop(2);
            var ex = Assert.Throws<ClusterDrException>(() => EtcdBackup.Run(new EtcdBackupRequest { Endpoint = etcd.Url(0), Directory = _out }, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, ex.ErrorId);
            // etcd 3.4's survivor may still name its old leader for a moment; 3.5 reports "no leader" at once.
            Assert.Matches(@"[01] healthy member\(s\) of 3", ex.Message);
            Assert.Empty(Directory.GetFileSystemEntries(_out));

            var ctx = new RecordingContext();
            var forced = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = etcd.Url(0), Directory = _out, Force = true }, ctx);
            Assert.True(File.Exists(forced.Path));
            Assert.Contains(ctx.Warnings, w => w.Contains("stale"));
        }

        [Fact]
        public void FullDisasterRecoveryAfterTwoMembersAreDestroyedBringsBackExactlyTheSnapshot()
        {
            using var etcd = new EtcdTestCluster(3);
            using var ssh = new SshTestServer();
            for (int i = 0; i < 20; i++) etcd.Put("/dr/k" + i, "v" + i);
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = etcd.Url(0), Directory = _out }, new RecordingContext());
            var expected = etcd.All();
            etcd.Put("/dr/after-backup", "must not come back");
            long revisionAfterBackup;
            using (var c = etcd.Client(0)) c.Range("", System.Threading.CancellationToken.None, out revisionAfterBackup);
            etcd.Destroy(1);
            etcd.Destroy(2);

            // Member e2 is driven through the real OpenSSH transport.
            var members = etcd.Members.Select((m, i) => new EtcdMemberSpec
            {
                Name = m.Name, PeerUrl = m.PeerUrl, ClientUrl = m.ClientUrl, DataDir = m.DataDir,
                StartCommand = m.StartCommand, StopCommand = m.StopCommand,
                Node = i == 1 ? ssh.Node : "localhost",
            }).ToList();
            // -WhatIf describes exactly the run that follows: the destroyed members' data dirs are not "moved aside".
            var whatIf = new RecordingContext(Decision.WhatIf);
            Assert.Null(EtcdRestore.Run(new EtcdRestoreRequest { BackupPath = backup.Path, Members = members, Ssh = ssh.Options, InitialClusterToken = "restored-1" }, whatIf));
            Assert.Single(whatIf.Asked, a => a.StartsWith("Move data dir " + members[0].DataDir + " aside", StringComparison.Ordinal));
            Assert.DoesNotContain(whatIf.Asked, a => a.StartsWith("Move data dir " + members[1].DataDir, StringComparison.Ordinal) || a.StartsWith("Move data dir " + members[2].DataDir, StringComparison.Ordinal));
            var ctx = new RecordingContext();
            var result = EtcdRestore.Run(new EtcdRestoreRequest { BackupPath = backup.Path, Members = members, Ssh = ssh.Options, InitialClusterToken = "restored-1" }, ctx);
            static string Unstamped(string step) => Regex.Replace(step, @"\d{8}T\d{6}Z", "STAMP");
            Assert.Equal(whatIf.Asked.Select(Unstamped), ctx.Asked.Select(Unstamped));

            Assert.Equal(expected, etcd.All(0));
            Assert.Equal(expected, etcd.All(2));
            Assert.DoesNotContain("/dr/after-backup", etcd.All(1).Keys);
            var status = etcd.Status();
            Assert.Equal(3, status.HealthyCount);
            Assert.Equal(result.Revision, status.Revision);
            Assert.True(result.Revision >= long.Parse(backup.Manifest.Fact("revision")));
            // The survivor's old data (still live until the restore stopped it) was moved aside, never deleted.
            Assert.Equal(new[] { "e1" }, result.MovedAside.Keys.ToArray());
            var oldDb = Path.Combine(result.MovedAside["e1"], "member", "snap", "db");
            var oldStatus = Newtonsoft.Json.Linq.JObject.Parse(Shell.Run("sh", "-c", "ETCDCTL_API=3 etcdctl snapshot status -w json " + oldDb));
            Assert.Equal(revisionAfterBackup, (long)oldStatus["revision"]);
            Assert.Contains(ctx.Asked, a => a.Contains("Stop etcd @ etcd member e2 (" + ssh.Node + ")"));
            Assert.DoesNotContain(DirSignature.Siblings(etcd.Members[0].DataDir), n => n.EndsWith(".snapshot.db"));
            // The restored cluster accepts writes.
            etcd.Put("/dr/new", "ok", 2);
            Assert.Equal("ok", etcd.All(0)["/dr/new"]);
        }

        [Fact]
        public void AFailedRestorePutsEveryOldDataDirBackAndSaysWhereEachMemberIs()
        {
            using var etcd = new EtcdTestCluster(3);
            etcd.Put("/f/k", "before");
            var backup = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = etcd.Url(0), Directory = _out }, new RecordingContext());
            etcd.Put("/f/k", "newer");
            for (int i = 0; i < 3; i++) etcd.Stop(i);
            var original = etcd.Members.Select(m => DirSignature.Of(m.DataDir)).ToArray();
            var members = etcd.Members.Select(m => new EtcdMemberSpec
            {
                Name = m.Name, PeerUrl = m.PeerUrl, ClientUrl = m.ClientUrl, DataDir = m.DataDir, StopCommand = m.StopCommand,
                StartCommand = m.Name == "e3" ? "echo cannot start e3 >&2; exit 1" : m.StartCommand,
            }).ToList();

            var ex = Assert.Throws<ClusterDrException>(() => EtcdRestore.Run(new EtcdRestoreRequest { BackupPath = backup.Path, Members = members }, new RecordingContext()));
            Assert.Equal(ErrorIds.RestoreFailed, ex.ErrorId);
            Assert.Contains("cannot start e3", ex.Message);
            Assert.Contains("etcd member e1 (localhost): stopped, original data dir back in place", ex.Message);
            Assert.Equal(original, etcd.Members.Select(m => DirSignature.Of(m.DataDir)).ToArray());
            Assert.All(etcd.Members.Select((m, i) => i), i => Assert.False(etcd.IsRunning(i)));
            // The restored-but-abandoned dirs are kept aside for inspection, not deleted.
            Assert.Contains(DirSignature.Siblings(etcd.Members[0].DataDir), n => n.Contains(".clusterdr-failed-"));

            for (int i = 0; i < 3; i++) etcd.Start(i);
            etcd.WaitHealthy(TimeSpan.FromSeconds(30));
            Assert.Equal("newer", etcd.All()["/f/k"]);
        }

        [Fact]
        public void RepairReplacesALostMemberWhichThenHoldsEveryKey()
        {
            using var etcd = new EtcdTestCluster(3);
            for (int i = 0; i < 10; i++) etcd.Put("/r/k" + i, "v" + i);
            var oldId = etcd.Status().Members.Single(m => m.Name == "e3").Id;
            etcd.Destroy(2);
            etcd.Put("/r/while-down", "x");

            var result = EtcdRepair.Run(new EtcdRepairRequest { Endpoints = etcd.ClientUrls.Take(2).ToList(), Member = etcd.Members[2] }, new RecordingContext());
            var status = etcd.WaitHealthy(TimeSpan.FromSeconds(30));
            var e3 = status.Members.Single(m => m.Name == "e3");
            Assert.NotEqual(oldId, e3.Id);
            Assert.Equal(etcd.All(0), etcd.All(2));
            Assert.Equal("x", etcd.All(2)["/r/while-down"]);
            Assert.Equal(3, result.Status.HealthyCount);
        }

        [Fact]
        public void RepairRefusesWhenRemovingTheMemberWouldCostQuorum()
        {
            using var etcd = new EtcdTestCluster(3);
            etcd.Stop(1);
            etcd.Stop(2);
            var ex = Assert.Throws<ClusterDrException>(() => EtcdRepair.Run(new EtcdRepairRequest { Endpoints = etcd.ClientUrls, Member = etcd.Members[2] }, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, ex.ErrorId);
            Assert.Contains("Restore-EtcdSnapshot", ex.Message);
            Assert.NotEmpty(Directory.GetFileSystemEntries(etcd.Members[2].DataDir));
        }
    }
}
