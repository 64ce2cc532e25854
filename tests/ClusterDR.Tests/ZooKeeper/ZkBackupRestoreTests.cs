using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using ClusterDR.ZooKeeper;
using Xunit;

namespace ClusterDR.Tests.ZooKeeper
{
    /// <summary>Real three-node ensembles on loopback: backup from one node, destroy, restore, guard and -WhatIf.</summary>
    public sealed class ZkBackupRestoreTests : IDisposable
    {
        private readonly string _out = TestEnv.TempDir("zk-out");
        public void Dispose() { try { Directory.Delete(_out, true); } catch { } }

        /// <summary>Runs a callback when the plan asks for a given step (the node is stopped at that moment).</summary>
        private sealed class HookContext : IOperationContext
        {
            public string OnAction;
            public Action Hook;
            public List<string> Asked { get; } = new List<string>();
            public List<string> Warnings { get; } = new List<string>();
            public Decision ShouldProcess(string target, string action)
            {
                Asked.Add(action + " @ " + target);
                if (OnAction != null && action.StartsWith(OnAction)) Hook();
                return Decision.Proceed;
            }
            public void WriteVerbose(string message) { }
            public void WriteWarning(string message) { lock (Warnings) Warnings.Add(message); }
            public void WriteDebug(string message) { }
            public void WriteProgress(ProgressInfo progress) { }
            public CancellationToken Cancellation => CancellationToken.None;
        }

        private static IEnumerable<KeyValuePair<string, string>> TestZnodes()
        {
            yield return new KeyValuePair<string, string>("/app", "root");
            for (int i = 0; i < 25; i++) yield return new KeyValuePair<string, string>("/app/k" + i, "value-" + i);
            yield return new KeyValuePair<string, string>("/app/k3/deep", "nested");
            yield return new KeyValuePair<string, string>("/other", "x");
        }

        [Fact]
        public void BackupFromOneNodeWhileTheOthersServeThenDestroyAllAndRestoreBringsBackEveryZnode()
        {
            using var zk = new ZkTestEnsemble(3);
            using var ssh = new SshTestServer();
            zk.Create(TestZnodes(), member: 1);
            var expected = zk.Dump(2);
            Assert.Equal(28, expected.Count);

            // Back up z1 through the real OpenSSH transport; while it is stopped, clients of z2 keep working.
            var spec = zk.Members[0];
            var member = new ZkMemberSpec { Name = spec.Name, ClientAddress = spec.ClientAddress, DataDir = spec.DataDir, StartCommand = spec.StartCommand, StopCommand = spec.StopCommand, Node = ssh.Node };
            string during = null;
            bool stoppedDuringCopy = false;
            var ctx = new HookContext
            {
                OnAction = "Copy version-2",
                Hook = () =>
                {
                    stoppedDuringCopy = !zk.IsRunning(0);
                    during = zk.Cli(new[] { "create /during-backup yes" }, member: 1);
                },
            };
            var backup = ZkBackup.Run(new ZkBackupRequest { Member = member, Servers = zk.Servers, Directory = _out, Label = "dr", Ssh = ssh.Options }, ctx);
            Assert.True(stoppedDuringCopy);
            Assert.Contains("Created /during-backup", during);
            Assert.True(zk.IsRunning(0));
            Assert.Null(ZkStatusReader.Problem(zk.Status()));

            // A rehearsal serves the backup on a standalone server of the version the ensemble runs (the matrix's jars
            // come through -ToolPath), with the zxid and znode count recorded when z1 stopped.
            string cp = Environment.GetEnvironmentVariable("ZK_CLASSPATH");
            var options = new ClusterDR.Rehearsal.RehearsalOptions { ToolPath = string.IsNullOrEmpty(cp) ? new string[0] : new[] { Path.GetDirectoryName(cp.Split(':')[0]) } };
            var rehearsal = ClusterDR.Rehearsal.BackupRehearsal.Run(backup.Location, options, new RecordingContext()).Rehearsal;
            Assert.True(rehearsal.Passed, string.Join("; ", rehearsal.Checks.Select(c => c.ToString())));
            Assert.Equal((string)backup.Facts["znodeCount"], rehearsal.Checks.Single(c => c.Name == "znodes").Found);
            string expectZk = Environment.GetEnvironmentVariable("CLUSTERDR_EXPECT_ZOOKEEPER");
            if (!string.IsNullOrEmpty(expectZk)) Assert.StartsWith("ZooKeeper " + expectZk, rehearsal.Server);
            Assert.Equal("zookeeper", backup.Manifest.Kind);
            Assert.Equal("1", backup.Manifest.Fact("myid"));
            Assert.Contains("server.3=127.0.0.1:", backup.Manifest.Fact("servers"));
            Assert.True(long.Parse(backup.Manifest.Fact("znodeCount")) >= 28 + 3);
            // Transaction logs carry the data, and their preallocated padding was not archived.
            var logs = backup.Manifest.Files.Where(f => f.Path.StartsWith("version-2/log.")).ToList();
            Assert.NotEmpty(logs);
            Assert.All(logs, f => Assert.True(f.Size < 1024 * 1024, f.ToString()));
            Assert.True(long.Parse(backup.Manifest.Fact("trimmedLogBytes")) > 0);
            Assert.Contains(backup.Manifest.Files, f => f.Path.StartsWith("version-2/snapshot."));
            var verified = BackupVerifier.Verify(backup.Path, new RecordingContext(), ZkBackup.Kind);
            Assert.Contains("ZooKeeper snapshot/log headers match", verified.Verification);

            zk.DestroyAll();
            // z2 is restored through OpenSSH too.
            var members = zk.Members.Select((m, i) => new ZkMemberSpec
            {
                Id = m.Id, Name = m.Name, ClientAddress = m.ClientAddress, DataDir = m.DataDir, StartCommand = m.StartCommand, StopCommand = m.StopCommand,
                Node = i == 1 ? ssh.Node : "localhost",
            }).ToList();
            var rctx = new RecordingContext();
            var result = ZkRestore.Run(new ZkRestoreRequest { BackupPath = backup.Path, Members = members, Ssh = ssh.Options }, rctx);

            Assert.Equal(3, result.Status.HealthyCount);
            Assert.Single(result.Status.Members, m => m.IsLeader);
            // Each stop and start names its command, as Backup-ZkState's do.
            Assert.Contains(rctx.Asked, a => a == $"Stop ZooKeeper ({members[1].StopCommand}) @ ZooKeeper server z2 ({ssh.Node})");
            Assert.Contains(rctx.Asked, a => a == $"Start ZooKeeper ({members[1].StartCommand}) @ ZooKeeper server z2 ({ssh.Node})");
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(expected, zk.Dump(i));
                Assert.Equal(zk.Members[i].Id.ToString(), File.ReadAllText(Path.Combine(zk.Members[i].DataDir, "myid")).Trim());
            }
            // The destroyed dirs were absent: nothing to move aside.
            Assert.Empty(result.MovedAside);
            // The restored ensemble accepts writes.
            Assert.Contains("Created /after-restore", zk.Cli(new[] { "create /after-restore ok" }, member: 2));
        }

