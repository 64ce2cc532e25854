using System.IO.Compression;
using ClusterDR.Backups;

namespace ClusterDR
{
    /// <summary>
    /// -ArchiveFormat and -CompressionLevel, which every Backup- cmdlet takes with the same meaning. The format is a
    /// string (ValidateSet) because a public cmdlet type may not hold an engine value type (it loads before lib/).
    /// </summary>
    internal static class ArchiveParameters
    {
        public const string Zstd = "Zstd", Gzip = "Gzip";

        public static ArchiveOptions Options(string format, CompressionLevel level) => new ArchiveOptions
        {
            Format = string.Equals(format, Gzip, System.StringComparison.OrdinalIgnoreCase) ? ArchiveFormat.Gzip : ArchiveFormat.Zstd,
            CompressionLevel = level,
        };
    }
}
