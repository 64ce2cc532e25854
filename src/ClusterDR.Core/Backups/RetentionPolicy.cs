using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Which backups a policy keeps, in the manner of restic's forget: per kind and cluster, the newest N; the newest of
    /// each of the last N hours, days, ISO weeks, months and years that have a backup (UTC); all within a duration of
    /// the newest. A backup is kept when any rule keeps it. Unless told, a group never loses its last verified backup.
    /// </summary>
    public sealed class RetentionPolicy
    {
        public int KeepLast { get; set; }
        public int KeepHourly { get; set; }
        public int KeepDaily { get; set; }
        public int KeepWeekly { get; set; }
        public int KeepMonthly { get; set; }
        public int KeepYearly { get; set; }
        /// <summary>Keep every backup created within this time of the group's newest (not of now: a cluster that stopped backing up keeps its last ones).</summary>
        public TimeSpan? KeepWithin { get; set; }
        /// <summary>Let the policy remove a group's last verified backup (Test-ClusterBackup passed) when it keeps only unverified ones.</summary>
        public bool RemoveLastVerified { get; set; }

        private IEnumerable<(string Name, int Count, Func<DateTime, string> Bucket)> Buckets()
        {
            yield return ("hourly", KeepHourly, t => t.ToString("yyyy-MM-dd HH':00'", CultureInfo.InvariantCulture));
            yield return ("daily", KeepDaily, t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            yield return ("weekly", KeepWeekly, t => IsoWeek(t));
            yield return ("monthly", KeepMonthly, t => t.ToString("yyyy-MM", CultureInfo.InvariantCulture));
            yield return ("yearly", KeepYearly, t => t.ToString("yyyy", CultureInfo.InvariantCulture));
        }

        private static string IsoWeek(DateTime t)
        {
            // ISO 8601: the week belongs to the year of its Thursday.
            int dow = ((int)t.DayOfWeek + 6) % 7;
            var thursday = t.Date.AddDays(3 - dow);
            int week = (thursday.DayOfYear - 1) / 7 + 1;
            return string.Format(CultureInfo.InvariantCulture, "{0}-W{1:00}", thursday.Year, week);
        }

        /// <summary>RetentionPolicyInvalid when nothing would be kept or a count is negative.</summary>
        public void Validate()
        {
            var counts = new[] { KeepLast, KeepHourly, KeepDaily, KeepWeekly, KeepMonthly, KeepYearly };
            if (counts.Any(c => c < 0) || (KeepWithin.HasValue && KeepWithin.Value < TimeSpan.Zero))
                throw new ClusterDrException(ErrorIds.RetentionPolicyInvalid, ErrorKind.InvalidArgument, "A retention count or duration cannot be negative.");
            if (counts.All(c => c == 0) && !(KeepWithin > TimeSpan.Zero))
                throw new ClusterDrException(ErrorIds.RetentionPolicyInvalid, ErrorKind.InvalidArgument,
                    "The policy keeps nothing: give at least one of -KeepLast, -KeepHourly, -KeepDaily, -KeepWeekly, -KeepMonthly, -KeepYearly or -KeepWithin. (To remove every backup, pipe them to Remove-ClusterBackup yourself.)");
        }

        /// <summary>A decision for every backup, newest first within each kind and cluster.</summary>
        public IList<RetentionDecision> Apply(IEnumerable<ClusterBackup> backups)
        {
            Validate();
            var all = new List<RetentionDecision>();
            var groups = backups.Where(b => b != null)
                .GroupBy(b => b.Location.Display, StringComparer.Ordinal).Select(g => g.First()) // the same backup given twice counts once
                .GroupBy(b => (Kind: (b.Kind ?? "").ToLowerInvariant(), Cluster: (b.Cluster ?? "").ToLowerInvariant()));
            foreach (var g in groups)
            {
                var list = g.OrderByDescending(b => b.CreatedUtc.ToUniversalTime()).ThenBy(b => b.Path, StringComparer.Ordinal).ToList();
                var reasons = list.Select(_ => new List<string>()).ToArray();
                for (int i = 0; i < list.Count && i < KeepLast; i++) reasons[i].Add($"last {i + 1} of {KeepLast}");
                foreach (var (name, count, bucket) in Buckets())
                {
                    if (count <= 0) continue;
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    for (int i = 0; i < list.Count && seen.Count < count; i++)
                    {
                        string k = bucket(list[i].CreatedUtc.ToUniversalTime());
                        if (seen.Add(k)) reasons[i].Add($"{name} {k} ({seen.Count} of {count})");
                    }
                }
                if (KeepWithin is TimeSpan within && within > TimeSpan.Zero)
                {
                    var newest = list[0].CreatedUtc.ToUniversalTime();
                    for (int i = 0; i < list.Count; i++)
                        if (newest - list[i].CreatedUtc.ToUniversalTime() <= within) reasons[i].Add($"within {Span(within)} of the newest");
                }
                if (!RemoveLastVerified && list.Any(b => b.Verified == true))
                {
                    bool keepsVerified = Enumerable.Range(0, list.Count).Any(i => reasons[i].Count > 0 && list[i].Verified == true);
                    int newestVerified = list.FindIndex(b => b.Verified == true);
                    if (!keepsVerified) reasons[newestVerified].Add("the group's newest verified backup: the policy keeps no other verified one (-RemoveLastVerified removes it)");
                }
                string group = $"{list[0].Kind}/{list[0].Cluster}";
                for (int i = 0; i < list.Count; i++)
                    all.Add(new RetentionDecision(list[i], group, reasons[i].Count > 0,
                        reasons[i].Count > 0 ? "kept: " + string.Join("; ", reasons[i]) : "not kept by the policy (" + Describe() + ")"));
            }
            return all;
        }

        /// <summary>The policy in its parameters' terms.</summary>
        public string Describe()
        {
            var parts = new List<string>();
            if (KeepLast > 0) parts.Add($"last {KeepLast}");
            foreach (var (name, count, _) in Buckets()) if (count > 0) parts.Add($"{name} {count}");
            if (KeepWithin > TimeSpan.Zero) parts.Add($"within {Span(KeepWithin.Value)}");
            return string.Join(", ", parts);
        }

        private static string Span(TimeSpan t) =>
            t.TotalDays >= 1 && t.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(int)t.TotalDays}d" :
            t.TotalHours >= 1 && t.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(int)t.TotalHours}h" : t.ToString();
    }

    /// <summary>
    /// What a retention policy decided for one backup, and why. FullName and Store bind Remove-ClusterBackup's
    /// -LiteralPath and -Store from the pipeline.
    /// </summary>
    public sealed class RetentionDecision
    {
        public RetentionDecision(ClusterBackup backup, string group, bool keep, string reason)
        {
            Backup = backup;
            Group = group;
            Keep = keep;
            Reason = reason;
        }

        public ClusterBackup Backup { get; }
        /// <summary>kind/cluster: the backups a policy counts together.</summary>
        public string Group { get; }
        public bool Keep { get; }
        public string Reason { get; }
        public string Name => Backup.Name;
        public string FullName => Backup.FullName;
        public Stores.BackupStore Store => Backup.Store;
        public string Kind => Backup.Kind;
        public string Cluster => Backup.Cluster;
        public DateTime CreatedUtc => Backup.CreatedUtc;
        public long SizeBytes => Backup.SizeBytes;

        public override string ToString() => FullName;
    }
}
