using System;
using System.IO;
using System.Linq;
using System.Net;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Swarm;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Swarm
{
    /// <summary>Real dockerd in network namespaces (TESTING.md): backup, leave, restore, autolock, -WhatIf, guards, quorum loss.</summary>
    public sealed class SwarmManagerTests : IDisposable
    {
        private readonly string _out = TestEnv.TempDir("swarm-out");
        public void Dispose() { try { Directory.Delete(_out, true); } catch { } }

        [Fact]
        public void BackupLeaveRestoreBringsBackServicesSecretsConfigsAndNetworks()
        {
            using var net = new TestNetns();
            using var node = new DockerTestNode(net.Loopback(), "127.0.0.1");
            node.Init();
            node.Populate();
            var expected = node.Objects();
            using var sh = new LocalShell();

            // A single manager is refused without -Force: its management plane goes down.
            var refused = Assert.Throws<ClusterDrException>(() => SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = node.Options, Directory = _out }, new RecordingContext()));
            Assert.Equal(ErrorIds.QuorumAtRisk, refused.ErrorId);
            Assert.Empty(Directory.GetFileSystemEntries(_out));

            var ctx = new RecordingContext();
            var backup = SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = node.Options, Directory = _out, Force = true, Label = "one" }, ctx);
            Assert.True(node.Running);
            Assert.Equal("swarm", backup.Kind);
            Assert.Equal("2", backup.Facts["services"]);
            Assert.Equal("2", backup.Facts["secrets"]);
            Assert.Equal("1", backup.Facts["configs"]);
            Assert.Equal("false", backup.Facts["autolock"]);
            Assert.Equal("1", backup.Facts["managers"]);
            double down = double.Parse((string)backup.Facts["downtimeSeconds"]!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(down, 0.01, 30);
            Assert.Contains(backup.Files, f => f.Path.StartsWith("swarm/raft/wal-v3-encrypted/", StringComparison.Ordinal));
            Assert.Contains(ctx.Warnings, w => w.Contains("single manager"));
            Assert.True(BackupVerifier.Verify(backup.Path, new RecordingContext(), "swarm").Verified);

            // A rehearsal restores it into a throwaway dockerd (the one on PATH: 26 in the version matrix) in a network
            // namespace of its own; the node under test keeps running untouched.
            var rehearsal = ClusterDR.Rehearsal.BackupRehearsal.Run(backup.Location, new ClusterDR.Rehearsal.RehearsalOptions(), new RecordingContext()).Rehearsal;
            Assert.True(rehearsal.Passed, string.Join("; ", rehearsal.Checks.Select(c => c.ToString())));
            Assert.Equal("2", rehearsal.Checks.Single(c => c.Name == "services").Found);
            string expectDocker = Environment.GetEnvironmentVariable("CLUSTERDR_EXPECT_DOCKER");
            if (!string.IsNullOrEmpty(expectDocker)) Assert.StartsWith("dockerd " + expectDocker, rehearsal.Server);
            Assert.True(node.Running);

            node.Docker("swarm", "leave", "--force");
            Assert.Equal("inactive", node.Docker("info", "--format", "{{.Swarm.LocalNodeState}}"));

            var result = SwarmRestore.Run(new SwarmRestoreRequest
            {
                BackupPath = backup.Path, Shell = sh, Options = node.Options, AdvertiseAddress = "127.0.0.1", ListenAddress = "127.0.0.1:2377",
            }, new RecordingContext());
            Assert.Equal(expected, node.Objects());
            Assert.Equal(backup.Cluster, node.Docker("info", "--format", "{{.Swarm.Cluster.ID}}"));
            Assert.True(result.Swarm.HasQuorum);
            Assert.Null(result.UnlockKey);
            Assert.Single(result.MovedAside);
            Assert.True(Directory.Exists(result.MovedAside.Values.Single()));

            // The host is now the manager of a healthy swarm: a second restore is refused.
            var guard = Assert.Throws<ClusterDrException>(() => SwarmRestore.Run(new SwarmRestoreRequest { BackupPath = backup.Path, Shell = sh, Options = node.Options }, new RecordingContext()));
            Assert.Equal(ErrorIds.ClusterHealthy, guard.ErrorId);

            // A restore that fails part-way (an address this host does not have) undoes itself: the old swarm dir is back, Docker runs it.
            var failed = Assert.Throws<ClusterDrException>(() => SwarmRestore.Run(new SwarmRestoreRequest
            {
                BackupPath = backup.Path, Shell = sh, Options = node.Options, Force = true, AdvertiseAddress = "10.254.254.254", ListenAddress = "10.254.254.254:2377",
            }, new RecordingContext()));
            Assert.Equal(ErrorIds.RestoreFailed, failed.ErrorId);
            Assert.Contains("original swarm", failed.Message);
            Assert.True(node.Running);
            Assert.Equal("active", node.Docker("info", "--format", "{{.Swarm.LocalNodeState}}"));
            Assert.Equal(expected, node.Objects());
            Assert.Empty(Directory.GetFiles(node.DataRoot, "*.owner"));
        }

        [Fact]
        public void AutolockedBackupRestoresWithTheKeyAndHandsBackANewOne()
        {
            using var net = new TestNetns();
            using var node = new DockerTestNode(net.Loopback(), "127.0.0.1");
            node.Init();
            node.Populate();
            node.Docker("swarm", "update", "--autolock=true");
            var expected = node.Objects();
            using var sh = new LocalShell();
            var key = SwarmUnlockKeys.Get(sh, node.Options, new RecordingContext());
            string plain = new NetworkCredential("", key).Password;
            Assert.StartsWith("SWMKEY-", plain);

            var noKey = Assert.Throws<ClusterDrException>(() => SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = node.Options, Directory = _out, Force = true }, new RecordingContext()));
            Assert.Equal(ErrorIds.UnlockKeyRequired, noKey.ErrorId);
            Assert.True(node.Running);

            var ctx = new RecordingContext();
            var backup = SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = node.Options, Directory = _out, Force = true, UnlockKey = key }, ctx);
            Assert.Equal("true", backup.Facts["autolock"]);
            Assert.Equal("active", node.Docker("info", "--format", "{{.Swarm.LocalNodeState}}"));
            Assert.DoesNotContain(ctx.Verbose.Concat(ctx.Warnings).Concat(ctx.Asked), m => m.Contains(plain));

            node.Docker("swarm", "leave", "--force");
            var needsKey = Assert.Throws<ClusterDrException>(() => SwarmRestore.Run(new SwarmRestoreRequest { BackupPath = backup.Path, Shell = sh, Options = node.Options }, new RecordingContext()));
            Assert.Equal(ErrorIds.UnlockKeyRequired, needsKey.ErrorId);

            var rctx = new RecordingContext();
            var result = SwarmRestore.Run(new SwarmRestoreRequest
            {
                BackupPath = backup.Path, Shell = sh, Options = node.Options, AdvertiseAddress = "127.0.0.1", ListenAddress = "127.0.0.1:2377", UnlockKey = key,
            }, rctx);
            Assert.Equal(expected, node.Objects());
            Assert.NotNull(result.UnlockKey);
            string newKey = new NetworkCredential("", result.UnlockKey).Password;
            Assert.StartsWith("SWMKEY-", newKey);
            Assert.NotEqual(plain, newKey);
            Assert.Equal("true", node.Docker("info", "--format", "{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}"));
            Assert.DoesNotContain(rctx.Verbose.Concat(rctx.Warnings), m => m.Contains(plain) || m.Contains(newKey));

            // Rotation: -WhatIf changes nothing; a real rotation returns a key that differs from the current one.
            Assert.Null(SwarmUnlockKeys.Rotate(sh, node.Options, false, new RecordingContext(Decision.WhatIf)));
            Assert.Equal(newKey, new NetworkCredential("", SwarmUnlockKeys.Get(sh, node.Options, new RecordingContext())).Password);
            var rotated = new NetworkCredential("", SwarmUnlockKeys.Rotate(sh, node.Options, false, new RecordingContext())).Password;
            Assert.StartsWith("SWMKEY-", rotated);
            Assert.NotEqual(newKey, rotated);
            Assert.Equal(rotated, new NetworkCredential("", SwarmUnlockKeys.Get(sh, node.Options, new RecordingContext())).Password);
        }

        [Fact]
        public void TwentyRestoresInARowAllSucceed()
        {
            // About 1 restore in 30 used to fail at force-new-cluster with "bind: address already in use" (the
            // restored node's swarm side was still starting on the port). Twenty in a row, each a full restore.
            using var net = new TestNetns();
            using var node = new DockerTestNode(net.Loopback(), "127.0.0.1");
            node.Init();
            node.Populate();
            var expected = node.Objects();
            using var sh = new LocalShell();
            var backup = SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = node.Options, Directory = _out, Force = true }, new RecordingContext());
            for (int i = 0; i < 20; i++)
            {
                var result = SwarmRestore.Run(new SwarmRestoreRequest
                {
                    BackupPath = backup.Path, Shell = sh, Options = node.Options, Force = true, AdvertiseAddress = "127.0.0.1", ListenAddress = "127.0.0.1:2377",
                }, new RecordingContext());
                Assert.True(result.Swarm.HasQuorum, $"restore {i + 1}: no quorum");
                Assert.Equal(expected, node.Objects());
                foreach (var d in result.MovedAside.Values) Directory.Delete(d, true);
            }
        }

        [Fact]
        public void WhatIfLeavesDockerdRunningAndTheStateDirByteIdentical()
        {
            using var net = new TestNetns();
            using var node = new DockerTestNode(net.Loopback(), "127.0.0.1");
            node.Init();
            node.Docker("network", "create", "-d", "overlay", "ov1");
            using var sh = new LocalShell();
            var backup = SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = node.Options, Directory = _out, Force = true }, new RecordingContext());
            System.Threading.Thread.Sleep(1500);
            int pid = node.Pid;
            string before = DirSignature.Of(node.SwarmDir);

            var ctx = new RecordingContext(Decision.WhatIf);
            Assert.Null(SwarmBackup.Run(new SwarmBackupRequest { Shell = sh, Options = node.Options, Directory = Path.Combine(_out, "whatif"), Force = true }, ctx));
            Assert.Contains(ctx.Asked, a => a.StartsWith("Stop Docker"));
            var rctx = new RecordingContext(Decision.WhatIf);
            Assert.Null(SwarmRestore.Run(new SwarmRestoreRequest { BackupPath = backup.Path, Shell = sh, Options = node.Options, Force = true }, rctx));
            Assert.Contains(rctx.Asked, a => a.StartsWith("Force a new cluster"));
            var qctx = new RecordingContext(Decision.WhatIf);
            Assert.Null(SwarmRepair.Run(new SwarmRepairRequest { Shell = sh, Options = node.Options, Force = true }, qctx));

            Assert.Equal(pid, node.Pid);
            Assert.True(node.Running);
            Assert.Equal(before, DirSignature.Of(node.SwarmDir));
            Assert.False(Directory.Exists(Path.Combine(_out, "whatif")) && Directory.GetFiles(Path.Combine(_out, "whatif")).Length > 0);
            Assert.Single(Directory.GetDirectories(node.DataRoot, "swarm*"));
        }

        [Fact]
        public void ThreeManagersGuardTheBackupAndRepairRecoversTheSurvivorOfTwoLosses()
        {
            using var net = new TestNetns();
            var hosts = net.Bridged(3);
            var nodes = hosts.Select(h => new DockerTestNode(h.Netns, h.Address)).ToArray();
            try
            {
                nodes[0].Init();
                string token = nodes[0].Docker("swarm", "join-token", "-q", "manager");
                for (int i = 1; i < 3; i++) nodes[i].Docker("swarm", "join", "--token", token, "--advertise-addr", hosts[i].Address, "--listen-addr", hosts[i].Address + ":2377", hosts[0].Address + ":2377");
                nodes[0].DockerWithInput("x", "secret", "create", "s1", "-");
                nodes[0].Docker("network", "create", "-d", "overlay", "ov1");
                using var local = new LocalShell();
                var status = SwarmStatusReader.Read(local, nodes[0].Options, default);
                Assert.Equal(3, status.ManagerCount);
                Assert.True(status.HasQuorum);
                Assert.Equal(1, status.FaultTolerance);

                // Quorum intact: Repair-SwarmQuorum refuses.
                var healthy = Assert.Throws<ClusterDrException>(() => SwarmRepair.Run(new SwarmRepairRequest { Shell = local, Options = nodes[0].Options }, new RecordingContext()));
                Assert.Equal(ErrorIds.ClusterHealthy, healthy.ErrorId);

                // All three up: the backup goes ahead, through the OpenSSH transport.
                using (var ssh = new SshTestServer())
                using (var remote = ShellFactory.Create(ssh.Node, null, ssh.Options))
                {
                    var backup = SwarmBackup.Run(new SwarmBackupRequest { Shell = remote, Options = nodes[0].Options, Directory = _out }, new RecordingContext());
                    Assert.Equal("3", backup.Facts["managers"]);
                    Assert.Equal("1", backup.Facts["secrets"]);
                }

                // The backed-up manager rejoins raft a moment after Docker is back: let every manager be
                // reachable again, so the count below is the one this scenario is about.
                var settle = System.Diagnostics.Stopwatch.StartNew();
                while (SwarmStatusReader.Read(local, nodes[0].Options, default).ReachableManagers < 3 && settle.Elapsed < TimeSpan.FromSeconds(60))
                    System.Threading.Thread.Sleep(500);

                // One manager down: backing up another would leave 1 of 3.
                nodes[2].Stop();
                // Docker reports a stopped manager unreachable only after its heartbeat times out; under load that
                // takes a while. The scenario starts once the survivors see exactly one manager gone.
                settle.Restart();
                while (SwarmStatusReader.Read(local, nodes[0].Options, default).ReachableManagers != 2 && settle.Elapsed < TimeSpan.FromSeconds(60))
                    System.Threading.Thread.Sleep(500);
                var ex = Assert.Throws<ClusterDrException>(() => SwarmBackup.Run(new SwarmBackupRequest { Shell = local, Options = nodes[0].Options, Directory = Path.Combine(_out, "no") }, new RecordingContext()));
                Assert.Equal(ErrorIds.QuorumAtRisk, ex.ErrorId);
                Assert.Contains("1 healthy member(s) of 3", ex.Message);
                Assert.True(nodes[0].Running);
                Assert.False(Directory.Exists(Path.Combine(_out, "no")) && Directory.GetFiles(Path.Combine(_out, "no")).Length > 0);

                // Two managers down: the survivor has no quorum; its probe of their swarm ports (from its own
                // namespace, as on its host) proves them down; repair recovers it.
                nodes[1].Stop();
                using var survivor = new NetnsShell(hosts[0].Netns);
                var lost = SwarmStatusReader.Read(survivor, nodes[0].Options, default);
                Assert.False(lost.HasQuorum);
                Assert.All(lost.Managers.Where(m => m.Id != lost.NodeId), m => Assert.True(m.ProvenDown, m.Problem));
                // Without quorum the unlock key cannot be rotated (a raft write): the guard says so first.
                var rotate = Assert.Throws<ClusterDrException>(() => SwarmUnlockKeys.Rotate(survivor, nodes[0].Options, false, new RecordingContext()));
                Assert.Equal(ErrorIds.QuorumAtRisk, rotate.ErrorId);
                var ctx = new RecordingContext();
                var result = SwarmRepair.Run(new SwarmRepairRequest
                {
                    Shell = survivor, Options = nodes[0].Options, AdvertiseAddress = hosts[0].Address, ListenAddress = hosts[0].Address + ":2377",
                }, ctx);
                Assert.True(result.Swarm.IsManager);
                Assert.NotNull(result.Swarm.Leader);
                Assert.Equal("s1", nodes[0].Docker("secret", "ls", "--format", "{{.Name}}"));
                nodes[0].DockerWithInput("y", "secret", "create", "after-repair", "-");
            }
            finally
            {
                foreach (var n in nodes) n.Dispose();
            }
        }
    }
}
