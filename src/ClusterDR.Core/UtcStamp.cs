using System;
using System.Globalization;

namespace ClusterDR
{
    /// <summary>The one UTC time stamp ClusterDR writes into names (backup files, moved-aside data dirs): 20240612T041500Z.</summary>
    public static class UtcStamp
    {
        public static string Of(DateTime utc) => utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

        public static string Now() => Of(DateTime.UtcNow);
    }
}
