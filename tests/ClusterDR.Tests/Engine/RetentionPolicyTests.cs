using System;
using System.Collections.Generic;
using System.Linq;
using ClusterDR.Backups;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>Retention by policy: restic forget's rules over backups of several kinds and clusters.</summary>
    public sealed class RetentionPolicyTests
    {
        private static ClusterBackup B(string kind, string cluster, DateTime created, bool? verified = null)
        {
            var m = new BackupManifest { Kind = kind, Cluster = cluster, CreatedUtc = created };
            string name = BackupArchiveWriter.DefaultFileName(kind, cluster, null, created);
            return new ClusterBackup(new ClusterDR.Stores.BackupLocation(null, "/backups/" + name), m, 100) { Verified = verified };
        }

        private static DateTime T(string s) => DateTime.SpecifyKind(DateTime.Parse(s, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);

        private static HashSet<DateTime> Kept(IEnumerable<RetentionDecision> d) => d.Where(x => x.Keep).Select(x => x.CreatedUtc).ToHashSet();

        [Fact]
        public void KeepDailyKeepsTheNewestOfEachOfTheLastDaysThatHaveABackup()
        {
            // Every 6 hours for 5 days, and a gap: 2026-11-28 has none.
            var backups = Enumerable.Range(0, 20).Select(i => B("etcd", "c1", T("2026-11-23T00:00:00").AddHours(6 * i)))
                .Where(b => b.CreatedUtc.Date != T("2026-11-25")).ToList();
            var d = new RetentionPolicy { KeepDaily = 3 }.Apply(backups);
            Assert.Equal(new[] { T("2026-11-27T18:00:00"), T("2026-11-26T18:00:00"), T("2026-11-24T18:00:00") }.ToHashSet(), Kept(d));
            Assert.Equal(backups.Count, d.Count);
            var kept = d.Single(x => x.CreatedUtc == T("2026-11-24T18:00:00"));
            Assert.Equal("kept: daily 2026-11-24 (3 of 3)", kept.Reason);
            Assert.StartsWith("not kept by the policy (daily 3)", d.First(x => !x.Keep).Reason);
        }

        [Fact]
        public void WeeksAreIsoWeeksAcrossTheYearEnd()
        {
            // 2026-12-28 (Mon) to 2027-01-03 (Sun) is 2026-W53; 2027-01-04 (Mon) starts 2027-W01; 2026-12-21 is in W52.
            var backups = new[] { "2026-12-21T01:00:00", "2026-12-28T01:00:00", "2026-12-31T01:00:00", "2027-01-03T23:00:00", "2027-01-04T00:30:00" }
                .Select(s => B("zookeeper", "zk", T(s))).ToList();
            var d = new RetentionPolicy { KeepWeekly = 3 }.Apply(backups);
            Assert.Equal(new[] { T("2027-01-04T00:30:00"), T("2027-01-03T23:00:00"), T("2026-12-21T01:00:00") }.ToHashSet(), Kept(d));
            Assert.Contains("weekly 2027-W01", d.Single(x => x.CreatedUtc == T("2027-01-04T00:30:00")).Reason);
            Assert.Contains("weekly 2026-W53", d.Single(x => x.CreatedUtc == T("2027-01-03T23:00:00")).Reason);
        }

        [Fact]
        public void RulesAddUpAndEachReasonIsGiven()
        {
            var backups = new[] { "2026-01-15", "2026-02-15", "2026-03-15", "2026-11-30", "2026-12-01T01:00:00", "2026-12-01T02:00:00" }
                .Select(s => B("swarm", "prod", T(s))).ToList();
            var d = new RetentionPolicy { KeepLast = 2, KeepMonthly = 4, KeepYearly = 1 }.Apply(backups);
            // Last 2: both of 12-01; monthly: 12-01 02:00, 11-30, 03-15, 02-15; yearly: 12-01 02:00.
            Assert.Equal(new[] { T("2026-12-01T02:00:00"), T("2026-12-01T01:00:00"), T("2026-11-30"), T("2026-03-15"), T("2026-02-15") }.ToHashSet(), Kept(d));
            Assert.Equal("kept: last 1 of 2; monthly 2026-12 (1 of 4); yearly 2026 (1 of 1)", d.Single(x => x.CreatedUtc == T("2026-12-01T02:00:00")).Reason);
        }

        [Fact]
        public void KeepWithinCountsFromTheNewestBackupNotFromNow()
        {
            // A cluster that stopped backing up a year ago keeps its last days, whatever today is.
            var backups = Enumerable.Range(0, 10).Select(i => B("etcd", "old", T("2025-06-01").AddDays(i))).ToList();
            var d = new RetentionPolicy { KeepWithin = TimeSpan.FromDays(3) }.Apply(backups);
            Assert.Equal(4, d.Count(x => x.Keep)); // the newest and the 3 days before it
            Assert.Contains("within 3d of the newest", d.First(x => x.Keep).Reason);
        }

        [Fact]
        public void EachKindAndClusterIsCountedApartAndTheSameBackupTwiceCountsOnce()
        {
            var t = T("2026-12-01T00:00:00");
            var backups = new List<ClusterBackup>
            {
                B("etcd", "a", t), B("etcd", "a", t.AddHours(1)), B("etcd", "A", t.AddHours(2)),
                B("etcd", "b", t), B("zookeeper", "a", t),
            };
            backups.Add(backups[0]);
            var d = new RetentionPolicy { KeepLast = 1 }.Apply(backups);
            Assert.Equal(5, d.Count);
            Assert.Equal(new[] { t.AddHours(2), t }.ToHashSet(), Kept(d)); // etcd/a's newest (cluster names ignore case), etcd/b, zookeeper/a
            Assert.Equal(3, d.Count(x => x.Keep));
            Assert.Equal(new[] { "etcd/A", "etcd/b", "zookeeper/a" }, d.Where(x => x.Keep).Select(x => x.Group).OrderBy(x => x, StringComparer.Ordinal));
        }

        [Fact]
        public void TheLastVerifiedBackupStaysUnlessTold()
        {
            var t = T("2026-12-01T00:00:00");
            var backups = new[] { B("etcd", "c", t, verified: true), B("etcd", "c", t.AddDays(1)), B("etcd", "c", t.AddDays(2)) };
            var d = new RetentionPolicy { KeepLast = 1 }.Apply(backups);
            Assert.True(d.Single(x => x.CreatedUtc == t).Keep);
            Assert.Contains("newest verified", d.Single(x => x.CreatedUtc == t).Reason);
            Assert.False(new RetentionPolicy { KeepLast = 1, RemoveLastVerified = true }.Apply(backups).Single(x => x.CreatedUtc == t).Keep);
            // A verified backup the policy keeps anyway: no extra one is kept.
            backups[2].Verified = true;
            Assert.False(new RetentionPolicy { KeepLast = 1 }.Apply(backups).Single(x => x.CreatedUtc == t).Keep);
        }

        [Fact]
        public void APolicyThatKeepsNothingIsRefused()
        {
            Assert.Equal(ErrorIds.RetentionPolicyInvalid, Assert.Throws<ClusterDrException>(() => new RetentionPolicy().Validate()).ErrorId);
            Assert.Equal(ErrorIds.RetentionPolicyInvalid, Assert.Throws<ClusterDrException>(() => new RetentionPolicy { KeepDaily = -1, KeepLast = 1 }.Validate()).ErrorId);
            Assert.Equal(ErrorIds.RetentionPolicyInvalid, Assert.Throws<ClusterDrException>(() => new RetentionPolicy { KeepWithin = TimeSpan.Zero }.Validate()).ErrorId);
        }
    }
}
