using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Etcd;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Etcd
{
    /// <summary>
    /// The engine from several threads at once, as several runspaces (ForEach-Object -Parallel, a runbook's runspace pool)
    /// drive it: five real single-member etcd clusters backed up at the same moment into one directory. Each backup holds its
    /// own cluster's data, and each operation's verbose and debug lines name only its own endpoint.
    /// </summary>
    public sealed class ParallelBackupTests : IDisposable
    {
        private const int Clusters = 5;
        private readonly List<EtcdTestCluster> _etcd = new List<EtcdTestCluster>();
        private readonly string _out = TestEnv.TempDir("etcd-parallel");

        public ParallelBackupTests()
        {
            try { for (int i = 0; i < Clusters; i++) _etcd.Add(new EtcdTestCluster(1)); }
            catch
            {
                Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (var e in _etcd) e.Dispose();
            try { Directory.Delete(_out, true); } catch { }
        }

        [Fact]
        public void FiveBackupsFromFiveThreadsAtOnceEachHoldTheirOwnClusterAndSayOnlyTheirOwnEndpoint()
        {
            // A different number of keys per cluster: the revisions differ too.
            for (int i = 0; i < Clusters; i++)
                for (int k = 0; k <= i * 3; k++) _etcd[i].Put($"cluster-{i}/key-{k}", $"value {i}.{k}");

            var results = new ClusterBackup[Clusters];
            var contexts = Enumerable.Range(0, Clusters).Select(_ => new RecordingContext()).ToArray();
            var errors = new Exception[Clusters];
            using var start = new Barrier(Clusters);
            var threads = Enumerable.Range(0, Clusters).Select(i => new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    results[i] = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = _etcd[i].Url(0), Directory = _out, Label = "parallel" }, contexts[i]);
                    results[i] = BackupVerifier.Verify(results[i].Path, contexts[i]);
                }
                catch (Exception ex) { errors[i] = ex; }
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(2)), "a backup did not finish");
            Assert.All(errors, e => Assert.Null(e));

            Assert.Equal(Clusters, results.Select(r => r.Path).Distinct().Count());
            Assert.Equal(Clusters, results.Select(r => r.Facts["clusterId"]).Distinct().Count());
            Assert.Equal(Clusters, results.Select(r => r.Facts["revision"]).Distinct().Count());
            for (int i = 0; i < Clusters; i++)
            {
                Assert.True(results[i].Verified);
                string own = _etcd[i].Url(0).Authority;
                var said = contexts[i].Verbose.Concat(contexts[i].Debug).ToList();
                Assert.Contains(said, l => l.Contains(own));
                for (int j = 0; j < Clusters; j++)
                    if (j != i) Assert.DoesNotContain(said, l => l.Contains(_etcd[j].Url(0).Authority));

                // The snapshot (bbolt keeps keys as they are) holds this cluster's keys and no other's.
                string snapshot = null;
                BackupArchiveReaderExtensions.ReadPayload(results[i].Path, "snapshot.db", s =>
                {
                    var ms = new MemoryStream();
                    s.CopyTo(ms);
                    snapshot = Encoding.Latin1.GetString(ms.ToArray());
                });
                Assert.Contains($"cluster-{i}/key-{i * 3}", snapshot);
                for (int j = 0; j < Clusters; j++)
                    if (j != i) Assert.DoesNotContain($"cluster-{j}/key-0", snapshot);
            }
        }
    }
}