        [Fact]
        public void GuardRefusalsAndWhatIfLeaveEveryNodeAndDataDirUntouched()
        {
            using var zk = new ZkTestEnsemble(3);
            zk.Create(TestZnodes().Take(5));
            string Signature() => string.Join("\n", zk.Members.Select((m, i) => zk.Pid(i) + " " + DirSignature.Of(m.DataDir) + " " + string.Join(",", DirSignature.Siblings(m.DataDir))));
            var before = Signature();

            // -WhatIf on a backup: every step reported, nothing stopped, no archive.
            var whatIf = new RecordingContext(Decision.WhatIf);
            Assert.Null(ZkBackup.Run(new ZkBackupRequest { Member = zk.Members[0], Servers = zk.Servers, Directory = _out }, whatIf));
            Assert.Contains(whatIf.Asked, a => a.StartsWith("Stop ZooKeeper"));
            Assert.Contains(whatIf.Asked, a => a.StartsWith("Start ZooKeeper"));
            Assert.Empty(Directory.GetFileSystemEntries(_out));
            Assert.Equal(before, Signature());

            var backup = ZkBackup.Run(new ZkBackupRequest { Member = zk.Members[0], Servers = zk.Servers, Directory = _out }, new RecordingContext());
            zk.WaitServing(TimeSpan.FromSeconds(30));
            before = Signature();
            var pids = before;

            // A restore refuses a healthy ensemble, and an incomplete member list even with -Force.
            var healthy = Assert.Throws<ClusterDrException>(() => ZkRestore.Run(new ZkRestoreRequest { BackupPath = backup.Path, Members = zk.Members }, new RecordingContext()));
            Assert.Equal(ErrorIds.ClusterHealthy, healthy.ErrorId);
            var incomplete = Assert.Throws<ClusterDrException>(() => ZkRestore.Run(new ZkRestoreRequest { BackupPath = backup.Path, Members = zk.Members.Take(2).ToList(), Force = true }, new RecordingContext()));
            Assert.Equal(ErrorIds.EnsembleIncomplete, incomplete.ErrorId);
            // -WhatIf on a forced restore: the plan is reported, nothing happens.
            var rWhatIf = new RecordingContext(Decision.WhatIf);
            Assert.Null(ZkRestore.Run(new ZkRestoreRequest { BackupPath = backup.Path, Members = zk.Members, Force = true }, rWhatIf));
            Assert.Contains(rWhatIf.Asked, a => a.StartsWith("Move " + zk.Members[2].DataDir + " aside"));
            Assert.Equal(before, Signature());

            // With one node already down, backing up another would leave 1 of 3: refused, nothing stopped.
            zk.Stop(2);
            zk.WaitServingCount(2, TimeSpan.FromSeconds(30));
            var pid0 = zk.Pid(0);
            var refused = Assert.Throws<ClusterDrException>(() => ZkBackup.Run(new ZkBackupRequest { Member = zk.Members[0], Servers = zk.Servers, Directory = _out }, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, refused.ErrorId);
            // Either the guard saw both survivors (stopping one would leave 1 of 3) or, under load, a survivor still
            // re-electing or slow to answer (no quorum now): both refuse before anything is touched.
            Assert.Matches(@"would leave 1 healthy member\(s\) of 3|has [01] healthy member\(s\) of 3", refused.Message);
            Assert.Equal(pid0, zk.Pid(0));
            Assert.True(zk.IsRunning(0));
            Assert.Single(Directory.GetFiles(_out));
            // Naming only some servers does not hide the others: conf lists the whole ensemble.
            var partial = Assert.Throws<ClusterDrException>(() => ZkBackup.Run(new ZkBackupRequest { Member = zk.Members[0], Servers = new[] { zk.Servers[0] }, Directory = _out }, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, partial.ErrorId);
            // A spec with the wrong dataLogDir is refused before anything stops.
            zk.Start(2);
            zk.WaitServing(TimeSpan.FromSeconds(60));
            var wrongDir = new ZkMemberSpec { ClientAddress = zk.Members[0].ClientAddress, DataDir = zk.Members[0].DataDir, DataLogDir = "/var/tmp/elsewhere", StartCommand = zk.Members[0].StartCommand, StopCommand = zk.Members[0].StopCommand };
            var mismatch = Assert.Throws<ClusterDrException>(() => ZkBackup.Run(new ZkBackupRequest { Member = wrongDir, Servers = zk.Servers, Directory = _out }, new RecordingContext()));
            Assert.Equal(ErrorIds.DataDirMismatch, mismatch.ErrorId);
            Assert.Equal(pid0, zk.Pid(0));
        }

        [Fact]
        public void AFailedRestorePutsEveryOldDataDirBackAndStartsTheEnsembleAgain()
        {
            using var zk = new ZkTestEnsemble(3);
            zk.Create(new[] { new KeyValuePair<string, string>("/f", "before") });
            var backup = ZkBackup.Run(new ZkBackupRequest { Member = zk.Members[1], Servers = zk.Servers, Directory = _out }, new RecordingContext());
            zk.WaitServing(TimeSpan.FromSeconds(30));
            zk.Cli(new[] { "set /f newer" });
            for (int i = 0; i < 3; i++) zk.Stop(i);
            var original = zk.Members.Select(m => DirSignature.Of(m.DataDir)).ToArray();
            var members = zk.Members.Select(m => new ZkMemberSpec
            {
                Id = m.Id, Name = m.Name, ClientAddress = m.ClientAddress, DataDir = m.DataDir, StopCommand = m.StopCommand,
                StartCommand = m.Name == "z3" ? "echo cannot start z3 >&2; exit 1" : m.StartCommand,
            }).ToList();

            var ex = Assert.Throws<ClusterDrException>(() => ZkRestore.Run(new ZkRestoreRequest { BackupPath = backup.Path, Members = members }, new RecordingContext()));
            Assert.Equal(ErrorIds.RestoreFailed, ex.ErrorId);
            Assert.Contains("cannot start z3", ex.Message);
            Assert.Contains("ZooKeeper server z1 (localhost): stopped, original data dir back in place", ex.Message);
            Assert.Equal(original, zk.Members.Select(m => DirSignature.Of(m.DataDir)).ToArray());
            Assert.All(Enumerable.Range(0, 3), i => Assert.False(zk.IsRunning(i)));
            Assert.Contains(DirSignature.Siblings(zk.Members[0].DataDir), n => n.Contains(".clusterdr-failed-"));
            for (int i = 0; i < 3; i++) zk.Start(i);
            zk.WaitServing(TimeSpan.FromSeconds(60));
            Assert.Equal("newer", zk.Dump()["/f"]);
        }
    }
}
