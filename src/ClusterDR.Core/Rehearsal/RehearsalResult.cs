using System;
using System.Collections.Generic;
using System.Linq;

namespace ClusterDR.Rehearsal
{
    /// <summary>One comparison of a rehearsal: what the backup recorded, what the throwaway server showed (type name ClusterDR.Rehearsal.RehearsalCheck).</summary>
    public sealed class RehearsalCheck
    {
        public RehearsalCheck(string name, string expected, string found, bool passed)
        {
            Name = name; Expected = expected; Found = found; Passed = passed;
        }

        public string Name { get; }
        public string Expected { get; }
        public string Found { get; }
        public bool Passed { get; }

        public override string ToString() => $"{Name}: {(Passed ? "passed" : "FAILED")} (expected {Expected}, found {Found})";
    }

    /// <summary>
    /// What a rehearsal did and found (type name ClusterDR.Rehearsal.RehearsalResult): the backup's Rehearsal property after
    /// Test-ClusterBackup -Rehearse. Passed only when every check passed; NotCompared names what an older backup did not
    /// record, so it could not be compared.
    /// </summary>
    public sealed class RehearsalResult
    {
        private readonly List<RehearsalCheck> _checks = new List<RehearsalCheck>();
        private readonly List<string> _notCompared = new List<string>();

        public RehearsalResult(string kind) { Kind = kind; StartedUtc = DateTime.UtcNow; }

        public string Kind { get; }
        /// <summary>What served the restored data: "etcd 3.5.16 on 127.0.0.1:40213" …</summary>
        public string Server { get; internal set; }
        public DateTime StartedUtc { get; }
        public TimeSpan Duration { get; internal set; }
        public bool Passed => _checks.Count > 0 && _checks.All(c => c.Passed);
        public RehearsalCheck[] Checks => _checks.ToArray();
        public string[] NotCompared => _notCompared.ToArray();
        public RehearsalCheck[] FailedChecks => _checks.Where(c => !c.Passed).ToArray();

        internal RehearsalCheck Add(string name, string expected, string found, bool passed)
        {
            var c = new RehearsalCheck(name, expected, found, passed);
            _checks.Add(c);
            return c;
        }

        internal void Add(string name, long expected, long found) =>
            Add(name, expected.ToString(System.Globalization.CultureInfo.InvariantCulture), found.ToString(System.Globalization.CultureInfo.InvariantCulture), expected == found);

        internal void CouldNotCompare(string what) => _notCompared.Add(what);

        public override string ToString() =>
            $"{(Passed ? "passed" : "FAILED")}: {_checks.Count(c => c.Passed)} of {_checks.Count} checks in {Duration.TotalSeconds:0.0} s" +
            (_notCompared.Count > 0 ? $"; not compared: {string.Join(", ", _notCompared)}" : "");
    }
}
