using System;
using System.Collections.Generic;
using System.Linq;

namespace ClusterDR
{
    /// <summary>
    /// RestoreResult.MovedAside: what a restore moved aside (never deleted), member or object → where it is now.
    /// A dictionary for scripts ($r.MovedAside['e1']) that reads as "e1 -> /path; e2 -> /path" wherever
    /// PowerShell turns it into text (string expansion, Out-String, a log line), in every restore result alike.
    /// </summary>
    public sealed class MovedAsideMap : Dictionary<string, string>
    {
        public MovedAsideMap() : base(StringComparer.Ordinal) { }

        public override string ToString() =>
            string.Join("; ", this.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + " -> " + kv.Value));
    }
}
